// Hostile and odd values in GGUF inputs, each through `qtk inspect` and `qtk quantize`: NaN
// and infinity under every --nan-policy, denormals, zeros, empty and rank-0 tensors,
// degenerate shapes, odd UTF-8 names, 10,000 tensors, 100 MB of metadata, and counts that
// promise far more than the file holds. No crash; a sensible result or a one-line error.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "robustness_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::RunQtkChild;
using testing::TempDir;
using testing::TensorSpec;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> Ramp(size_t n) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8.0f;
  return values;
}

// A model whose ffn_up weight (64 x 4) holds NaN at element 70 and -inf at element 100.
std::filesystem::path NonFiniteModel(const TempDir& tmp) {
  std::vector<float> values = Ramp(256);
  values[70] = kNan;
  values[100] = -kInf;
  const auto path = tmp / "nan.gguf";
  testing::WriteF32Gguf(path, testing::LlamaMetadata(),
                        {{"blk.0.ffn_up.weight", {64, 4}, values},
                         {"blk.0.attn_norm.weight", {64}, std::vector<float>(64, 1.0f)}});
  return path;
}

TEST_CASE("nan and inf are refused by default, naming the tensor and element",
          "[robustness][cli][hostile]") {
  TempDir tmp;
  const auto input = NonFiniteModel(tmp);
  CHECK(RunQtkChild({"inspect", input.string()}).exit_code == 0);
  const auto out = tmp / "out.gguf";
  const auto result = RunQtkChild({"quantize", input.string(), out.string(), "Q8_0"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + input.string() +
                          ": tensor 'blk.0.ffn_up.weight': element 70 (row 1, column 6) is nan "
                          "(--nan-policy zero or keep to quantize anyway)\n");
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("nan policy zero replaces nan and inf with 0 and says how many",
          "[robustness][cli][hostile]") {
  TempDir tmp;
  const auto input = NonFiniteModel(tmp);
  const auto out = tmp / "out.gguf";
  const auto result =
      RunQtkChild({"quantize", "--nan-policy", "zero", input.string(), out.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("replaced 2 nan/inf values with 0 (--nan-policy zero)") !=
        std::string::npos);
  const std::vector<float> values = testing::ReadTensorAsF32(out, "blk.0.ffn_up.weight");
  CHECK(values[70] == 0.0f);
  CHECK(values[100] == 0.0f);
  for (float v : values) CHECK(std::isfinite(v));
}

TEST_CASE("nan policy keep writes nan and inf through", "[robustness][cli][hostile]") {
  TempDir tmp;
  const auto input = NonFiniteModel(tmp);
  const auto f16 = tmp / "f16.gguf";
  auto result =
      RunQtkChild({"quantize", "--nan-policy", "keep", input.string(), f16.string(), "F16"});
  REQUIRE(result.exit_code == 0);
  const std::vector<float> values = testing::ReadTensorAsF32(f16, "blk.0.ffn_up.weight");
  CHECK(std::isnan(values[70]));
  CHECK(values[100] == -kInf);
  // Block formats have no code for them: the blocks holding them decode to garbage, but
  // every kernel stays defined (UBSan runs this) and the job completes.
  for (const std::string type : {"Q4_K_M", "Q4_0", "IQ4_NL", "MXFP4_MOE", "TQ2_0"}) {
    const auto out = tmp / (type + ".gguf");
    result = RunQtkChild(
        {"quantize", "--nan-policy", "keep", "--pure", input.string(), out.string(), type});
    INFO(type << ": " << result.err);
    CHECK(result.exit_code == 0);
  }
}

TEST_CASE("denormal, all-zero and huge-but-finite weights", "[robustness][cli][hostile]") {
  TempDir tmp;
  std::vector<float> denormal(256 * 2);
  for (size_t i = 0; i < denormal.size(); ++i) {
    denormal[i] = std::numeric_limits<float>::denorm_min() * static_cast<float>(i % 9) *
                  (i % 2 == 0 ? 1.0f : -1.0f);
  }
  const auto input = tmp / "odd.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(),
                        {{"blk.0.ffn_up.weight", {256, 2}, denormal},
                         {"blk.0.ffn_down.weight", {256, 2}, std::vector<float>(512, 0.0f)}});
  CHECK(RunQtkChild({"inspect", input.string()}).exit_code == 0);
  for (const std::string type : {"Q4_K_M", "Q8_0", "IQ4_XS", "Q2_K", "TQ1_0", "F16", "BF16"}) {
    const auto out = tmp / (type + ".gguf");
    const auto result = RunQtkChild({"quantize", "--pure", input.string(), out.string(), type});
    INFO(type << ": " << result.err);
    REQUIRE(result.exit_code == 0);
    for (const std::string name : {"blk.0.ffn_up.weight", "blk.0.ffn_down.weight"}) {
      for (float v : testing::ReadTensorAsF32(out, name)) {
        CHECK(std::isfinite(v));
        CHECK(std::fabs(v) < 1e-30f);
      }
    }
  }
  // Finite values beyond what the output type holds: refused after quantizing.
  std::vector<float> huge = Ramp(256 * 2);
  huge[300] = 3e38f;
  testing::WriteF32Gguf(tmp / "huge.gguf", testing::LlamaMetadata(),
                        {{"blk.0.ffn_up.weight", {256, 2}, huge}});
  const auto result = RunQtkChild(
      {"quantize", (tmp / "huge.gguf").string(), (tmp / "huge-out.gguf").string(), "F16"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("element 300 (row 1, column 44) becomes inf in F16 (the row's largest "
                        "magnitude is 3e+38)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp / "huge-out.gguf"));
}

TEST_CASE("empty, rank-0 and one-wide tensors", "[robustness][cli][hostile]") {
  TempDir tmp;
  const auto input = tmp / "shapes.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(),
                        {{"blk.0.ffn_up.weight", {256, 0}, {}},
                         {"blk.0.ffn_gate.weight", {0, 4}, {}},
                         {"blk.0.attn_q.weight", {256, 1}, Ramp(256)},
                         {"blk.0.attn_k.weight", {1, 256}, Ramp(256)},
                         {"blk.0.scale", {}, {0.5f}},
                         {"blk.0.ffn_down.weight", {512, 2}, Ramp(1024)}});
  const auto inspect = RunQtkChild({"inspect", input.string()});
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.out.find("blk.0.ffn_up.weight") != std::string::npos);
  const auto out = tmp / "out.gguf";
  const auto result = RunQtkChild({"quantize", input.string(), out.string(), "Q4_K_M"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  // A 1-column matrix has no block type: it falls back to F16 and says so.
  CHECK(result.err.find("tensor 'blk.0.attn_k.weight': 1 columns do not divide into") !=
        std::string::npos);
  Result<GgufFile> file = ReadGgufFile(out.string());
  REQUIRE(file.ok());
  CHECK(file->FindTensor("blk.0.ffn_up.weight")->n_bytes == 0);
  CHECK(file->FindTensor("blk.0.ffn_gate.weight")->n_bytes == 0);
  CHECK(file->FindTensor("blk.0.attn_q.weight")->type == GgmlType::kF32);  // a vector: kept
  CHECK(file->FindTensor("blk.0.attn_k.weight")->type == GgmlType::kF16);
  CHECK(file->FindTensor("blk.0.scale")->shape.empty());
  CHECK(testing::ReadTensorAsF32(out, "blk.0.scale") == std::vector<float>{0.5f});
  CHECK(file->FindTensor("blk.0.ffn_down.weight")->type != GgmlType::kF32);
}

TEST_CASE("odd utf-8 names are kept, escaped on the terminal; invalid ones refused",
          "[robustness][cli][hostile]") {
  TempDir tmp;
  const std::vector<std::string> names = {
      "blk.0.\xf0\x9f\xa6\x99.weight",       // an emoji (4 bytes)
      "blk.0.e\xcc\x81\xe2\x80\x8d.weight",  // combining accent, zero-width joiner
      "blk.0.\xe2\x80\xae"
      "drow.weight",                      // right-to-left override
      "blk.0.\x1b[2J\x1b[31mred.weight",  // terminal escapes: valid UTF-8
      std::string("blk.0.nul\0inside.weight", 23),
      std::string(60, 'x') + "\xc3\xa9",  // 62 bytes, at the limit of 63
  };
  std::vector<TensorSpec> tensors;
  for (const std::string& name : names) tensors.push_back({name, {32, 2}, Ramp(64)});
  const auto input = tmp / "names.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(), tensors);
  const auto inspect = RunQtkChild({"inspect", input.string()});
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.out.find('\x1b') == std::string::npos);
  CHECK(inspect.out.find("blk.0.\\x1b[2J\\x1b[31mred.weight") != std::string::npos);
  CHECK(inspect.out.find("blk.0.nul\\x00inside.weight") != std::string::npos);
  CHECK(inspect.out.find("blk.0.\xf0\x9f\xa6\x99.weight") != std::string::npos);
  const auto out = tmp / "out.gguf";
  const auto result = RunQtkChild({"quantize", "-v", input.string(), out.string(), "Q8_0"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find('\x1b') == std::string::npos);
  CHECK(result.out.find('\x1b') == std::string::npos);
  Result<GgufFile> file = ReadGgufFile(out.string());
  REQUIRE(file.ok());
  for (const std::string& name : names) CHECK(file->FindTensor(name) != nullptr);

  // Invalid UTF-8 (a lone continuation byte) is refused by the reader.
  std::vector<uint8_t> bytes = testing::ReadFileBytes(input);
  const std::vector<uint8_t> emoji = {0xf0, 0x9f, 0xa6, 0x99};
  const auto at = std::search(bytes.begin(), bytes.end(), emoji.begin(), emoji.end());
  REQUIRE(at != bytes.end());
  *at = 0x80;
  testing::WriteFileBytes(tmp / "bad.gguf", bytes);
  for (const std::string command : {"inspect", "quantize"}) {
    std::vector<std::string> args = {command, (tmp / "bad.gguf").string()};
    if (command == "quantize") args.push_back("Q8_0");
    const auto refused = RunQtkChild(args);
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("name is not valid utf-8\n") != std::string::npos);
  }
}

TEST_CASE("10,000 tensors", "[robustness][cli][hostile]") {
  TempDir tmp;
  std::vector<TensorSpec> tensors;
  for (int i = 0; i < 10000; ++i) {
    tensors.push_back({"blk." + std::to_string(i / 10) + ".t" + std::to_string(i % 10) + ".weight",
                       {32, 2},
                       Ramp(64)});
  }
  const auto input = tmp / "many.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(1000), tensors);
  const auto inspect = RunQtkChild({"inspect", input.string()});
  REQUIRE(inspect.exit_code == 0);
  // One table row per tensor.
  CHECK(inspect.out.find("tensors (10000)") != std::string::npos);
  CHECK(inspect.out.find("blk.999.t9.weight") != std::string::npos);
  CHECK(std::count(inspect.out.begin(), inspect.out.end(), '\n') > 10000);
  const auto out = tmp / "out.gguf";
  const auto result = RunQtkChild({"quantize", input.string(), out.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  Result<GgufFile> file = ReadGgufFile(out.string());
  REQUIRE(file.ok());
  CHECK(file->tensors().size() == 10000);
  CHECK(file->FindTensor("blk.999.t9.weight")->type == GgmlType::kQ8_0);
}

TEST_CASE("100 MB of metadata", "[robustness][cli][hostile]") {
  TempDir tmp;
  // A vocabulary of a million 100-byte tokens, as a huge tokenizer would have.
  std::vector<std::string> tokens(1000000);
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = std::to_string(i) + std::string(100 - std::to_string(i).size(), 'a');
  }
  std::vector<GgufKeyValue> metadata = testing::LlamaMetadata();
  metadata.push_back({"tokenizer.ggml.tokens", GgufValue::StringArray(std::move(tokens))});
  const auto input = tmp / "vocab.gguf";
  testing::WriteF32Gguf(input, metadata, {{"blk.0.ffn_up.weight", {32, 2}, Ramp(64)}});
  const auto file_bytes = static_cast<int64_t>(std::filesystem::file_size(input));
  REQUIRE(file_bytes > 100'000'000);
  const auto inspect = RunQtkChild({"inspect", input.string()});
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.out.find("1000000 items: [") != std::string::npos);
  const auto out = tmp / "out.gguf";
  const auto result = testing::RunQtkMeasured({"quantize", input.string(), out.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(static_cast<int64_t>(std::filesystem::file_size(out)) > 100'000'000);
  if (result.peak_rss_kib < 0) {
    if (testing::kMeasureMemory) WARN("peak memory not measured: tracing is not allowed here");
    return;
  }
  // Memory stays linear in the metadata (measured: 5.2x the file): the mapping (1x), the
  // parsed strings (a million 32-byte std::strings with 112-byte heap blocks, 1.4x), the
  // plan's copy of them (1.4x), and the serialized output header while it grows (1-2x).
  INFO("peak rss " << result.peak_rss_kib << " KiB for a " << file_bytes << "-byte file");
  CHECK(result.peak_rss_kib * 1024 < 6 * file_bytes);
}

// A 1 kB file whose count fields promise 10^8 elements (or tensors, or keys).
std::vector<uint8_t> PromisingFile(int which) {
  testing::Bytes b;
  b.Raw("GGUF").Put<uint32_t>(3);
  b.Put<int64_t>(which == 2 ? 100'000'000 : 0).Put<int64_t>(which == 3 ? 100'000'000 : 1);
  b.GgufString("tokenizer.ggml.scores").Put<uint32_t>(9);
  b.Put<uint32_t>(which == 1 ? 8 : 6).Put<uint64_t>(100'000'000);
  b.Zeros(1024 - b.size());
  return b.bytes();
}

TEST_CASE("counts of 10^8 in a 1 kB file are refused before allocating",
          "[robustness][cli][hostile]") {
  TempDir tmp;
  const std::vector<std::string> expected = {
      "offset 61 (0x3d): metadata 'tokenizer.ggml.scores': array of 100000000 f32 does not fit "
      "in the 955 bytes left",
      "offset 61 (0x3d): metadata 'tokenizer.ggml.scores': array of 100000000 str does not fit "
      "in the 955 bytes left",
      "offset 8 (0x8): tensor count: is 100000000, the file has room for at most 42",
      "offset 16 (0x10): metadata count: is 100000000, the file has room for at most 76",
  };
  for (int which = 0; which < 4; ++which) {
    const auto path = tmp / ("promise" + std::to_string(which) + ".gguf");
    testing::WriteFileBytes(path, PromisingFile(which));
    for (const std::string command : {"inspect", "quantize"}) {
      std::vector<std::string> args = {command, path.string()};
      if (command == "quantize") args.push_back("Q8_0");
      const auto result = testing::RunQtkMeasured(args);
      INFO(command << " " << which);
      CHECK(result.exit_code == 1);
      CHECK(result.err ==
            "qtk: error: " + path.string() + ": " + expected[static_cast<size_t>(which)] + "\n");
      if (result.peak_rss_kib >= 0) CHECK(result.peak_rss_kib < 32 * 1024);
    }
  }
}

}  // namespace
}  // namespace qtk
