// qtk tokenize driven as a user would: stdout, stderr and exit codes.
#include <catch2/catch.hpp>

#include "test_support.h"

namespace qtk {
namespace {

using testing::RunQtk;

TEST_CASE("qtk tokenize: ids and pieces, with and without the BOS", "[cli][tokenize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const std::string model = (testdata / "models" / "Llama-3-synth").string();
  const auto text = RunQtk({"tokenize", model, "Hello world"});
  CHECK(text.exit_code == 0);
  CHECK(text.out == "128000\t<|begin_of_text|>\n9906\tHello\n1917\tĠworld\n");
  CHECK(text.err.empty());
  const auto json = RunQtk({"tokenize", model, "Hello world", "--no-special", "--json"});
  CHECK(json.exit_code == 0);
  CHECK(json.out == "{\"ids\":[9906,1917],\"pieces\":[\"Hello\",\"Ġworld\"]}\n");
}

TEST_CASE("qtk tokenize --jsonl: one array per line", "[cli][tokenize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string model = (testdata / "models" / "Llama-3-synth").string();
  const std::string lines = (tmp / "texts.jsonl").string();
  const std::string content = "\"Hello\"\n\"a\\nb\"\n";
  testing::WriteFileBytes(lines, std::vector<uint8_t>(content.begin(), content.end()));
  const auto result = RunQtk({"tokenize", model, "--jsonl", "--file", lines});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "[128000,9906]\n[128000,64,198,65]\n");
  const std::string bad = (tmp / "bad.jsonl").string();
  const std::string bad_content = "\"ok\"\n42\n";
  testing::WriteFileBytes(bad, std::vector<uint8_t>(bad_content.begin(), bad_content.end()));
  const auto refused = RunQtk({"tokenize", model, "--jsonl", "--file", bad});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK(refused.err == "qtk: error: " + bad + ":2: expected one json string\n");
}

TEST_CASE("qtk tokenize: a SentencePiece directory and a GGUF vocabulary",
          "[cli][tokenize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const std::string expected = "1\t<s>\n403\t▁Once\n407\t▁upon\n261\t▁a\n378\t▁time\n";
  for (const auto& model :
       {testdata / "models" / "stories260K", testdata / "gguf" / "stories260K.gguf"}) {
    INFO(model.string());
    const auto text = RunQtk({"tokenize", model.string(), "Once upon a time"});
    CHECK(text.exit_code == 0);
    CHECK(text.out == expected);
    CHECK(text.err.empty());
    const auto json = RunQtk({"tokenize", model.string(), "a\nb", "--no-special", "--json"});
    CHECK(json.exit_code == 0);
    CHECK(json.out == "{\"ids\":[261,13,430],\"pieces\":[\"▁a\",\"<0x0A>\",\"b\"]}\n");
  }
}

TEST_CASE("qtk tokenize: what it cannot read is refused in one line", "[cli][tokenize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string no_vocabulary =
      (testdata / "reference" / "llama.cpp" / "synth-a" / "imatrix" / "synth-a.imatrix.gguf")
          .string();
  const auto gguf = RunQtk({"tokenize", no_vocabulary, "hi"});
  CHECK(gguf.exit_code == 1);
  CHECK(gguf.err ==
        "qtk: error: " + no_vocabulary + ": no vocabulary (tokenizer.ggml.model is absent)\n");
  const auto none = RunQtk({"tokenize", tmp.path().string(), "hi"});
  CHECK(none.exit_code == 1);
  CHECK(none.err ==
        "qtk: error: " + tmp.path().string() + ": no tokenizer.json or tokenizer.model\n");
  const auto usage = RunQtk({"tokenize", tmp.path().string()});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err == "qtk: error: give either TEXT or --file\n");
}

}  // namespace
}  // namespace qtk
