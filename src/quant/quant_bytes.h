// Little-endian loads and stores of the scalar fields inside quantized blocks (internal).
//
// GGUF data are little-endian: the f16 scales of the block formats, Q5_0/Q5_1's 32-bit qh
// and IQ4_XS's 16-bit scales_h all store their low byte first. On a little-endian host that
// is a plain unaligned copy, which compiles to one move (GCC 12 does not merge byte-by-byte
// stores into one); elsewhere the bytes are assembled one by one.
// REQUIRES (every function): p points to at least as many bytes as the value is wide; it
// need not be aligned.
#ifndef QTK_QUANT_QUANT_BYTES_H_
#define QTK_QUANT_QUANT_BYTES_H_

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>

#include "qtk/base/float_convert.h"

namespace qtk {

template <std::unsigned_integral T>
T LoadLe(const uint8_t* p) {
  T value;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, p, sizeof(T));
  } else {
    value = 0;
    for (size_t i = 0; i < sizeof(T); ++i) value = static_cast<T>(value | (T{p[i]} << (8 * i)));
  }
  return value;
}

template <std::unsigned_integral T>
void StoreLe(uint8_t* p, T value) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &value, sizeof(T));
  } else {
    for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

inline uint16_t LoadU16Le(const uint8_t* p) { return LoadLe<uint16_t>(p); }
inline void StoreU16Le(uint8_t* p, uint16_t value) { StoreLe(p, value); }
inline uint32_t LoadU32Le(const uint8_t* p) { return LoadLe<uint32_t>(p); }
inline void StoreU32Le(uint8_t* p, uint32_t value) { StoreLe(p, value); }

// An f16 field: IEEE half bits, rounded to nearest even on the way in (F32ToF16).
inline float LoadF16Le(const uint8_t* p) { return F16ToF32(LoadU16Le(p)); }
inline void StoreF16Le(uint8_t* p, float value) { StoreU16Le(p, F32ToF16(value)); }

}  // namespace qtk

#endif  // QTK_QUANT_QUANT_BYTES_H_
