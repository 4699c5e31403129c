// Decoding tensor data of any element type to F32.
#ifndef QTK_QUANT_DTYPE_CONVERT_H_
#define QTK_QUANT_DTYPE_CONVERT_H_

#include <cstdint>
#include <span>

#include "qtk/base/status.h"
#include "qtk/format/tensor_dtype.h"

namespace qtk {

// Decodes dst.size() elements of `dtype` from `bytes` (any alignment) into dst:
//   F32 copied; F16, BF16 exactly; F64 rounded to nearest (as numpy/PyTorch .float());
//   I8..I64, U8..U64 converted to the nearest float; BOOL 0 or 1;
//   F8_E4M3 (the "fn" variant: no infinities, 0x7F/0xFF NaN) and F8_E5M2 exactly;
//   ggml block types through their dequantizers.
// REQUIRES: bytes.size() == dtype.RowBytes(dst.size()).
// Errors: Unsupported for a type qtk cannot decode; InvalidArgument for a size mismatch.
Status DecodeToF32(TensorDtype dtype, std::span<const uint8_t> bytes, std::span<float> dst,
                   int n_threads = 1);

// One F8 value as F32.
float F8E4M3ToF32(uint8_t value);
float F8E5M2ToF32(uint8_t value);

}  // namespace qtk

#endif  // QTK_QUANT_DTYPE_CONVERT_H_
