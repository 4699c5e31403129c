#include "qtk/base/float_convert.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace qtk {
namespace {

// An independent F32 -> F16 reference: round-to-nearest-even done in double arithmetic.
uint16_t ReferenceF32ToF16(float f) {
  if (std::isnan(f)) return static_cast<uint16_t>((std::signbit(f) ? 0x8000 : 0) | 0x7E00);
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7C00;
  if (a < std::ldexp(1.0, -14)) {
    const double units = std::nearbyint(a * std::ldexp(1.0, 24));  // ties to even
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(units));
  }
  int e;
  const double m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  double mant = std::nearbyint((m * 2.0 - 1.0) * 1024.0);
  int exponent = e - 1 + 15;
  if (mant == 1024.0) {
    mant = 0;
    ++exponent;
  }
  return static_cast<uint16_t>(sign | (exponent << 10) | static_cast<int>(mant));
}

TEST_CASE("F16 round trip is exact for every half value", "[float]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = F16ToF32(half);
    if (std::isnan(f)) {
      CHECK((F32ToF16(f) & 0x7C00) == 0x7C00);
      CHECK((F32ToF16(f) & 0x3FF) != 0);
      continue;
    }
    REQUIRE(F32ToF16(f) == half);
  }
}

TEST_CASE("F32 to F16 matches an independent round-to-nearest-even", "[float]") {
  // Every 4099th float bit pattern covers normals, subnormals, ties and overflow.
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 4099) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(bits));
    INFO(bits);
    REQUIRE(F32ToF16(f) == ReferenceF32ToF16(f));
  }
  CHECK(F32ToF16(65519.0f) == 0x7BFF);
  CHECK(F32ToF16(65520.0f) == 0x7C00);
  CHECK(F32ToF16(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(F32ToF16(-0.0f) == 0x8000);
  CHECK(F32ToF16(0x1.0p-25f) == 0x0000);  // tie to even: zero
  CHECK(F32ToF16(0x1.8p-25f) == 0x0001);  // above the tie
  CHECK(F32ToF16(std::nanf("")) == 0x7E00);
  CHECK(F32ToF16(-std::nanf("")) == 0xFE00);
}

TEST_CASE("BF16 rounds to nearest even and keeps NaN quiet", "[float]") {
  CHECK(F32ToBF16(1.0f) == 0x3F80);
  CHECK(F32ToBF16(std::bit_cast<float>(0x3F808000u)) == 0x3F80);  // tie, even stays
  CHECK(F32ToBF16(std::bit_cast<float>(0x3F818000u)) == 0x3F82);  // tie, odd rounds up
  CHECK(F32ToBF16(std::bit_cast<float>(0x3F808001u)) == 0x3F81);
  CHECK(F32ToBF16(std::bit_cast<float>(0x7F800001u)) == 0x7FC0);  // signalling NaN made quiet
  CHECK(F32ToBF16(std::bit_cast<float>(0xFF800001u)) == 0xFFC0);
  CHECK(F32ToBF16(std::numeric_limits<float>::infinity()) == 0x7F80);
  CHECK(F32ToBF16(std::bit_cast<float>(0x7F7FFFFFu)) == 0x7F80);  // max float rounds to inf
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = BF16ToF32(static_cast<uint16_t>(b));
    if (!std::isnan(f)) REQUIRE(F32ToBF16(f) == b);
  }
}

}  // namespace
}  // namespace qtk
