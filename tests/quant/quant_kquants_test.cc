// The K-quant kernels: llama.cpp's reference bytes, round-trip error, threading, edge cases
// and the block layouts.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>

#include "qtk/base/float_convert.h"
#include "qtk/base/sha256.h"
#include "qtk/format/gguf.h"
#include "qtk/quant/quantize.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

constexpr GgmlType kKQuantTypes[] = {GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K,
                                     GgmlType::kQ5_K, GgmlType::kQ6_K};

bool IsKQuant(GgmlType type) {
  for (GgmlType k : kKQuantTypes) {
    if (k == type) return true;
  }
  return false;
}

// Normal values with a per-row scale spread and a few outliers, like real weights.
std::vector<float> WeightLikeValues(int64_t n_rows, int64_t row_length, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> uniform(0.25f, 4.f);
  std::vector<float> values(static_cast<size_t>(n_rows * row_length));
  for (int64_t r = 0; r < n_rows; ++r) {
    const float row_scale = 0.02f * uniform(rng);
    for (int64_t c = 0; c < row_length; ++c) {
      float v = row_scale * normal(rng);
      if (c % 97 == 13) v *= 8.f;  // outlier columns
      values[static_cast<size_t>(r * row_length + c)] = v;
    }
  }
  return values;
}

// Positive per-column importance spanning three orders of magnitude.
std::vector<float> SkewedImportance(int64_t row_length, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> exponent(-3.f, 0.f);
  std::vector<float> importance(static_cast<size_t>(row_length));
  for (float& w : importance) w = std::pow(10.f, exponent(rng));
  return importance;
}

std::vector<uint8_t> Quantize(GgmlType type, std::span<const float> values, int64_t row_length,
                              std::span<const float> importance = {}, int n_threads = 1) {
  std::vector<uint8_t> out(values.size() / static_cast<size_t>(row_length) *
                           GgmlRowBytes(type, row_length));
  QuantizeOptions options;
  options.n_threads = n_threads;
  options.importance = importance;
  const Status status = QuantizeRows(type, values, row_length, out, options);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return out;
}

std::vector<float> Dequantize(GgmlType type, std::span<const uint8_t> bytes, int64_t n_values,
                              int64_t row_length) {
  std::vector<float> out(static_cast<size_t>(n_values));
  const Status status = DequantizeRows(type, bytes, row_length, out);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return out;
}

// sqrt(sum w (x - y)^2 / sum w x^2); w = 1 when `importance` is empty.
double RelativeError(std::span<const float> x, std::span<const float> y,
                     std::span<const float> importance = {}) {
  double error = 0;
  double norm = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double w = importance.empty() ? 1.0 : importance[i % importance.size()];
    error += w * (double{x[i]} - y[i]) * (double{x[i]} - y[i]);
    norm += w * double{x[i]} * x[i];
  }
  return std::sqrt(error / norm);
}

// Like DiffAgainstReference, for the K-quant tensors of a file only (mix files also hold
// types other families implement). Returns the mismatches and counts the tensors compared.
std::string DiffKQuantTensors(const std::filesystem::path& f32_file,
                              const std::filesystem::path& directory, const std::string& file,
                              int* n_compared) {
  Result<GgufFile> source = ReadGgufFile(f32_file.string());
  REQUIRE(source.ok());
  std::string diff;
  for (const testing::ManifestTensor& expected : testing::ReadManifest(directory, file)) {
    if (!IsKQuant(expected.type) || expected.shape[0] % 256 != 0) continue;
    const GgufTensorInfo* info = source->FindTensor(expected.name);
    REQUIRE(info != nullptr);
    const auto data = source->TensorData(*info);
    const std::span<const float> values(reinterpret_cast<const float*>(data.data()),
                                        data.size() / sizeof(float));
    const std::string actual =
        Sha256Hex(Quantize(expected.type, values, info->row_length(), {}, 2));
    if (actual != expected.sha256) {
      diff += expected.name + " (" + std::string(GgmlTypeName(expected.type)) + ") differs\n";
    }
    ++*n_compared;
  }
  return diff;
}

TEST_CASE("K-quants reproduce llama-quantize --pure", "[kquants][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference" / "llama.cpp" / "synth-a";
  for (std::string type : {"Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K"}) {
    INFO(type);
    CHECK(testing::DiffAgainstReference(dir / "synth-a-convert-f32.gguf", dir,
                                        "synth-a-pure-" + type + ".gguf") == "");
  }
}

TEST_CASE("K-quant tensors of llama.cpp's default mixes reproduce", "[kquants][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (std::string model : {"synth-a", "stories260K"}) {
    const auto dir = testdata / "reference" / "llama.cpp" / model;
    int n_compared = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string file = entry.path().filename().string();
      if (file.find("-mix-") == std::string::npos || entry.path().extension() != ".gguf") {
        continue;
      }
      INFO(file);
      CHECK(DiffKQuantTensors(dir / (model + "-convert-f32.gguf"), dir, file, &n_compared) == "");
    }
    INFO(model);
    // stories260K's rows are 64 or 172 wide, so llama.cpp falls back to other types there:
    // its mixes hold no K-quant tensor. synth-a's mixes hold 106.
    CHECK(n_compared == (model == "synth-a" ? 106 : 0));
  }
}

// Relative RMS error bounds on WeightLikeValues, about 8% above what the kernels reach.
double ErrorBound(GgmlType type) {
  switch (type) {
    case GgmlType::kQ2_K:
      return 0.37;
    case GgmlType::kQ3_K:
      return 0.22;
    case GgmlType::kQ4_K:
      return 0.10;
    case GgmlType::kQ5_K:
      return 0.052;
    default:
      return 0.029;  // Q6_K
  }
}

TEST_CASE("K-quants decode close to their input", "[kquants]") {
  const int64_t row_length = 512;
  const auto values = WeightLikeValues(64, row_length, 1);
  double previous = 1.0;
  for (GgmlType type : kKQuantTypes) {
    INFO(GgmlTypeName(type));
    const auto decoded =
        Dequantize(type, Quantize(type, values, row_length), std::ssize(values), row_length);
    const double error = RelativeError(values, decoded);
    CHECK(error < ErrorBound(type));
    CHECK(error < previous / 1.7);  // each extra bit roughly halves the error
    previous = error;
  }
}

TEST_CASE("importance lowers the importance-weighted error", "[kquants]") {
  const int64_t row_length = 512;
  const auto values = WeightLikeValues(64, row_length, 3);
  const auto importance = SkewedImportance(row_length, 4);
  for (GgmlType type : kKQuantTypes) {
    INFO(GgmlTypeName(type));
    const auto plain =
        Dequantize(type, Quantize(type, values, row_length), std::ssize(values), row_length);
    const auto weighted = Dequantize(type, Quantize(type, values, row_length, importance),
                                     std::ssize(values), row_length);
    const double plain_error = RelativeError(values, plain, importance);
    const double weighted_error = RelativeError(values, weighted, importance);
    CHECK(weighted_error < plain_error * 0.97);
    CHECK(RelativeError(values, weighted) < ErrorBound(type) * 1.4);  // Q6_K: 1.3
  }
}

TEST_CASE("K-quants give the same bytes on 1, 2 and 3 threads", "[kquants]") {
  const int64_t row_length = 768;
  const auto values = WeightLikeValues(7, row_length, 5);
  const auto importance = SkewedImportance(row_length, 6);
  for (GgmlType type : kKQuantTypes) {
    INFO(GgmlTypeName(type));
    const auto one = Quantize(type, values, row_length, {}, 1);
    CHECK(Quantize(type, values, row_length, {}, 2) == one);
    CHECK(Quantize(type, values, row_length, {}, 3) == one);
    const auto one_weighted = Quantize(type, values, row_length, importance, 1);
    CHECK(one_weighted != one);
    CHECK(Quantize(type, values, row_length, importance, 2) == one_weighted);
    CHECK(Quantize(type, values, row_length, importance, 3) == one_weighted);
  }
}

TEST_CASE("K-quants of all-zero rows are all-zero bytes", "[kquants]") {
  const std::vector<float> zeros(512, 0.f);
  const std::vector<float> importance(256, 1.f);
  for (GgmlType type : kKQuantTypes) {
    INFO(GgmlTypeName(type));
    const auto bytes = Quantize(type, zeros, 256);
    CHECK(std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; }));
    CHECK(Quantize(type, zeros, 256, importance) == bytes);
    CHECK(Dequantize(type, bytes, 512, 256) == zeros);
  }
}

TEST_CASE("K-quant edge cases decode to finite values within bounds", "[kquants]") {
  struct Case {
    std::string name;
    std::vector<float> values;
  };
  std::vector<Case> cases = {
      {"constant", std::vector<float>(256, 0.375f)},
      {"negative constant", std::vector<float>(256, -2.5f)},
      {"one super-block", WeightLikeValues(1, 256, 7)},
      {"large", WeightLikeValues(1, 256, 8)},
      {"one spike", std::vector<float>(256, 0.f)},
  };
  for (float& v : cases[3].values) v *= 1e5f;  // d stays below F16's 65504
  cases[4].values[77] = 3.f;
  for (GgmlType type : kKQuantTypes) {
    for (const Case& c : cases) {
      INFO(GgmlTypeName(type) << " " << c.name);
      for (bool weighted : {false, true}) {
        const auto importance = weighted ? SkewedImportance(256, 9) : std::vector<float>();
        const auto decoded = Dequantize(type, Quantize(type, c.values, 256, importance), 256, 256);
        CHECK(
            std::all_of(decoded.begin(), decoded.end(), [](float v) { return std::isfinite(v); }));
        CHECK(RelativeError(c.values, decoded) < ErrorBound(type) * 1.2);
      }
    }
  }
}

TEST_CASE("K-quants flush values too small for an F16 scale to zero", "[kquants]") {
  // 1e-20 is below the all-zero threshold; 1e-7 / 63 is below F16's smallest subnormal.
  for (float magnitude : {1e-20f, 1e-7f}) {
    auto values = WeightLikeValues(1, 256, 10);
    for (float& v : values) v = v < 0 ? -magnitude : magnitude;
    for (GgmlType type : kKQuantTypes) {
      INFO(GgmlTypeName(type) << " " << magnitude);
      for (bool weighted : {false, true}) {
        const auto importance = weighted ? SkewedImportance(256, 11) : std::vector<float>();
        const auto decoded = Dequantize(type, Quantize(type, values, 256, importance), 256, 256);
        for (float v : decoded) {
          REQUIRE(std::isfinite(v));
          REQUIRE(std::fabs(v) <= 2 * magnitude);
        }
      }
    }
  }
}

TEST_CASE("zero importance gives finite output", "[kquants]") {
  const auto values = WeightLikeValues(2, 256, 12);
  const std::vector<float> importance(256, 0.f);
  for (GgmlType type : kKQuantTypes) {
    INFO(GgmlTypeName(type));
    const auto decoded = Dequantize(type, Quantize(type, values, 256, importance), 512, 256);
    CHECK(std::all_of(decoded.begin(), decoded.end(), [](float v) { return std::isfinite(v); }));
  }
}

TEST_CASE("K-quant rows must be whole super-blocks", "[kquants]") {
  const std::vector<float> values(128, 1.f);
  std::vector<uint8_t> out(1024);
  const Status status = QuantizeRows(GgmlType::kQ4_K, values, 128, out);
  CHECK(status.code() == Status::Code::kInvalidArgument);
  CHECK(status.message() == "row length 128 is not a multiple of Q4_K's block size 256");
}

// Handcrafted blocks: each sets one sub-block's scale (and min) and one element's level
// through the layout documented in kquant_blocks.h, then checks the decoded value.
void PutF16(std::vector<uint8_t>& block, size_t offset, float value) {
  const uint16_t h = F32ToF16(value);
  std::memcpy(block.data() + offset, &h, 2);
}

TEST_CASE("K-quant block layouts decode as documented", "[kquants]") {
  SECTION("Q2_K") {
    std::vector<uint8_t> block(84, 0);
    block[9] = 0x7B;           // sub-block 9: scale 11, min 7
    block[16 + 50] = 3;        // element 146 = 128 + 18: byte 32 + 18, bits 0-1
    PutF16(block, 80, 1.f);    // d
    PutF16(block, 82, 0.25f);  // dmin
    const auto x = Dequantize(GgmlType::kQ2_K, block, 256, 256);
    CHECK(x[146] == 11 * 3 - 0.25f * 7);
    CHECK(x[147] == -0.25f * 7);
    CHECK(x[0] == 0.f);
  }
  SECTION("Q3_K") {
    std::vector<uint8_t> block(110, 0);
    block[96 + 5] = 0x20;     // sub-block 13's scale 50: low nibble in byte 5 (high half)
    block[96 + 9] = 0xC0;     // ... its high bits in byte 8 + 13 % 4, bits 6-7
    block[32 + 53] = 2 << 4;  // element 213 = 128 + 85: byte 32 + 21, bits 4-5
    block[21] = 1 << 6;       // element 213's high bit: byte 21, bit 6
    PutF16(block, 108, 1.f);
    const auto x = Dequantize(GgmlType::kQ3_K, block, 256, 256);
    CHECK(x[213] == (50 - 32) * 2);
    CHECK(x[212] == (50 - 32) * -4);  // no high bit: level 0 - 4
    CHECK(x[0] == (0 - 32) * -4);     // scale level 0 is -32
  }
  SECTION("Q4_K and Q5_K") {
    std::vector<uint8_t> q4(144, 0);
    PutF16(q4, 0, 1.f);      // d
    PutF16(q4, 2, 0.5f);     // dmin
    q4[4 + 9] = 0x65;        // sub-block 5: low nibbles of scale 37 and min 22
    q4[4 + 1] = 0x80;        // scale 37's high bits in byte 5 - 4, bits 6-7
    q4[4 + 5] = 0x40;        // min 22's high bits in byte 5, bits 6-7
    q4[16 + 64 + 3] = 0xA0;  // element 163 = 128 + 35: byte 64 + 3, high nibble
    auto x = Dequantize(GgmlType::kQ4_K, q4, 256, 256);
    CHECK(x[163] == 37 * 10 - 0.5f * 22);
    CHECK(x[160] == -0.5f * 22);

    std::vector<uint8_t> q5(176, 0);
    std::copy(q4.begin(), q4.begin() + 16, q5.begin());
    q5[48 + 64 + 3] = 0xA0;
    q5[16 + 3] = 1 << 5;  // element 163's bit 4: byte 163 % 32, bit 163 / 32
    x = Dequantize(GgmlType::kQ5_K, q5, 256, 256);
    CHECK(x[163] == 37 * 26 - 0.5f * 22);
  }
  SECTION("Q6_K") {
    std::vector<uint8_t> block(210, 0);
    block[192 + 12] = static_cast<uint8_t>(-3);  // sub-block 12's scale
    block[64 + 8] = 0xD0;    // element 200 = 128 + 72: third group, byte 64 + 8, high nibble
    block[128 + 40] = 0x20;  // its bits 4-5: byte 128 + 32 + 8, bits 4-5
    PutF16(block, 208, 0.5f);
    const auto x = Dequantize(GgmlType::kQ6_K, block, 256, 256);
    CHECK(x[200] == 0.5f * -3 * (45 - 32));
    CHECK(x[201] == 0.5f * -3 * -32);
  }
}

}  // namespace
}  // namespace qtk
