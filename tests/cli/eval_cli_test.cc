// qtk eval driven as a user would: stdout (text and the qtk.eval/1 JSON), stderr, exit codes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace qtk {
namespace {

using testing::RunQtk;

TEST_CASE("qtk eval --json: one result per model, the base first", "[cli][eval][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/stories260K";
  const std::string tokens = (dir / "quality/stories260K-eval-tokens.json").string();
  const auto result = RunQtk({"eval", (dir / "stories260K-mix-Q4_K_M.gguf").string(), "--tokens",
                              tokens, "--ctx", "128", "--chunks", "4", "--base",
                              (dir / "stories260K-convert-f32.gguf").string(), "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(result.out);
  CHECK(doc["schema"] == "qtk.eval/1");
  CHECK(doc["n_ctx"] == 128);
  CHECK(doc["n_chunks"] == 4);
  CHECK(doc["n_scored"] == 4 * 63);
  REQUIRE(doc["results"].size() == 2);
  const nlohmann::json& base = doc["results"][0];
  const nlohmann::json& model = doc["results"][1];
  CHECK(base["type"] == "F32");
  CHECK(base["is_base"] == true);
  CHECK_FALSE(base.contains("kld_mean"));
  CHECK(model["type"] == "Q4_K_M");
  CHECK(model["perplexity"].get<double>() > 1.0);
  CHECK(model["kld_mean"].get<double>() > 0.0);
  CHECK(model["kld_p99"].get<double>() >= model["kld_mean"].get<double>());
  CHECK(model["same_top_p"].get<double>() > 0.5);
  CHECK(model["same_top_p"].get<double>() <= 1.0);

  const auto text = RunQtk({"eval", (dir / "stories260K-convert-f32.gguf").string(), "--tokens",
                            tokens, "--ctx", "128", "--chunks", "2"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.rfind("2 chunks of 128 tokens, 126 scored per model (each chunk starts with BOS); "
                       "activations as ggml's CPU backend rounds them\n",
                       0) == 0);
  CHECK(text.err.empty());  // no progress when stderr is not a terminal
}

TEST_CASE("qtk eval: qtk's generic schemes, read through WeightsOf", "[cli][eval][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto dir = testdata / "reference/llama.cpp/stories260K";
  const std::string f32 = (dir / "stories260K-convert-f32.gguf").string();
  const std::string nf4 = (tmp / "nf4.gguf").string();
  REQUIRE(RunQtk({"quantize", "-q", f32, nf4, "nf4"}).exit_code == 0);
  const auto result = RunQtk({"eval", nf4, "--base", f32, "--tokens",
                              (dir / "quality/stories260K-eval-tokens.json").string(), "--ctx",
                              "128", "--chunks", "8", "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const nlohmann::json model = nlohmann::json::parse(result.out)["results"][1];
  CHECK(model["type"] == "nf4");
  CHECK(model["kld_mean"].get<double>() > 0.01);  // 4-bit weights: far from the F32 floor
  CHECK(model["perplexity"].get<double>() >
        nlohmann::json::parse(result.out)["results"][0]["perplexity"].get<double>());
}

TEST_CASE("qtk eval --file: the model's own tokenizer", "[cli][eval][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const std::string text = (testdata / "text/stories260K-samples.txt").string();
  const auto result = RunQtk({"eval", (testdata / "models/Llama-3-synth").string(), "--file", text,
                              "--ctx", "64", "--chunks", "2", "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(result.out);
  CHECK(doc["bos_replaced"] == true);  // Llama 3 adds <|begin_of_text|>
  CHECK(doc["results"][0]["perplexity"].get<double>() > 1.0);
}

TEST_CASE("qtk eval: errors are one line and a non-zero exit", "[cli][eval][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/stories260K";
  const std::string model = (dir / "stories260K-convert-f32.gguf").string();
  const std::string tokens = (dir / "quality/stories260K-eval-tokens.json").string();

  const auto neither = RunQtk({"eval", model});
  CHECK(neither.exit_code == 2);
  CHECK(neither.err == "qtk: error: give either --file TEXT or --tokens IDS.json\n");

  const auto too_long = RunQtk({"eval", model, "--tokens", tokens, "--ctx", "10000"});
  CHECK(too_long.exit_code == 2);
  CHECK(too_long.err ==
        "qtk: error: " + tokens + ": 16256 tokens; a context of 10000 needs at least 20000\n");

  // --file tokenizes with the GGUF's own vocabulary, as llama-perplexity -f does: the same
  // chunks as llama.cpp's token ids, so the same perplexity.
  const auto from_text = RunQtk({"eval", model, "--file",
                                 (testdata / "text/stories260K-samples.txt").string(), "--ctx",
                                 "128", "--json"});
  const auto from_ids = RunQtk({"eval", model, "--tokens", tokens, "--ctx", "128", "--json"});
  REQUIRE(from_text.exit_code == 0);
  REQUIRE(from_ids.exit_code == 0);
  const auto text_json = nlohmann::json::parse(from_text.out);
  const auto ids_json = nlohmann::json::parse(from_ids.out);
  CHECK(text_json["n_scored"] == ids_json["n_scored"]);
  CHECK(text_json["results"][0]["perplexity"] == ids_json["results"][0]["perplexity"]);

  // A vocabulary the tokenizer refuses: its one line, exit 1.
  testing::TempDir bad_dir;
  const std::string bad = (bad_dir / "bad-vocab.gguf").string();
  REQUIRE(RunQtk({"quantize", model, bad, "F32", "-q", "--override-kv",
                  "tokenizer.ggml.model=str:gpt2"})
              .exit_code == 0);
  const auto no_tokenizer =
      RunQtk({"eval", bad, "--file", (testdata / "text/stories260K-samples.txt").string()});
  CHECK(no_tokenizer.exit_code == 1);
  CHECK(no_tokenizer.err == "qtk: error: " + bad +
                                ": tokenizer.ggml.pre is 'default': qtk encodes 'llama-bpe' and "
                                "'qwen2'\n");

  testing::TempDir tmp;
  const std::string bad_ids = (tmp / "ids.json").string();
  std::string ids = "[1";
  for (int i = 0; i < 300; ++i) ids += i == 200 ? ",512" : ",5";
  ids += "]";
  testing::WriteFileBytes(bad_ids, std::vector<uint8_t>(ids.begin(), ids.end()));
  const auto outside = RunQtk({"eval", model, "--tokens", bad_ids, "--ctx", "64"});
  CHECK(outside.exit_code == 1);
  CHECK(outside.err == "qtk: error: " + bad_ids + ": token 201 is 512, outside the vocabulary of " +
                           model + " (512 ids)\n");

  const auto kv = RunQtk({"eval", model, "--tokens", tokens, "--kv-type", "q5_1"});
  CHECK(kv.exit_code == 2);
  CHECK(kv.err == "qtk: error: --kv-type: 'q5_1' is not f16, q8_0 or q4_0\n");
  const auto small_heads = RunQtk({"eval", model, "--tokens", tokens, "--kv-type", "q8_0"});
  CHECK(small_heads.exit_code == 2);  // head size 8, as llama.cpp refuses it
  CHECK(small_heads.err.rfind("qtk: error: " + model + ": a quantized KV cache needs", 0) == 0);

  const auto missing = RunQtk({"eval", model + ".absent", "--tokens", tokens});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.empty());
}

}  // namespace
}  // namespace qtk
