// `qtk inspect`, run as a built binary: every handcrafted bad file of both formats, the real
// models in text and JSON, usage errors, and a 64 GiB model that must be inspected from its
// header alone.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bad_files.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;
using testing::RunQtk;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t Columns(const std::string& line) {
  size_t n = 0;
  for (char c : line) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const std::string& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST_CASE("qtk inspect: every handcrafted bad file fails cleanly, one line naming it", "[cli]") {
  testing::TempDir dir;
  auto files = testing::BadGgufFiles();
  const auto safetensors = testing::BadSafetensorsFiles();
  files.insert(files.end(), safetensors.begin(), safetensors.end());
  for (const testing::BadFile& bad : files) {
    const std::string path = (dir / bad.name).string();
    testing::WriteFileBytes(path, bad.bytes);
    const testing::CommandResult result = RunQtk({"inspect", path});
    INFO(bad.name << "\nstderr: " << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err == "qtk: error: " + path + ": " + bad.message + "\n");
    // --json changes nothing about failures: stdout stays empty.
    const testing::CommandResult json = RunQtk({"inspect", "--json", path});
    CHECK(json.exit_code == 1);
    CHECK(json.out.empty());
    CHECK(json.err == result.err);
  }
}

TEST_CASE("qtk inspect: broken checkpoints and unreadable paths exit 1", "[cli]") {
  testing::TempDir dir;
  fs::create_directories(dir / "model");
  testing::WriteFileBytes(dir / "model" / "config.json", {'{', '}'});
  const std::string index = R"({"weight_map":{"w":"model-1.safetensors"}})";
  testing::WriteFileBytes(dir / "model" / "model.safetensors.index.json",
                          std::vector<uint8_t>(index.begin(), index.end()));
  const std::string model = (dir / "model").string();
  struct Case {
    std::string path;
    std::string err;
  };
  const Case cases[] = {
      {model, (dir / "model" / "model.safetensors.index.json").string() +
                  ": offset 15 (0xf): weight_map 'w': shard 'model-1.safetensors' does not exist"},
      {(dir / "missing").string(), (dir / "missing").string() + ": no such file or directory"},
      {dir.path().string(),
       dir.path().string() + ": not a hugging face model directory: no config.json"},
      {"/dev/null", "/dev/null: not a regular file"},
  };
  for (const Case& c : cases) {
    const testing::CommandResult result = RunQtk({"inspect", c.path});
    INFO(c.path);
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err == "qtk: error: " + c.err + "\n");
  }
}

TEST_CASE("qtk inspect: bad usage exits 2", "[cli]") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"inspect"}, {"inspect", "a", "b"}, {"inspect", "--frobnicate", "x"}}) {
    const testing::CommandResult result = RunQtk(args);
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(result.err.rfind("qtk: error: ", 0) == 0);
  }
}

TEST_CASE("qtk inspect: real models, readable in 100 columns", "[cli][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (const fs::path& path :
       {testdata / "gguf" / "stories260K.gguf", testdata / "lora",
        testdata / "lora" / "adapter_model.safetensors", testdata / "models" / "synth-a",
        testdata / "models" / "stories260K-bf16-sharded" / "model.safetensors.index.json",
        testdata / "reference" / "llama.cpp" / "synth-a" / "synth-a-mix-Q4_K_M.gguf"}) {
    INFO(path.string());
    const testing::CommandResult result = RunQtk({"inspect", path.string()});
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    for (const std::string& line : Lines(result.out)) {
      INFO(line);
      CHECK(Columns(line) <= 100);
      CHECK((line.empty() || line.back() != ' '));
    }
  }
  const testing::CommandResult gguf =
      RunQtk({"inspect", (testdata / "gguf" / "stories260K.gguf").string()});
  CHECK(HasLine(gguf.out, "format       gguf v3, alignment 32"));
  CHECK(HasLine(gguf.out, "tensors      48"));
  CHECK(HasLine(gguf.out, "parameters   292,800 (292.80 K)"));
  CHECK(HasLine(gguf.out, "tensor data  1,171,200 bytes (1.12 MiB)"));
  CHECK(HasLine(gguf.out, "bits/weight  32.00"));
  CHECK(HasLine(gguf.out, "metadata (19 keys)"));
  CHECK(HasLine(gguf.out, "  llama.attention.layer_norm_rms_epsilon  f32       1e-05"));
  CHECK(HasLine(gguf.out, "  token_embd.weight         F32   512 x 64  131,072"));
  CHECK(HasLine(gguf.out, "  F32         48  1,171,200  100.0%     292,800        32.00"));

  const testing::CommandResult hf =
      RunQtk({"inspect", (testdata / "models" / "stories260K-bf16-sharded").string()});
  CHECK(HasLine(hf.out, "format       hf-directory: LlamaForCausalLM, safetensors, 3 shards"));
  CHECK(HasLine(hf.out, "tokenizer    tokenizer.model"));
  CHECK(HasLine(hf.out, "bits/weight  16.00"));
  CHECK(HasLine(hf.out, "  intermediate_size        172"));
  CHECK(HasLine(hf.out,
                "  model.layers.0.mlp.down_proj.weight             BF16  64 x 172  "
                "22,016     1"));
}

TEST_CASE("qtk inspect --json: one document with the same content", "[cli][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const testing::CommandResult gguf =
      RunQtk({"inspect", "--json", (testdata / "gguf" / "stories260K.gguf").string()});
  REQUIRE(gguf.exit_code == 0);
  CHECK(gguf.err.empty());
  const auto doc = nlohmann::json::parse(gguf.out);
  CHECK(doc["format"] == "gguf");
  CHECK(doc["version"] == 3);
  CHECK(doc["alignment"] == 32);
  CHECK(doc["files"].size() == 1);
  CHECK(doc["metadata"].size() == 19);
  const auto& tokens = doc["metadata"][0];
  CHECK(tokens["key"] == "tokenizer.ggml.tokens");
  CHECK(tokens["type"] == "arr[str]");
  CHECK(tokens["count"] == 512);
  CHECK(tokens["value"].size() == 8);
  CHECK(tokens["truncated"] == true);
  CHECK(doc["metadata"][18]["value"] == 1e-05);
  CHECK(doc["tensors"].size() == 48);
  const auto& embd = doc["tensors"][0];
  CHECK(embd["name"] == "token_embd.weight");
  CHECK(embd["type"] == "F32");
  CHECK(embd["shape"] == nlohmann::json::array({512, 64}));
  CHECK(embd["bytes"] == 131072);
  CHECK(embd["parameters"] == 32768);
  CHECK(embd["offset"] == doc["data_offset"]);
  CHECK(doc["types"].size() == 1);
  CHECK(doc["types"][0]["share"] == 1.0);
  CHECK(doc["total"]["parameters"] == 292800);
  CHECK(doc["total"]["bytes"] == 1171200);
  CHECK(doc["total"]["bits_per_weight"] == 32.0);

  const testing::CommandResult hf =
      RunQtk({"inspect", "--json", (testdata / "models" / "stories260K-bf16-sharded").string()});
  REQUIRE(hf.exit_code == 0);
  const auto model = nlohmann::json::parse(hf.out);
  CHECK(model["format"] == "hf-directory");
  CHECK(model["architecture"] == "LlamaForCausalLM");
  CHECK(model["config"]["hidden_size"] == 64);
  CHECK(model["tokenizer_files"] == nlohmann::json::array({"tokenizer.model"}));
  CHECK(model["files"] == nlohmann::json::array({"model-00001-of-00003.safetensors",
                                                 "model-00002-of-00003.safetensors",
                                                 "model-00003-of-00003.safetensors"}));
  CHECK(model["tensors"].back()["file"] == 2);
  CHECK(model["total"]["bits_per_weight"] == 16.0);
  CHECK(!model.contains("version"));
}

TEST_CASE("qtk inspect: reads headers only (a 64 GiB model in a sparse file)", "[cli]") {
  testing::TempDir dir;
  const std::string header =
      R"({"w":{"dtype":"BF16","shape":[262144,131072],"data_offsets":[0,68719476736]}})";
  const std::string path = (dir / "huge.safetensors").string();
  testing::WriteFileBytes(path, testing::SafetensorsBytes(header, 0));
  std::error_code error;
  fs::resize_file(path, 8 + header.size() + (uint64_t{64} << 30), error);
  if (error) {
    WARN("skipped: cannot make a 64 GiB sparse file here: " << error.message());
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const testing::CommandResult result = RunQtk({"inspect", path});
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(result.exit_code == 0);
  CHECK(HasLine(result.out, "parameters   34,359,738,368 (34.36 B)"));
  // Reading the data would take minutes; a header takes milliseconds. The bound is loose
  // so that a loaded machine or a sanitizer build does not fail it.
  CHECK(seconds < 20.0);
}

}  // namespace
}  // namespace qtk
