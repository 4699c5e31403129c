// The per-type row kernels behind qtk/quant/quantize.h (internal).
//
// Each family file (quant_float.cc, quant_legacy.cc, quant_kquants.cc, quant_iq.cc) exports
// its table; quantize.cc looks kernels up by type. A kernel handles exactly one row of n
// elements, n a multiple of the type's block size, and must be deterministic and
// thread-safe (no shared scratch).
#ifndef QTK_QUANT_QUANT_KERNELS_H_
#define QTK_QUANT_QUANT_KERNELS_H_

#include <cstdint>
#include <span>

#include "qtk/format/ggml_type.h"

namespace qtk {

struct QuantKernel {
  GgmlType type;
  // Quantizes x[0..n) into y. `importance` is nullptr or n per-column weights.
  void (*quantize_row)(const float* x, uint8_t* y, int64_t n, const float* importance);
  // Decodes y's n elements into x.
  void (*dequantize_row)(const uint8_t* y, float* x, int64_t n);
};

std::span<const QuantKernel> FloatKernels();   // F32, F16, BF16
std::span<const QuantKernel> LegacyKernels();  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
std::span<const QuantKernel> KQuantKernels();  // Q2_K ... Q6_K
std::span<const QuantKernel> IqKernels();      // IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4

// nullptr if no family implements `type`.
const QuantKernel* FindQuantKernel(GgmlType type);

}  // namespace qtk

#endif  // QTK_QUANT_QUANT_KERNELS_H_
