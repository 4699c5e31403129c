// `qtk quantize` driven as a user drives it: exit codes, stdout, stderr and files.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "qtk/format/gguf.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::RunQtk;

std::string StoriesF32(const std::filesystem::path& testdata) {
  return (testdata / "reference/llama.cpp/stories260K/stories260K-convert-f32.gguf").string();
}

TEST_CASE("quantize writes the output and a size report", "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string out = (tmp / "out.gguf").string();
  const auto result = RunQtk({"quantize", StoriesF32(testdata), out, "F16", "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find("output  " + out + "  (F16)") != std::string::npos);
  CHECK(result.out.find("file 523.16 KiB (535,712 bytes)") != std::string::npos);
  CHECK(std::filesystem::file_size(out) == 535712);
  CHECK(ReadGgufFile(out).ok());
}

// Row-local schemes go through the chunked pipeline; --nan-policy keep takes the whole-tensor
// path. Both must write the same bytes, at any thread count, and so must one pass writing
// several types.
TEST_CASE("chunked and whole-tensor quantization and one pass write the same bytes",
          "[cli][quantize]") {
  testing::TempDir tmp;
  const std::string model = (tmp / "m").string();
  REQUIRE(RunQtk({"synth", model, "--seed", "4"}).exit_code == 0);
  const std::vector<std::string> types = {"int4-g128", "nf4", "int8-channel", "Q4_K_M", "Q8_0"};
  std::vector<std::vector<uint8_t>> single;
  for (const std::string& type : types) {
    INFO(type);
    std::vector<std::vector<uint8_t>> outputs;
    for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
             {"-j", "1"}, {"-j", "3"}, {"--nan-policy", "keep"}}) {
      const std::string out = (tmp / "out.gguf").string();
      std::vector<std::string> args = {"quantize", "-q", "-f", model, out, type};
      args.insert(args.end(), extra.begin(), extra.end());
      const auto result = RunQtk(args);
      INFO(result.err);
      REQUIRE(result.exit_code == 0);
      outputs.push_back(testing::ReadFileBytes(out));
    }
    CHECK(outputs[0] == outputs[1]);
    CHECK(outputs[0] == outputs[2]);
    single.push_back(outputs[0]);
  }
  // One pass writing every type: each output is the single run's bytes.
  const auto result =
      RunQtk({"quantize", "-q", model, "--type", "int4-g128,nf4,int8-channel,Q4_K_M,Q8_0", "-o",
              (tmp / "multi-{type}.gguf").string(), "-j", "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  for (size_t t = 0; t < types.size(); ++t) {
    INFO(types[t]);
    CHECK(testing::ReadFileBytes(tmp / ("multi-" + types[t] + ".gguf")) == single[t]);
  }
}

TEST_CASE("quantize --dry-run prints the plan and writes nothing", "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string out = (tmp / "out.gguf").string();
  const auto result = RunQtk({"quantize", "--dry-run", StoriesF32(testdata), out, "Q4_K_M"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find("plan for " + out) != std::string::npos);
  CHECK(result.out.find("blk.0.ffn_down.weight") != std::string::npos);
  CHECK(result.out.find("would write " + out) != std::string::npos);
  CHECK(result.err.find("qtk: warning: tensor 'blk.0.ffn_down.weight': 172 columns do not "
                        "divide into Q4_K's blocks of 256: using F16") != std::string::npos);
  CHECK(std::filesystem::is_empty(tmp.path()));
}

TEST_CASE("quantize --json prints one document on stdout", "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto result = RunQtk({"quantize", "--json", "--type", "F16,BF16", "-o",
                              (tmp / "m-{type}.gguf").string(), StoriesF32(testdata)});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto doc = nlohmann::json::parse(result.out);
  CHECK(doc["schema"] == "qtk.quantize/1");
  REQUIRE(doc["outputs"].size() == 2);
  CHECK(doc["outputs"][0]["path"] == (tmp / "m-F16.gguf").string());
  CHECK(doc["outputs"][1]["type"] == "BF16");
  CHECK(doc["outputs"][1]["file_bytes"] == std::filesystem::file_size(tmp / "m-BF16.gguf"));
}

TEST_CASE("quantize usage errors exit 2 with one line", "[cli][quantize]") {
  auto result = RunQtk({"quantize", "model.gguf"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "qtk: error: missing the quantization type (e.g. Q4_K_M, Q8_0, F16)\n");
  result = RunQtk({"quantize", "model.gguf", "out.gguf", "Q9_Z"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "qtk: error: 'Q9_Z' is neither a quantization type nor a thread count "
        "(see qtk quantize --help for the types)\n");
  result = RunQtk({"quantize", "--type", "F16,Q8_0", "-o", "out.gguf", "model.gguf"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "qtk: error: several types need '{type}' in the output name, e.g. -o "
        "'model-{type}.gguf'\n");
  result = RunQtk({"quantize", "--override-kv", "a=int:x", "model.gguf", "F16"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
}

TEST_CASE("quantize input errors exit 1 and leave no file", "[cli][quantize]") {
  testing::TempDir tmp;
  testing::WriteFileBytes(tmp / "bad.gguf", {'G', 'G', 'U', 'F', 7, 0, 0, 0});
  const auto result =
      RunQtk({"quantize", (tmp / "bad.gguf").string(), (tmp / "out.gguf").string(), "F16"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + (tmp / "bad.gguf").string() +
                          ": offset 4 (0x4): version: is 7, supported are 2 and 3\n");
  CHECK_FALSE(std::filesystem::exists(tmp / "out.gguf"));
  const auto missing = RunQtk({"quantize", (tmp / "nope.gguf").string(), "F16"});
  CHECK(missing.exit_code == 1);
  // Every path opens through OpenModel, so the message is the same as qtk inspect's.
  CHECK(missing.err ==
        "qtk: error: " + (tmp / "nope.gguf").string() + ": no such file or directory\n");
}

TEST_CASE("quantize refuses to overwrite unless --force", "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto out = tmp / "out.gguf";
  testing::WriteFileBytes(out, {42});
  auto result = RunQtk({"quantize", StoriesF32(testdata), out.string(), "F16"});
  CHECK(result.exit_code == 2);
  CHECK(testing::ReadFileBytes(out) == std::vector<uint8_t>{42});
  result = RunQtk({"quantize", "-f", StoriesF32(testdata), out.string(), "F16"});
  CHECK(result.exit_code == 0);
  CHECK(std::filesystem::file_size(out) == 535712);
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

TEST_CASE("quantize refuses to write over its input, even through a link or ..",
          "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto input = tmp / "model.gguf";
  std::filesystem::copy_file(StoriesF32(testdata), input);
  std::filesystem::create_directory(tmp / "sub");
  std::filesystem::create_symlink(input, tmp / "link.gguf");
  const auto before = testing::ReadFileBytes(input);
  for (const std::string& out : {input.string(), (tmp / "sub" / ".." / "model.gguf").string(),
                                 (tmp / "link.gguf").string()}) {
    const auto result = RunQtk({"quantize", "--force", input.string(), out, "F16"});
    INFO(out);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("refusing to overwrite the input") != std::string::npos);
  }
  CHECK(testing::ReadFileBytes(input) == before);
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

TEST_CASE("quantize --imatrix records the importance matrix and honours the filters",
          "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/synth-a";
  const std::string imatrix = (dir / "imatrix/synth-a.imatrix.gguf").string();
  testing::TempDir tmp;
  const std::string out = (tmp / "out.gguf").string();
  auto result =
      RunQtk({"quantize", "--imatrix", imatrix, "--exclude-weights", "blk.0.attn_q.weight",
              (dir / "synth-a-convert-f32.gguf").string(), out, "Q4_K_M"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto file = ReadGgufFile(out);
  REQUIRE(file.ok());
  CHECK(*file->FindValue("quantize.imatrix.file")->AsString() == imatrix);
  CHECK(file->FindValue("quantize.imatrix.entries_count")->AsUint() == 13u);
  CHECK(file->FindValue("quantize.imatrix.chunks_count")->AsUint() == 20u);
  result =
      RunQtk({"quantize", "--imatrix", (tmp / "missing.dat").string(),
              (dir / "synth-a-convert-f32.gguf").string(), (tmp / "b.gguf").string(), "Q4_K_M"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + (tmp / "missing.dat").string() + ": no such file\n");
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

TEST_CASE("with --type, a trailing number is the thread count; -q silences --dry-run",
          "[cli][quantize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto result =
      RunQtk({"quantize", "--dry-run", "--json", "--type", "F16", StoriesF32(testdata), "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto doc = nlohmann::json::parse(result.out);
  REQUIRE(doc["outputs"].size() == 1);
  CHECK(doc["outputs"][0]["type"] == "F16");
  result = RunQtk({"quantize", "-q", "--dry-run", StoriesF32(testdata), "Q4_K_M"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
}

}  // namespace
}  // namespace qtk
