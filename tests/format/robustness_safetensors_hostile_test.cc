// Hostile and odd values on the Hugging Face path, through `qtk inspect` and `qtk quantize`:
// NaN and infinity in BF16/F16 weights, F8/integer/bool dtypes, empty and rank-0 tensors, odd
// UTF-8 names, headers declaring huge shapes, 10,000 tensors. No crash; a sensible result
// or a one-line error. (The same for GGUF inputs: hostile_values_test.cc.)
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "hf_model_support.h"
#include "qtk/convert/architecture.h"
#include "qtk/quant/dtype_convert.h"
#include "robustness_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::RunQtkChild;
using testing::StTensor;
using testing::TempDir;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// A two-layer Llama directory of `dtype` weights with `bad` written at `element` of the
// tensor called `bad_tensor`.
std::filesystem::path ModelWith(const TempDir& tmp, const std::string& dtype,
                                const std::string& bad_tensor, size_t element, float bad) {
  const SynthShape shape = testing::SmallLlamaShape(2);
  std::vector<StTensor> tensors = {
      {"model.layers.0.mlp.up_proj.weight", dtype, {128, 64}, {}},
      {"model.layers.0.self_attn.q_proj.weight", dtype, {64, 64}, {}},
      {"model.layers.1.mlp.up_proj.weight", dtype, {128, 64}, {}},
      {"model.norm.weight", "F32", {64}, {}},
  };
  for (size_t t = 0; t < tensors.size(); ++t) {
    StTensor& tensor = tensors[t];
    std::vector<float> values =
        testing::SmoothValues(static_cast<size_t>(testing::ElementCount(tensor.shape)), t);
    if (tensor.name == bad_tensor) values[element] = bad;
    tensor.data = testing::EncodeFloats(tensor.dtype, values);
  }
  const auto dir = tmp / ("model-" + dtype);
  testing::WriteHfModel(dir, {shape, tensors, 1});
  return dir;
}

// The GGUF row of q_proj that holds HF row `hf_row` after the rotary permutation.
int64_t PermutedRow(int64_t hf_row, int64_t n_rows, int64_t n_head) {
  for (int64_t row = 0; row < n_rows; ++row) {
    if (RopePermuteSourceRow(row, n_rows, n_head) == hf_row) return row;
  }
  return -1;
}

TEST_CASE("nan and inf in checkpoint weights are refused, naming the tensor and element",
          "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  // BF16 NaN in q_proj, HF row 5 column 3: the message gives both places (rows are permuted).
  const auto bf16 =
      ModelWith(tmp, "BF16", "model.layers.0.self_attn.q_proj.weight", 5 * 64 + 3, kNan);
  const int64_t row = PermutedRow(5, 64, 4);
  REQUIRE(row >= 0);
  const auto out = tmp / "out.gguf";
  auto result = RunQtkChild({"quantize", "-q", bf16.string(), out.string(), "Q8_0"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + bf16.string() +
                          ": tensor 'blk.0.attn_q.weight' ('model.layers.0.self_attn.q_proj.weight'"
                          " in model.safetensors, row 5, column 3): element " +
                          std::to_string(row * 64 + 3) + " (row " + std::to_string(row) +
                          ", column 3) is nan (--nan-policy zero or keep to quantize anyway)\n");
  CHECK_FALSE(std::filesystem::exists(out));
  // F16 -inf in layer 1's up_proj (no permutation: the same row and column).
  const auto f16 = ModelWith(tmp, "F16", "model.layers.1.mlp.up_proj.weight", 100, -kInf);
  result = RunQtkChild({"quantize", "-q", f16.string(), out.string(), "Q4_K_M"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + f16.string() +
                          ": tensor 'blk.1.ffn_up.weight' ('model.layers.1.mlp.up_proj.weight' in "
                          "model.safetensors, row 1, column 36): element 100 (row 1, column 36) "
                          "is -inf (--nan-policy zero or keep to quantize anyway)\n");
  CHECK_FALSE(std::filesystem::exists(out));
  // Inf in a BF16 tensor that stays F32 (the final norm) is refused as well.
  const auto norm = ModelWith(tmp, "BF16", "model.norm.weight", 7, kInf);
  result = RunQtkChild({"quantize", norm.string(), out.string(), "F16"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("tensor 'output_norm.weight' ('model.norm.weight' in model.safetensors, "
                        "row 0, column 7): element 7 (row 0, column 7) is inf") !=
        std::string::npos);
}

TEST_CASE("nan policy zero and keep on checkpoint weights",
          "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  const auto dir = ModelWith(tmp, "BF16", "model.layers.1.mlp.up_proj.weight", 100, kNan);
  const auto zero = tmp / "zero.gguf";
  auto result =
      RunQtkChild({"quantize", "--nan-policy", "zero", dir.string(), zero.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("replaced 1 nan/inf values with 0 (--nan-policy zero)") !=
        std::string::npos);
  std::vector<float> values = testing::ReadTensorAsF32(zero, "blk.1.ffn_up.weight");
  CHECK(values[100] == 0.0f);
  for (float v : values) CHECK(std::isfinite(v));
  const auto keep = tmp / "keep.gguf";
  result = RunQtkChild({"quantize", "--nan-policy", "keep", dir.string(), keep.string(), "F16"});
  REQUIRE(result.exit_code == 0);
  values = testing::ReadTensorAsF32(keep, "blk.1.ffn_up.weight");
  CHECK(std::isnan(values[100]));
  CHECK(std::isfinite(values[99]));
}

// Every element type a safetensors file can hold, with the values they decode to.
struct DtypeCase {
  std::string dtype;
  std::vector<uint8_t> bytes;
  std::vector<float> expected;
};

std::vector<DtypeCase> DtypeCases() {
  using testing::LeBytes;
  return {
      {"F8_E4M3",
       {0x38, 0xB8, 0x7E, 0x01, 0x00, 0x80, 0x30, 0x40},
       {1.0f, -1.0f, 448.0f, 0x1p-9f, 0.0f, -0.0f, 0.5f, 2.0f}},
      {"F8_E5M2",
       {0x3C, 0xBC, 0x7B, 0x01, 0x00, 0x80, 0x38, 0x40},
       {1.0f, -1.0f, 57344.0f, 0x1p-16f, 0.0f, -0.0f, 0.5f, 2.0f}},
      {"I8", {0x00, 0x01, 0x7F, 0x80, 0xFF, 0x02, 0xFE, 0x10}, {0, 1, 127, -128, -1, 2, -2, 16}},
      {"U8", {0x00, 0x01, 0x7F, 0x80, 0xFF, 0x02, 0xFE, 0x10}, {0, 1, 127, 128, 255, 2, 254, 16}},
      {"BOOL", {0, 1, 0, 1, 1, 0, 0, 1}, {0, 1, 0, 1, 1, 0, 0, 1}},
      {"I16",
       LeBytes<int16_t>({0, 1, -1, 32767, -32768, 300, -300, 7}),
       {0, 1, -1, 32767, -32768, 300, -300, 7}},
      {"U16",
       LeBytes<uint16_t>({0, 1, 65535, 32768, 300, 7, 8, 9}),
       {0, 1, 65535, 32768, 300, 7, 8, 9}},
      {"I32",
       LeBytes<int32_t>({0, 1, -1, 16777217, -7, 2, 3, 4}),
       {0, 1, -1, 16777216.0f, -7, 2, 3, 4}},
      {"U32",
       LeBytes<uint32_t>({0, 1, 4294967295u, 7, 8, 9, 10, 11}),
       {0, 1, 4294967296.0f, 7, 8, 9, 10, 11}},
      {"I64",
       LeBytes<int64_t>({0, -1, int64_t{1} << 40, 3, 4, 5, 6, 7}),
       {0, -1, 0x1p40f, 3, 4, 5, 6, 7}},
      {"U64", LeBytes<uint64_t>({0, 1, UINT64_MAX, 3, 4, 5, 6, 7}), {0, 1, 0x1p64f, 3, 4, 5, 6, 7}},
      {"F64",
       LeBytes<double>({0.5, -2.0, 1e-50, 3.25, 1e10, 6, 7, 8}),
       {0.5f, -2.0f, 0.0f, 3.25f, 1e10f, 6, 7, 8}},
  };
}

TEST_CASE("F8, integer and bool tensors are decoded, in a file and in a model directory",
          "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  std::vector<StTensor> tensors;
  for (const DtypeCase& c : DtypeCases())
    tensors.push_back({"t_" + c.dtype, c.dtype, {2, 4}, c.bytes});
  const auto file = tmp / "dtypes.safetensors";
  testing::WriteSafetensorsFile(file, tensors);
  const auto inspect = RunQtkChild({"inspect", file.string()});
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.out.find("F8_E4M3") != std::string::npos);
  const auto out = tmp / "dtypes.gguf";
  const auto result = RunQtkChild({"quantize", file.string(), out.string(), "F32"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  for (const DtypeCase& c : DtypeCases()) {
    INFO(c.dtype);
    const std::vector<float> values = testing::ReadTensorAsF32(out, "t_" + c.dtype);
    REQUIRE(values.size() == c.expected.size());
    for (size_t i = 0; i < values.size(); ++i) {
      CHECK(values[i] == c.expected[i]);
      CHECK(std::signbit(values[i]) == std::signbit(c.expected[i]));
    }
  }
  // F8 weights in a model directory convert as torch's .float() does.
  const SynthShape shape = testing::SmallLlamaShape(1);
  std::vector<uint8_t> f8(128 * 64);
  for (size_t i = 0; i < f8.size(); ++i) f8[i] = static_cast<uint8_t>(i % 0x7E);
  testing::WriteHfModel(tmp / "f8",
                        {shape,
                         {{"model.layers.0.mlp.up_proj.weight", "F8_E4M3", {128, 64}, f8},
                          {"model.norm.weight", "BOOL", {64}, std::vector<uint8_t>(64, 1)}},
                         1});
  const auto converted =
      RunQtkChild({"quantize", (tmp / "f8").string(), (tmp / "f8.gguf").string(), "F32"});
  INFO(converted.err);
  REQUIRE(converted.exit_code == 0);
  const std::vector<float> up = testing::ReadTensorAsF32(tmp / "f8.gguf", "blk.0.ffn_up.weight");
  for (size_t i = 0; i < f8.size(); ++i) CHECK(up[i] == F8E4M3ToF32(f8[i]));
  CHECK(testing::ReadTensorAsF32(tmp / "f8.gguf", "output_norm.weight") ==
        std::vector<float>(64, 1.0f));
}

TEST_CASE("a quantized checkpoint (quantization_config) is refused, not half-converted",
          "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  const SynthShape shape = testing::SmallLlamaShape(1);
  const auto dir = tmp / "fp8";
  testing::WriteHfModel(dir, {shape,
                              {{"model.layers.0.mlp.up_proj.weight",
                                "F8_E4M3",
                                {128, 64},
                                std::vector<uint8_t>(128 * 64, 0x38)},
                               {"model.layers.0.mlp.up_proj.weight_scale_inv", "F32", {1, 1}, {}}},
                              1});
  std::string config = testing::ReadFileText(dir / "config.json");
  config.insert(
      config.rfind('}'),
      R"(, "quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 128]})");
  testing::WriteFileBytes(dir / "config.json", {config.begin(), config.end()});
  const auto result = RunQtkChild({"quantize", dir.string(), (tmp / "out.gguf").string(), "Q8_0"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + (dir / "config.json").string() +
                          ": quantization_config: 'fp8' checkpoints are not supported: their "
                          "weights need the scales stored beside them; convert a dequantized "
                          "checkpoint\n");
}

TEST_CASE("empty and rank-0 tensors in a checkpoint", "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  const auto file = tmp / "shapes.safetensors";
  testing::WriteSafetensorsFile(file, {{"rows0", "F32", {0, 256}, {}},
                                       {"cols0", "BF16", {4, 0}, {}},
                                       {"scalar", "F32", {}, testing::LeBytes<float>({0.5f})},
                                       {"matrix.weight", "F16", {4, 256}, {}}});
  REQUIRE(RunQtkChild({"inspect", file.string()}).exit_code == 0);
  const auto out = tmp / "shapes.gguf";
  auto result = RunQtkChild({"quantize", file.string(), out.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  Result<GgufFile> gguf = ReadGgufFile(out.string());
  REQUIRE(gguf.ok());
  CHECK(gguf->FindTensor("rows0")->n_bytes == 0);
  CHECK(gguf->FindTensor("cols0")->n_bytes == 0);
  CHECK(gguf->FindTensor("scalar")->shape.empty());
  CHECK(testing::ReadTensorAsF32(out, "scalar") == std::vector<float>{0.5f});
  CHECK(gguf->FindTensor("matrix.weight")->type == GgmlType::kQ8_0);
  // The same in a model directory: an empty up_proj and a rank-0 norm.
  const SynthShape shape = testing::SmallLlamaShape(1);
  testing::WriteHfModel(tmp / "model",
                        {shape,
                         {{"model.layers.0.mlp.up_proj.weight", "BF16", {0, 64}, {}},
                          {"model.layers.0.mlp.down_proj.weight", "BF16", {64, 128}, {}},
                          {"model.norm.weight", "F32", {}, testing::LeBytes<float>({2.0f})}},
                         1});
  result =
      RunQtkChild({"quantize", (tmp / "model").string(), (tmp / "model.gguf").string(), "Q4_K_M"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  gguf = ReadGgufFile((tmp / "model.gguf").string());
  REQUIRE(gguf.ok());
  CHECK(gguf->FindTensor("blk.0.ffn_up.weight")->n_bytes == 0);
  CHECK(testing::ReadTensorAsF32(tmp / "model.gguf", "output_norm.weight") ==
        std::vector<float>{2.0f});
}

TEST_CASE("odd utf-8 tensor names in a checkpoint", "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  const std::vector<std::string> names = {
      "\xf0\x9f\xa6\x99.weight",       // an emoji
      "e\xcc\x81\xe2\x80\x8d.weight",  // combining accent, zero-width joiner
      "\xe2\x80\xae"
      "drow.weight",                // right-to-left override
      "\x1b[2J\x1b[31mred.weight",  // terminal escapes
      std::string("nul\0inside.weight", 17),
  };
  std::vector<StTensor> tensors;
  for (const std::string& name : names) tensors.push_back({name, "BF16", {2, 32}, {}});
  const auto file = tmp / "names.safetensors";
  testing::WriteSafetensorsFile(file, tensors);
  const auto inspect = RunQtkChild({"inspect", file.string()});
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.out.find('\x1b') == std::string::npos);
  CHECK(inspect.out.find("\\x1b[2J\\x1b[31mred.weight") != std::string::npos);
  CHECK(inspect.out.find("nul\\x00inside.weight") != std::string::npos);
  const auto out = tmp / "names.gguf";
  const auto result = RunQtkChild({"quantize", "-v", file.string(), out.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find('\x1b') == std::string::npos);
  Result<GgufFile> gguf = ReadGgufFile(out.string());
  REQUIRE(gguf.ok());
  for (const std::string& name : names) CHECK(gguf->FindTensor(name) != nullptr);
  // A name longer than GGUF allows (63 bytes) is refused with one line.
  testing::WriteSafetensorsFile(tmp / "long.safetensors",
                                {{std::string(100, 'n'), "BF16", {2, 32}, {}}});
  const auto long_name = RunQtkChild(
      {"quantize", (tmp / "long.safetensors").string(), (tmp / "long.gguf").string(), "Q8_0"});
  CHECK(long_name.exit_code == 1);
  CHECK(long_name.err.find("qtk: error: ") == 0);
  CHECK(std::count(long_name.err.begin(), long_name.err.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(tmp / "long.gguf"));
  // In a model directory a name the converter cannot map is refused, escaped.
  const SynthShape shape = testing::SmallLlamaShape(1);
  testing::WriteHfModel(tmp / "model",
                        {shape, {{"model.layers.0.\x1b[31m.weight", "BF16", {2, 32}, {}}}, 1});
  const auto refused =
      RunQtkChild({"quantize", (tmp / "model").string(), (tmp / "model.gguf").string(), "Q8_0"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "qtk: error: " + (tmp / "model" / "config.json").string() +
                           ": cannot map tensor 'model.layers.0.\\x1b[31m.weight' to a GGUF name "
                           "for LlamaForCausalLM\n");
}

// A safetensors file with one tensor entry `entry` and `n_data` bytes of data.
std::vector<uint8_t> HeaderFile(const std::string& entry, size_t n_data) {
  testing::Bytes b;
  const std::string header = "{" + entry + "}";
  b.Put<uint64_t>(header.size()).Raw(header).Zeros(n_data);
  return b.bytes();
}

TEST_CASE("a header declaring huge shapes is refused before anything is allocated",
          "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> cases = {
      {HeaderFile(R"("w": {"dtype": "F32", "shape": [1152921504606846976, 4], )"
                  R"("data_offsets": [0, 8]})",
                  8),
       "offset 9 (0x9): tensor 'w': shape [1152921504606846976, 4] of F32 overflows uint64 "
       "bytes"},
      {HeaderFile(R"("w": {"dtype": "U8", "shape": [1099511627776, 1099511627776], )"
                  R"("data_offsets": [0, 8]})",
                  8),
       "offset 9 (0x9): tensor 'w': shape [1099511627776, 1099511627776] has more elements than "
       "int64 holds"},
      {HeaderFile(R"("w": {"dtype": "BF16", "shape": [65536, 65536], )"
                  R"("data_offsets": [0, 8589934592]})",
                  8),
       "offset 9 (0x9): tensor 'w': data_offsets [0, 8589934592] run past the end of the file: "
       "the data section has 8 bytes"},
      {HeaderFile(R"("w": {"dtype": "F32", "shape": [100000000], "data_offsets": [0, 8]})", 8),
       "offset 9 (0x9): tensor 'w': data_offsets [0, 8] hold 8 bytes, shape [100000000] of F32 "
       "needs 400000000"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto path = tmp / ("huge" + std::to_string(i) + ".safetensors");
    testing::WriteFileBytes(path, cases[i].first);
    for (const std::string command : {"inspect", "quantize"}) {
      std::vector<std::string> args = {command, path.string()};
      if (command == "quantize") args.push_back("Q8_0");
      const auto result = testing::RunQtkMeasured(args);
      INFO(command << " " << i);
      CHECK(result.exit_code == 1);
      CHECK(result.err == "qtk: error: " + path.string() + ": " + cases[i].second + "\n");
      if (result.peak_rss_kib >= 0) CHECK(result.peak_rss_kib < 32 * 1024);
    }
  }
}

TEST_CASE("10,000 tensors in one safetensors file", "[robustness][safetensors][cli][hostile]") {
  TempDir tmp;
  std::vector<StTensor> tensors;
  for (int i = 0; i < 10000; ++i) {
    tensors.push_back({"t." + std::to_string(i) + ".weight", "BF16", {2, 32}, {}});
  }
  const auto file = tmp / "many.safetensors";
  testing::WriteSafetensorsFile(file, tensors);
  const auto inspect = RunQtkChild({"inspect", file.string()});
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.out.find("tensors (10000)") != std::string::npos);
  CHECK(inspect.out.find("t.9999.weight") != std::string::npos);
  const auto out = tmp / "many.gguf";
  const auto result = RunQtkChild({"quantize", file.string(), out.string(), "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  Result<GgufFile> gguf = ReadGgufFile(out.string());
  REQUIRE(gguf.ok());
  CHECK(gguf->tensors().size() == 10000);
  CHECK(gguf->FindTensor("t.9999.weight")->type == GgmlType::kQ8_0);
}

TEST_CASE("10,000 tensors in a Llama checkpoint convert in seconds",
          "[robustness][safetensors][cli][hostile]") {
  // 1,111 layers of nine tensors and the final norm: the tensor-name mapping must not scan
  // every layer number for every tensor.
  TempDir tmp;
  SynthShape shape = testing::SmallLlamaShape(1111);
  shape.hidden_size = 32;
  shape.intermediate_size = 64;
  shape.n_head = 2;
  shape.n_head_kv = 1;
  std::vector<StTensor> tensors;
  const std::pair<const char*, std::vector<int64_t>> kLayer[] = {
      {"self_attn.q_proj.weight", {32, 32}},    {"self_attn.k_proj.weight", {16, 32}},
      {"self_attn.v_proj.weight", {16, 32}},    {"self_attn.o_proj.weight", {32, 32}},
      {"mlp.gate_proj.weight", {64, 32}},       {"mlp.up_proj.weight", {64, 32}},
      {"mlp.down_proj.weight", {32, 64}},       {"input_layernorm.weight", {32}},
      {"post_attention_layernorm.weight", {32}}};
  for (int64_t layer = 0; layer < shape.n_layer; ++layer) {
    for (const auto& [suffix, dims] : kLayer) {
      tensors.push_back({"model.layers." + std::to_string(layer) + "." + suffix, "BF16", dims, {}});
    }
  }
  tensors.push_back({"model.norm.weight", "BF16", {32}, {}});
  REQUIRE(tensors.size() == 10000);
  testing::WriteHfModel(tmp / "model", {shape, tensors, 1});
  const auto start = std::chrono::steady_clock::now();
  const auto result =
      RunQtkChild({"quantize", (tmp / "model").string(), (tmp / "model.gguf").string(), "Q8_0"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  Result<GgufFile> gguf = ReadGgufFile((tmp / "model.gguf").string());
  REQUIRE(gguf.ok());
  CHECK(gguf->tensors().size() == 10000);
  CHECK(gguf->FindTensor("blk.1110.ffn_down.weight") != nullptr);
  CHECK(seconds < 60);
}

}  // namespace
}  // namespace qtk
