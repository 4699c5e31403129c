// MXFP4, the OCP microscaling 4-bit float format, byte-identical to llama.cpp's
// quantize_row_mxfp4_ref (ggml-quants.c).
//
// MXFP4 block: 32 elements, 17 bytes
//   byte 0        e, E8M0: a bare biased exponent, the shared scale 2^(e - 127)
//   bytes 1..16   qs[16]: byte j holds element j's code in its low nibble and element
//                 j+16's in its high nibble
// A code is E2M1: bit 3 the sign, bits 0..2 the magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
// ggml keeps those magnitudes doubled as integers (kDoubledValues) and halves the scale
// instead, so an element decodes as kDoubledValues[code] * 2^(e - 128).
//
// Quantizing: e = floor(log2(max |x|)) - 2 + 127 (0 for an all-zero block), which puts the
// largest element within [4, 8) times 2^(e - 127), near the top magnitude 6; each element
// then takes the code whose value is nearest, the lowest code on a tie (so +0, not -0).
#include <array>
#include <bit>
#include <cmath>

#include "quant/quant_iq_rows.h"

namespace qtk {
namespace {

constexpr int kBlockSize = 32;
constexpr int64_t kBlockBytes = 1 + kBlockSize / 2;

constexpr std::array<int8_t, 16> kDoubledValues = {0, 1,  2,  3,  4,  6,  8,  12,
                                                   0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128), exact: subnormal for e < 2 (ggml's GGML_E8M0_TO_FP32_HALF).
inline float HalfScale(uint8_t e) {
  const uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23;
  return std::bit_cast<float>(bits);
}

// The shared exponent for a block whose largest magnitude is `amax`.
inline uint8_t SharedExponent(float amax) {
  if (!(amax > 0.0f)) return 0;
  // log2f must be the C library's, as in the reference: near a power of two its rounding
  // decides the floor. The reference casts this float straight to uint8_t; x86-64 compilers
  // convert through a 32-bit integer and keep the low byte, which only matters when
  // amax < 2^-125 makes the exponent negative. Doing that explicitly keeps it defined.
  // An infinite amax (--nan-policy keep) has no exponent: x86-64's conversion of infinity
  // yields INT32_MIN, whose low byte is 0, so the reference writes 0; the cast would be
  // undefined here.
  const float biased = std::floor(std::log2(amax)) - 2 + 127;
  if (!std::isfinite(biased)) return 0;
  return static_cast<uint8_t>(static_cast<int32_t>(biased));
}

// The code whose value (times `half_scale`) is nearest to x; the first one on a tie.
inline int NearestCode(float x, float half_scale) {
  int best_code = 0;
  float best_error = std::fabs(static_cast<float>(kDoubledValues[0]) * half_scale - x);
  for (int code = 1; code < 16; ++code) {
    const float error = std::fabs(static_cast<float>(kDoubledValues[code]) * half_scale - x);
    if (error < best_error) {
      best_code = code;
      best_error = error;
    }
  }
  return best_code;
}

}  // namespace

void QuantizeRowMxfp4(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const float* xb = x + block * kBlockSize;
    uint8_t* yb = y + block * kBlockBytes;
    float amax = 0.0f;
    for (int j = 0; j < kBlockSize; ++j) {
      if (amax < std::fabs(xb[j])) amax = std::fabs(xb[j]);
    }
    const uint8_t e = SharedExponent(amax);
    const float half_scale = HalfScale(e);
    yb[0] = e;
    for (int j = 0; j < kBlockSize / 2; ++j) {
      const int low = NearestCode(xb[j], half_scale);
      const int high = NearestCode(xb[j + kBlockSize / 2], half_scale);
      yb[1 + j] = static_cast<uint8_t>(low | (high << 4));
    }
  }
}

void DequantizeRowMxfp4(const uint8_t* y, float* x, int64_t n) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const uint8_t* yb = y + block * kBlockBytes;
    float* xb = x + block * kBlockSize;
    const float half_scale = HalfScale(yb[0]);
    for (int j = 0; j < kBlockSize / 2; ++j) {
      xb[j] = static_cast<float>(kDoubledValues[yb[1 + j] & 0xF]) * half_scale;
      xb[j + kBlockSize / 2] = static_cast<float>(kDoubledValues[yb[1 + j] >> 4]) * half_scale;
    }
  }
}

}  // namespace qtk
