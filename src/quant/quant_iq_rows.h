// Row kernels behind IqKernels() (internal): IQ4_NL and IQ4_XS (quant_iq4.cc), TQ1_0 and
// TQ2_0 (quant_ternary.cc), MXFP4 (quant_mxfp4.cc). Each file documents its block layouts.
//
// Every function handles one row of n elements and has the QuantKernel signatures.
// REQUIRES: n is a multiple of the type's block size (32 for IQ4_NL and MXFP4, 256 for the
// rest); y holds GgmlRowBytes(type, n) bytes; importance is nullptr or n weights.
// Thread-safe: all scratch lives on the caller's stack.
#ifndef QTK_QUANT_QUANT_IQ_ROWS_H_
#define QTK_QUANT_QUANT_IQ_ROWS_H_

#include <cstdint>

namespace qtk {

void QuantizeRowIq4Nl(const float* x, uint8_t* y, int64_t n, const float* importance);
void DequantizeRowIq4Nl(const uint8_t* y, float* x, int64_t n);

void QuantizeRowIq4Xs(const float* x, uint8_t* y, int64_t n, const float* importance);
void DequantizeRowIq4Xs(const uint8_t* y, float* x, int64_t n);

// The ternary formats and MXFP4 ignore `importance`, as llama.cpp does.
void QuantizeRowTq1_0(const float* x, uint8_t* y, int64_t n, const float* importance);
void DequantizeRowTq1_0(const uint8_t* y, float* x, int64_t n);

void QuantizeRowTq2_0(const float* x, uint8_t* y, int64_t n, const float* importance);
void DequantizeRowTq2_0(const uint8_t* y, float* x, int64_t n);

void QuantizeRowMxfp4(const float* x, uint8_t* y, int64_t n, const float* importance);
void DequantizeRowMxfp4(const uint8_t* y, float* x, int64_t n);

}  // namespace qtk

#endif  // QTK_QUANT_QUANT_IQ_ROWS_H_
