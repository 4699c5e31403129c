// Q4_0, Q4_1, Q5_0, Q5_1 with per-column importance (ggml's quantize_row_*_impl).
//
// The shared test data have no legacy file made with an importance matrix, so these tests
// pin what the search must do: its shortcuts, exact fits, the weighted error it lowers, and
// where the importance goes.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "legacy_test_support.h"
#include "qtk/base/float_convert.h"
#include "qtk/quant/quantize.h"
#include "quant/quant_legacy.h"

namespace qtk {
namespace {

using testing::kLegacyFormats;
using testing::LegacyFormat;

std::vector<uint8_t> QuantizeWith(GgmlType type, std::span<const float> x, int64_t row_length,
                                  std::span<const float> importance) {
  std::vector<uint8_t> out(x.size() / static_cast<size_t>(row_length) *
                           GgmlRowBytes(type, row_length));
  QuantizeOptions options;
  options.importance = importance;
  REQUIRE(QuantizeRows(type, x, row_length, out, options).ok());
  return out;
}

std::vector<float> Decode(GgmlType type, std::span<const uint8_t> q, size_t n, int64_t row_length) {
  std::vector<float> out(n);
  REQUIRE(DequantizeRows(type, q, row_length, out).ok());
  return out;
}

// Rows with per-block scale spread and a few outliers, like real weights.
std::vector<float> RealisticRows(int64_t n_rows, int64_t row_length, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_rows * row_length));
  for (size_t i = 0; i < x.size(); ++i) {
    const float block_scale = 0.02f * (1.0f + static_cast<float>(i / 32 % 5));
    x[i] = normal(rng) * block_scale * (i % 97 == 0 ? 8.0f : 1.0f);
  }
  return x;
}

TEST_CASE("Q8_0 ignores importance, as ggml does", "[legacy]") {
  const auto x = RealisticRows(4, 256, 1);
  std::vector<float> importance(256, 1.0f);
  importance[3] = 1000.0f;
  CHECK(QuantizeWith(GgmlType::kQ8_0, x, 256, importance) ==
        QuantizeWith(GgmlType::kQ8_0, x, 256, {}));
}

TEST_CASE("weighted legacy quantization uses the importance", "[legacy]") {
  const auto x = RealisticRows(64, 256, 2);
  std::vector<float> flat(256, 1.0f);
  std::vector<float> skewed(256);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& w : skewed) w = std::pow(uniform(rng), 4.0f) * 100.0f;  // a few dominate
  for (const LegacyFormat& format : kLegacyFormats) {
    if (format.weighted == nullptr) continue;
    INFO(format.name);
    const auto plain = QuantizeWith(format.type, x, 256, {});
    const auto weighted = QuantizeWith(format.type, x, 256, skewed);
    CHECK(weighted != plain);
    CHECK(weighted != QuantizeWith(format.type, x, 256, flat));
    // The search minimizes the error weighted by importance * sqrt(sigma2 + x^2).
    auto weighted_error = [&](const std::vector<uint8_t>& q) {
      const auto x_hat = Decode(format.type, q, x.size(), 256);
      double sigma2 = 0.0;
      double error = 0.0;
      for (size_t i = 0; i < x.size(); ++i) {
        if (i % 256 == 0) {
          sigma2 = 0.0;
          for (size_t k = i; k < i + 256; ++k) sigma2 += double{x[k]} * x[k] / 256.0;
        }
        const double w = skewed[i % 256] * std::sqrt(sigma2 + double{x[i]} * x[i]);
        error += w * (x[i] - x_hat[i]) * (x[i] - x_hat[i]);
      }
      return error;
    };
    CHECK(weighted_error(weighted) < 0.9 * weighted_error(plain));
    // Every block decodes within the format's range.
    for (size_t b = 0; b < weighted.size() / static_cast<size_t>(format.block_bytes); ++b) {
      for (int j = 0; j < 32; ++j) {
        const int level =
            format.level(weighted.data() + b * static_cast<size_t>(format.block_bytes), j);
        REQUIRE(level >= format.min_level);
        REQUIRE(level <= format.max_level);
      }
    }
  }
}

TEST_CASE("weighted legacy quantization: exact fits and shortcuts", "[legacy]") {
  const std::vector<float> ones(32, 1.0f);
  SECTION("values on a Q4_0 grid come back exactly") {
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8) * 0.25f;
    const auto q = QuantizeWith(GgmlType::kQ4_0, x, 32, ones);
    CHECK(Decode(GgmlType::kQ4_0, q, 32, 32) == x);
  }
  SECTION("values on a Q5_1 grid come back exactly") {
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) * 0.5f - 4.0f;
    const auto q = QuantizeWith(GgmlType::kQ5_1, x, 32, ones);
    CHECK(Decode(GgmlType::kQ5_1, q, 32, 32) == x);
  }
  SECTION("an all-zero block: ggml's shortcut writes d = +0 and codes 0") {
    const std::vector<float> zeros(32, 0.0f);
    // Unlike the reference path's d = -0 and codes 8 (Q4_0) or 16 (Q5_0).
    CHECK(QuantizeWith(GgmlType::kQ4_0, zeros, 32, ones) ==
          testing::Block(0x0000, {}, std::vector<uint8_t>(16, 0x00)));
    CHECK(QuantizeWith(GgmlType::kQ5_0, zeros, 32, ones) ==
          testing::Block(0x0000, std::vector<uint8_t>(4, 0x00), std::vector<uint8_t>(16, 0x00)));
    CHECK(QuantizeWith(GgmlType::kQ4_1, zeros, 32, ones) ==
          testing::Block(0x0000, {0x00, 0x00}, std::vector<uint8_t>(16, 0x00)));
    // A block below GROUP_MAX_EPS (1e-15) counts as zero for Q4_0 / Q5_0.
    std::vector<float> tiny(32, 1e-16f);
    CHECK(QuantizeWith(GgmlType::kQ4_0, tiny, 32, ones) ==
          testing::Block(0x0000, {}, std::vector<uint8_t>(16, 0x00)));
  }
  SECTION("Q4_1 keeps m <= 0: a positive constant block is d * 15") {
    const std::vector<float> x(32, 3.0f);
    const auto q = QuantizeWith(GgmlType::kQ4_1, x, 32, ones);
    CHECK(F16ToF32(static_cast<uint16_t>(q[2] | (q[3] << 8))) == 0.0f);  // m
    for (float v : Decode(GgmlType::kQ4_1, q, 32, 32)) CHECK(v == Approx(3.0f).epsilon(1e-3));
  }
  SECTION("zero importance on a column lets its error grow") {
    std::vector<float> x = RealisticRows(1, 32, 4);
    std::vector<float> importance(32, 1.0f);
    importance[5] = 0.0f;
    const auto with =
        Decode(GgmlType::kQ4_0, QuantizeWith(GgmlType::kQ4_0, x, 32, importance), 32, 32);
    importance[5] = 1e6f;  // and a huge one pins it
    const auto pinned =
        Decode(GgmlType::kQ4_0, QuantizeWith(GgmlType::kQ4_0, x, 32, importance), 32, 32);
    CHECK(std::fabs(pinned[5] - x[5]) <= std::fabs(with[5] - x[5]));
  }
}

}  // namespace
}  // namespace qtk
