// Conversions between F32 and the 16-bit float formats, exactly as ggml and PyTorch do them:
// round to nearest, ties to even; NaN stays NaN (F16: the canonical quiet NaN with the sign
// kept; BF16: the top bits kept with the quiet bit set); overflow goes to infinity.
#ifndef QTK_BASE_FLOAT_CONVERT_H_
#define QTK_BASE_FLOAT_CONVERT_H_

#include <bit>
#include <cstdint>
#include <span>

namespace qtk {

inline float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) {
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
  // Zero or subnormal: mantissa * 2^-24, exact in F32.
  const float magnitude = static_cast<float>(mantissa) * 0x1.0p-24f;
  return sign != 0 ? -magnitude : magnitude;
}

inline uint16_t F32ToF16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);   // NaN
  if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: inf
  if (magnitude < 0x38800000u) {
    // Below the smallest normal half (2^-14): a subnormal half in units of 2^-24.
    if (magnitude < 0x33000000u) return sign;  // <= 2^-25 rounds to zero
    const uint32_t exponent = magnitude >> 23;
    const uint32_t mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - exponent;
    uint32_t q = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (q & 1u) != 0)) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t q = (magnitude - 0x38000000u) >> 13;  // rebias the exponent from 127 to 15
  const uint32_t rest = magnitude & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (q & 1u) != 0)) ++q;
  return static_cast<uint16_t>(sign | q);
}

inline float BF16ToF32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

inline uint16_t F32ToBF16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<uint16_t>((bits >> 16) | 64u);  // NaN: keep it quiet
  }
  return static_cast<uint16_t>((bits + (0x7FFFu + ((bits >> 16) & 1u))) >> 16);
}

// Bulk conversions. REQUIRES: equal sizes.
void ConvertF16ToF32(std::span<const uint16_t> src, std::span<float> dst);
void ConvertBF16ToF32(std::span<const uint16_t> src, std::span<float> dst);
// The same from little-endian bytes at any alignment (tensor data in a file).
// REQUIRES: src.size() == 2 * dst.size().
void ConvertF16BytesToF32(std::span<const uint8_t> src, std::span<float> dst);
void ConvertBF16BytesToF32(std::span<const uint8_t> src, std::span<float> dst);
void ConvertF32ToF16(std::span<const float> src, std::span<uint16_t> dst);
void ConvertF32ToBF16(std::span<const float> src, std::span<uint16_t> dst);

}  // namespace qtk

#endif  // QTK_BASE_FLOAT_CONVERT_H_
