// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: llama.cpp's reference bytes, round-trip error bounds, edge
// blocks, ties, importance and thread-count independence.
#include "quant/quant_legacy.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>

#include "legacy_test_support.h"
#include "qtk/base/float_convert.h"
#include "qtk/quant/quantize.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::kLegacyFormats;
using testing::LegacyFormat;

std::filesystem::path ReferenceDir(const std::filesystem::path& testdata,
                                   const std::string& model) {
  return testdata / "reference" / "llama.cpp" / model;
}

std::vector<uint8_t> Quantize(GgmlType type, std::span<const float> x, int64_t row_length,
                              const QuantizeOptions& options = {}) {
  std::vector<uint8_t> out(x.size() / static_cast<size_t>(row_length) *
                           GgmlRowBytes(type, row_length));
  REQUIRE(QuantizeRows(type, x, row_length, out, options).ok());
  return out;
}

std::vector<float> Dequantize(GgmlType type, std::span<const uint8_t> q, size_t n_values,
                              int64_t row_length) {
  std::vector<float> out(n_values);
  REQUIRE(DequantizeRows(type, q, row_length, out).ok());
  return out;
}

uint16_t BlockF16(const uint8_t* block, int offset = 0) {
  uint16_t h;
  std::memcpy(&h, block + offset, 2);
  return h;
}

TEST_CASE("legacy pure files reproduce llama-quantize byte for byte", "[legacy][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = ReferenceDir(testdata, "synth-a");
  for (const LegacyFormat& format : kLegacyFormats) {
    const std::string file = "synth-a-pure-" + std::string(format.name) + ".gguf";
    INFO(file);
    // Through QuantizeRows (the fastest path this CPU has) ...
    CHECK(testing::DiffAgainstReference(dir / "synth-a-convert-f32.gguf", dir, file) == "");
    // ... and through the scalar reference directly.
    int n_compared = 0;
    CHECK(testing::DiffRowQuantizer(dir / "synth-a-convert-f32.gguf", dir, file, format.type,
                                    format.reference, &n_compared) == "");
    CHECK(n_compared == 15);  // every 2-D tensor of synth-a
  }
}

TEST_CASE("convert_hf_to_gguf.py's numpy Q8_0 is ggml's Q8_0", "[legacy][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (std::string model : {"synth-a", "stories260K"}) {
    INFO(model);
    const auto dir = ReferenceDir(testdata, model);
    const auto f32 = dir / (model + "-convert-f32.gguf");
    const std::string file = model + "-convert-q8_0.gguf";
    // Every tensor: Q8_0 where the rows are whole blocks, F16 (stories260K's 172-wide
    // ffn_down) or F32 (norms) elsewhere; all must match.
    CHECK(testing::DiffAgainstReference(f32, dir, file) == "");
    int n_compared = 0;
    CHECK(testing::DiffRowQuantizer(f32, dir, file, GgmlType::kQ8_0, QuantizeRowQ8_0Ref,
                                    &n_compared) == "");
    CHECK(n_compared == (model == "synth-a" ? 15 : 31));
  }
}

TEST_CASE("legacy tensors of llama-quantize's default mixes match", "[legacy][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"synth-a", "synth-a-mix-Q4_0.gguf"},
      {"synth-a", "synth-a-mix-Q8_0.gguf"},
      {"stories260K", "stories260K-mix-Q2_K.gguf"},
      {"stories260K", "stories260K-mix-Q3_K_M.gguf"},
      {"stories260K", "stories260K-mix-Q4_K_M.gguf"},
      {"stories260K", "stories260K-mix-Q5_K_M.gguf"},
      {"stories260K", "stories260K-mix-Q6_K.gguf"}};
  int n_compared = 0;
  for (const auto& [model, file] : files) {
    INFO(file);
    const auto dir = ReferenceDir(testdata, model);
    for (const LegacyFormat& format : kLegacyFormats) {
      CHECK(testing::DiffRowQuantizer(dir / (model + "-convert-f32.gguf"), dir, file, format.type,
                                      format.reference, &n_compared) == "");
    }
  }
  CHECK(n_compared == 184);  // every Q4_0, Q5_0, Q5_1 and Q8_0 tensor of those files
}

// |x - x_hat| within half a step (a whole step at the one clamped level of Q4_0 / Q5_0),
// plus what rounding d and m to F16 can add; levels within the format's range.
void CheckRoundTripBounds(const LegacyFormat& format, std::span<const float> x,
                          std::span<const uint8_t> q, std::span<const float> x_hat) {
  // Half an F16 ulp at v (2^-25 for subnormal halves) bounds the rounding of d and m.
  auto half_ulp = [](double v) {
    return std::ldexp(1.0, std::max(std::ilogb(std::max(v, 0x1.0p-14)) - 11, -25));
  };
  const int64_t n_blocks = static_cast<int64_t>(x.size()) / 32;
  int64_t n_bad = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = q.data() + b * format.block_bytes;
    const double d = std::fabs(static_cast<double>(F16ToF32(BlockF16(block))));
    const double m = format.has_min ? std::fabs(F16ToF32(BlockF16(block, 2))) : 0.0;
    const double m_error = format.has_min ? half_ulp(m) : 0.0;
    for (int j = 0; j < 32; ++j) {
      const size_t i = static_cast<size_t>(b * 32 + j);
      const int level = format.level(block, j);
      const double steps = level == format.clamped_level ? 1.0 : 0.5;
      const double bound =
          steps * d + (std::abs(level) + 1) * half_ulp(d) + m_error + 1e-6 * (std::fabs(x[i]) + m);
      const bool bad = std::fabs(static_cast<double>(x[i]) - x_hat[i]) > bound ||
                       level < format.min_level || level > format.max_level;
      if (bad && ++n_bad <= 5) {
        UNSCOPED_INFO("element " << i << ": x " << x[i] << ", x_hat " << x_hat[i] << ", level "
                                 << level << ", d " << d);
      }
    }
  }
  CHECK(n_bad == 0);
}

TEST_CASE("legacy round trips stay within half a step", "[legacy][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = ReferenceDir(testdata, "synth-a");
  auto source = ReadGgufFile((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  for (const LegacyFormat& format : kLegacyFormats) {
    for (const GgufTensorInfo& info : source->tensors()) {
      if (info.shape.size() != 2) continue;
      INFO(format.name << " " << info.name);
      const auto bytes = source->TensorData(info);
      std::span<const float> x(reinterpret_cast<const float*>(bytes.data()),
                               static_cast<size_t>(info.n_elements()));
      const auto q = Quantize(format.type, x, info.row_length());
      CheckRoundTripBounds(format, x, q, Dequantize(format.type, q, x.size(), info.row_length()));
    }
  }
}

TEST_CASE("legacy random rows stay within half a step", "[legacy]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(32 * 64);
  for (size_t i = 0; i < x.size(); ++i) {
    const float scale = std::ldexp(1.0f, static_cast<int>(i / 32 % 40) - 20);  // 2^-20..2^19
    x[i] = normal(rng) * scale + (i / 32 % 3 == 0 ? scale * 3 : 0.0f);  // some shifted blocks
  }
  for (const LegacyFormat& format : kLegacyFormats) {
    INFO(format.name);
    const auto q = Quantize(format.type, x, 256);
    CheckRoundTripBounds(format, x, q, Dequantize(format.type, q, x.size(), 256));
  }
}

TEST_CASE("all-zero, constant and single blocks", "[legacy]") {
  SECTION("all zero (and negative zero)") {
    std::vector<float> x(32, 0.0f);
    x[3] = -0.0f;
    // Q4_0 / Q5_0 divide max = +0 by a negative number: d is -0.
    CHECK(Quantize(GgmlType::kQ4_0, x, 32) ==
          testing::Block(0x8000, {}, std::vector<uint8_t>(16, 0x88)));
    CHECK(Quantize(GgmlType::kQ5_0, x, 32) ==
          testing::Block(0x8000, {0xFF, 0xFF, 0xFF, 0xFF}, std::vector<uint8_t>(16, 0x00)));
    CHECK(Quantize(GgmlType::kQ4_1, x, 32) ==
          testing::Block(0x0000, {0x00, 0x00}, std::vector<uint8_t>(16, 0x00)));
    CHECK(Quantize(GgmlType::kQ5_1, x, 32) ==
          testing::Block(0x0000, std::vector<uint8_t>(6, 0x00), std::vector<uint8_t>(16, 0x00)));
    CHECK(Quantize(GgmlType::kQ8_0, x, 32) ==
          testing::Block(0x0000, {}, std::vector<uint8_t>(32, 0x00)));
    for (const LegacyFormat& format : kLegacyFormats) {
      for (float v : Dequantize(format.type, Quantize(format.type, x, 32), 32, 32)) {
        CHECK(v == 0.0f);
      }
    }
  }
  SECTION("constant") {
    const std::vector<float> x(32, 1.5f);
    // Q4_0: max 1.5, d = -0.1875, every code 0; Q4_1: d = 0, m = 1.5, every code 0.
    CHECK(Quantize(GgmlType::kQ4_0, x, 32) ==
          testing::Block(F32ToF16(-0.1875f), {}, std::vector<uint8_t>(16, 0x00)));
    CHECK(Quantize(GgmlType::kQ4_1, x, 32) ==
          testing::Block(0x0000, {0x00, 0x3E}, std::vector<uint8_t>(16, 0x00)));
    CHECK(Quantize(GgmlType::kQ8_0, x, 32) ==
          testing::Block(F32ToF16(1.5f / 127.0f), {}, std::vector<uint8_t>(32, 127)));
    for (const LegacyFormat& format : kLegacyFormats) {
      INFO(format.name);
      for (float v : Dequantize(format.type, Quantize(format.type, x, 32), 32, 32)) {
        CHECK(v == Approx(1.5f).epsilon(1e-3));
      }
    }
  }
  SECTION("a single block with every Q4_0 level") {
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8) * 0.25f;  // max -2: d 0.25
    const auto q = Quantize(GgmlType::kQ4_0, x, 32);
    CHECK(BlockF16(q.data()) == F32ToF16(0.25f));
    CHECK(Dequantize(GgmlType::kQ4_0, q, 32, 32) == x);
  }
}

TEST_CASE("legacy ties round as ggml does", "[legacy]") {
  // d = 1 in every case, so x * id is x itself.
  std::vector<float> x(32, 0.0f);
  SECTION("Q8_0: roundf, half away from zero") {
    x[0] = 127.0f;
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.5f;
    x[4] = -0.5f;
    x[5] = 126.5f;
    const auto q = Quantize(GgmlType::kQ8_0, x, 32);
    CHECK(BlockF16(q.data()) == 0x3C00);
    CHECK(std::vector<int>(q.begin() + 2, q.begin() + 8) ==
          std::vector<int>{127, 3, 256 - 3, 1, 256 - 1, 127});
  }
  SECTION("Q4_0: +8.5 then truncation, half toward +infinity") {
    x[0] = -8.0f;  // max -8: d = 1
    x[1] = 0.5f;   // 9.0 -> code 9
    x[2] = -0.5f;  // 8.0 -> code 8
    x[3] = 6.5f;   // 15.0 -> code 15
    x[4] = 7.5f;   // 16.0 -> clamped to 15
    x[5] = -7.5f;  // 1.0 -> code 1
    const auto q = Quantize(GgmlType::kQ4_0, x, 32);
    CHECK(BlockF16(q.data()) == 0x3C00);
    const std::vector<int> codes = {0, 9, 8, 15, 15, 1};
    for (int j = 0; j < 6; ++j) CHECK((q[2 + j] & 0x0F) == codes[j]);
  }
  SECTION("Q4_0: the first of two opposite extremes sets the sign of d") {
    x[0] = 3.0f;
    x[7] = -3.0f;
    CHECK(BlockF16(Quantize(GgmlType::kQ4_0, x, 32).data()) == F32ToF16(-0.375f));
    x[0] = -3.0f;
    x[7] = 3.0f;
    CHECK(BlockF16(Quantize(GgmlType::kQ4_0, x, 32).data()) == F32ToF16(0.375f));
  }
  SECTION("Q5_1: +0.5 then truncation") {
    x[0] = 31.0f;  // min 0, max 31: d = 1
    x[1] = 2.5f;   // 3.0 -> 3
    x[2] = 30.5f;  // 31.0 -> 31
    const auto q = Quantize(GgmlType::kQ5_1, x, 32);
    CHECK(BlockF16(q.data()) == 0x3C00);
    CHECK((q[8 + 1] & 0x0F) == 3);
    CHECK((q[8 + 2] & 0x0F) == 15);
    CHECK((q[4] & 0x07) == 0x05);  // bit 4 of codes 0 (31) and 2 (31), not 1 (3)
  }
}

TEST_CASE("legacy output does not depend on the thread count", "[legacy][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto source =
      ReadGgufFile((ReferenceDir(testdata, "synth-a") / "synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  const GgufTensorInfo* info = source->FindTensor("blk.0.ffn_down.weight");
  REQUIRE(info != nullptr);
  const auto bytes = source->TensorData(*info);
  std::span<const float> x(reinterpret_cast<const float*>(bytes.data()),
                           static_cast<size_t>(info->n_elements()));
  std::vector<float> importance(static_cast<size_t>(info->row_length()));
  for (size_t i = 0; i < importance.size(); ++i) importance[i] = 0.5f + static_cast<float>(i % 7);
  for (const LegacyFormat& format : kLegacyFormats) {
    for (bool weighted : {false, true}) {
      INFO(format.name << (weighted ? " with importance" : ""));
      QuantizeOptions options;
      if (weighted) options.importance = importance;
      options.n_threads = 1;
      const auto one = Quantize(format.type, x, info->row_length(), options);
      for (int n_threads : {2, 7}) {
        options.n_threads = n_threads;
        CHECK(Quantize(format.type, x, info->row_length(), options) == one);
      }
    }
  }
}

}  // namespace
}  // namespace qtk
