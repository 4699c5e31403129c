// The pipeline's fast paths over F32 values: the one-pass scan for non-finite values and the
// largest magnitude (scalar, AVX2, threaded), and F16/BF16 decoding from bytes at any address.
// Each must give exactly what the plain per-element code gives.
#include "base/value_scan.h"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/float_convert_paths.h"
#include "qtk/base/float_convert.h"

namespace qtk {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

// What the scan must report, element by element.
ValueScan Expected(const std::vector<float>& values) {
  ValueScan scan;
  float largest = 0.0f;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]) && !scan.first_non_finite) {
      scan.first_non_finite = static_cast<int64_t>(i);
    }
    largest = std::max(largest, std::fabs(values[i]));
  }
  scan.largest_magnitude = largest;
  return scan;
}

void CheckScan(const std::vector<float>& values) {
  const ValueScan expected = Expected(values);
  std::vector<ValueScan> scans = {ScanValuesScalar(values), ScanValues(values),
                                  ScanValues(values, 1), ScanValues(values, 2),
                                  ScanValues(values, 7)};
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2()) scans.push_back(ScanValuesAvx2(values));
#endif
  for (const ValueScan& scan : scans) {
    REQUIRE(scan.first_non_finite == expected.first_non_finite);
    if (!expected.first_non_finite) {
      REQUIRE(std::bit_cast<uint32_t>(scan.largest_magnitude) ==
              std::bit_cast<uint32_t>(expected.largest_magnitude));
    }
  }
}

TEST_CASE("the value scan finds the first non-finite value and the largest magnitude",
          "[value_scan]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  // Every length around the vector widths, and sizes that split over threads.
  for (size_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 100, 65536, 3 * 65536 + 5}) {
    std::vector<float> values(n);
    for (float& v : values) v = normal(rng);
    INFO("n = " << n);
    CheckScan(values);
    if (n == 0) continue;
    // The largest at the end (the scalar tail), negative, and a denormal-only row.
    values.back() = -1e30f;
    CheckScan(values);
    std::vector<float> denormals(n, 1e-42f);
    denormals[n / 2] = -2e-42f;
    CheckScan(denormals);
    // Non-finite values anywhere: the first one is reported, wherever the others are.
    for (float bad : {kNan, -kNan, kInf, -kInf}) {
      for (size_t at : {size_t{0}, n / 3, n - 1}) {
        std::vector<float> with_bad = values;
        with_bad[at] = bad;
        if (at + 1 < n) with_bad[n - 1] = kNan;
        CheckScan(with_bad);
      }
    }
  }
  CHECK(ScanValues(std::vector<float>{-0.0f, 0.0f}).largest_magnitude == 0.0f);
  CHECK(ScanValues(std::vector<float>{3.0f, -4.5f, 1.0f}).largest_magnitude == 4.5f);
}

// Halves from `words` stored little-endian at byte offset `shift` of a buffer.
std::vector<uint8_t> Unaligned(const std::vector<uint16_t>& words, size_t shift) {
  std::vector<uint8_t> bytes(shift + 2 * words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    bytes[shift + 2 * i] = static_cast<uint8_t>(words[i] & 0xFF);
    bytes[shift + 2 * i + 1] = static_cast<uint8_t>(words[i] >> 8);
  }
  return bytes;
}

TEST_CASE("F16 and BF16 decode from bytes at any alignment as element by element",
          "[value_scan][float]") {
  std::vector<uint16_t> words(0x10000 + 13);  // every half, and a tail past the vector width
  for (size_t i = 0; i < words.size(); ++i) words[i] = static_cast<uint16_t>(i * 40503u);
  for (size_t i = 0; i < 0x10000; ++i) words[i] = static_cast<uint16_t>(i);
  for (size_t shift : {0, 1, 3}) {
    const std::vector<uint8_t> bytes = Unaligned(words, shift);
    const std::span<const uint8_t> src(bytes.data() + shift, 2 * words.size());
    std::vector<float> f16(words.size()), bf16(words.size());
    ConvertF16BytesToF32(src, f16);
    ConvertBF16BytesToF32(src, bf16);
    std::vector<float> f16_scalar(words.size()), bf16_scalar(words.size());
    ConvertF16BytesToF32Scalar(src, f16_scalar);
    ConvertBF16BytesToF32Scalar(src, bf16_scalar);
    INFO("shift " << shift);
    for (size_t i = 0; i < words.size(); ++i) {
      REQUIRE(std::bit_cast<uint32_t>(f16[i]) == std::bit_cast<uint32_t>(F16ToF32(words[i])));
      REQUIRE(std::bit_cast<uint32_t>(bf16[i]) == std::bit_cast<uint32_t>(BF16ToF32(words[i])));
      REQUIRE(std::bit_cast<uint32_t>(f16_scalar[i]) == std::bit_cast<uint32_t>(f16[i]));
      REQUIRE(std::bit_cast<uint32_t>(bf16_scalar[i]) == std::bit_cast<uint32_t>(bf16[i]));
    }
  }
}

}  // namespace
}  // namespace qtk
