// The individual paths behind ConvertF16ToF32 / ConvertBF16ToF32 (internal).
//
// The public functions pick the fastest path the running CPU has; tests and benchmarks call
// a path directly to compare it with the scalar reference. Every path gives the same bits
// for every input, NaN payloads included.
#ifndef QTK_BASE_FLOAT_CONVERT_PATHS_H_
#define QTK_BASE_FLOAT_CONVERT_PATHS_H_

#include <cstdint>
#include <span>

#include "base/cpu_features.h"

namespace qtk {

// The references: F16ToF32 / BF16ToF32 element by element. REQUIRES: equal sizes.
void ConvertF16ToF32Scalar(std::span<const uint16_t> src, std::span<float> dst);
void ConvertBF16ToF32Scalar(std::span<const uint16_t> src, std::span<float> dst);
// The same from little-endian bytes at any alignment. REQUIRES: src.size() == 2 * dst.size().
void ConvertF16BytesToF32Scalar(std::span<const uint8_t> src, std::span<float> dst);
void ConvertBF16BytesToF32Scalar(std::span<const uint8_t> src, std::span<float> dst);

#if QTK_HAVE_X86_SIMD
// F16C's vcvtph2ps, with NaNs converted as F16ToF32 does (vcvtph2ps would set the quiet bit
// of a signalling NaN). REQUIRES: CpuHasAvx2F16c(), equal sizes.
void ConvertF16ToF32F16c(std::span<const uint16_t> src, std::span<float> dst);
// Widen and shift by 16 bits. REQUIRES: CpuHasAvx2(), equal sizes.
void ConvertBF16ToF32Avx2(std::span<const uint16_t> src, std::span<float> dst);
// The byte versions of the two (unaligned loads). REQUIRES: as above, and
// src.size() == 2 * dst.size().
void ConvertF16BytesToF32F16c(std::span<const uint8_t> src, std::span<float> dst);
void ConvertBF16BytesToF32Avx2(std::span<const uint8_t> src, std::span<float> dst);
#endif

}  // namespace qtk

#endif  // QTK_BASE_FLOAT_CONVERT_PATHS_H_
