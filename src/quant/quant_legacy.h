// The legacy block formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0, one row at a time (internal).
//
// quant_kernels.h's table (LegacyKernels()) is what the library uses; this header exposes
// the individual paths so tests and benchmarks can call one directly, e.g. the scalar
// reference next to its AVX2 twin, without any global switch. Block layouts and the
// reference formulas are described at the top of quant_legacy.cc.
//
// Common REQUIRES for every function here: n > 0 and n % 32 == 0; x holds n finite floats
// (QuantizeRows checks that); y holds n / 32 blocks.
//
// Implemented in quant_legacy.cc (the reference kernels), quant_legacy_avx2.cc (their AVX2
// twins) and quant_legacy_weighted.cc (with importance).
#ifndef QTK_QUANT_QUANT_LEGACY_H_
#define QTK_QUANT_QUANT_LEGACY_H_

#include <cstdint>

#include "base/cpu_features.h"

namespace qtk {

inline constexpr int64_t kLegacyBlockSize = 32;  // QK4_0 = QK4_1 = QK5_0 = QK5_1 = QK8_0

// The block layouts (quant_legacy.cc describes each field): the one place their sizes are
// stated; ggml_type.cc's table holds the same numbers and tests/quant/block_layout_test.cc
// checks they agree.
// F16 fields are raw little-endian bits; qh is four bytes so that no padding appears.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kLegacyBlockSize / 2];
};
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kLegacyBlockSize / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kLegacyBlockSize / 2];
};
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kLegacyBlockSize / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kLegacyBlockSize];
};
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);

// Scalar reference quantizers without importance: ggml's quantize_row_*_ref, bit for bit.
// These are what llama-quantize writes when it has no importance matrix.
void QuantizeRowQ4_0Ref(const float* x, uint8_t* y, int64_t n);
void QuantizeRowQ4_1Ref(const float* x, uint8_t* y, int64_t n);
void QuantizeRowQ5_0Ref(const float* x, uint8_t* y, int64_t n);
void QuantizeRowQ5_1Ref(const float* x, uint8_t* y, int64_t n);
void QuantizeRowQ8_0Ref(const float* x, uint8_t* y, int64_t n);

// Quantizers with per-column importance: ggml's quantize_row_*_impl with quant_weights set
// (llama-quantize --imatrix). `x` must be one whole row: its mean square enters the weights.
// REQUIRES: importance holds n weights. (Q8_0 has no such variant: ggml ignores importance.)
void QuantizeRowQ4_0Weighted(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ4_1Weighted(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ5_0Weighted(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ5_1Weighted(const float* x, uint8_t* y, int64_t n, const float* importance);

// Decoders: ggml's dequantize_row_*.
void DequantizeRowQ4_0(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ4_1(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ5_0(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ5_1(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ8_0(const uint8_t* y, float* x, int64_t n);

#if QTK_HAVE_X86_SIMD
// AVX2 twins of QuantizeRowQ8_0Ref / QuantizeRowQ4_0Ref: the same bytes for every finite
// input (quant_legacy_avx2.cc). REQUIRES: CpuHasAvx2().
void QuantizeRowQ8_0Avx2(const float* x, uint8_t* y, int64_t n);
void QuantizeRowQ4_0Avx2(const float* x, uint8_t* y, int64_t n);
#endif

// Scalar helpers shared by the reference, AVX2 and importance paths, so all treat a block the
// same way.

// ggml writes a float to an 8-bit code with a plain C cast, `(int8_t)f` or `(uint8_t)f`.
// The reference x86-64 build does that with cvttss2si (truncate to int32; NaN and values
// outside int32 give INT32_MIN) and keeps the low byte. Spelled out here so that the result
// is defined for every input: a block of tiny values can make 1/d overflow to infinity.
inline uint8_t TruncateToByteLikeX86(float v) {
  const int32_t i =
      (v >= -2147483648.0f && v < 2147483648.0f) ? static_cast<int32_t>(v) : INT32_MIN;
  return static_cast<uint8_t>(static_cast<uint32_t>(i) & 0xFFu);
}

// The same byte read as ggml's int8_t.
inline int TruncateToInt8LikeX86(float v) { return static_cast<int8_t>(TruncateToByteLikeX86(v)); }

// Packs a block's 32 codes of up to 5 bits: the low nibbles of codes j and j + 16 into qs[j]
// (low, high), bit 4 of code j into bit j of the returned qh. Q5_0 and Q5_1 store qh; the
// importance paths of Q4_0 and Q4_1 use only qs. (Their paths without importance combine
// the codes unmasked, as ggml does, so they do not call this.)
inline uint32_t PackLegacyNibbles(const uint8_t* codes, uint8_t* qs) {
  constexpr int kHalf = static_cast<int>(kLegacyBlockSize / 2);
  uint32_t qh = 0;
  for (int j = 0; j < kHalf; ++j) {
    qs[j] = static_cast<uint8_t>((codes[j] & 0x0F) | ((codes[j + kHalf] & 0x0F) << 4));
    qh |= ((codes[j] & 0x10u) >> 4) << j;
    qh |= ((codes[j + kHalf] & 0x10u) >> 4) << (j + kHalf);
  }
  return qh;
}

}  // namespace qtk

#endif  // QTK_QUANT_QUANT_LEGACY_H_
