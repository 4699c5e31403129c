// Quantizing rows of F32 into ggml tensor types, and back.
//
// Each ggml type has a kernel: a pure function from one row of floats to that row's bytes
// (and back), byte-identical to llama.cpp's reference quantizer (ggml-quants.c). Rows are
// split into contiguous chunks across threads, so the output does not depend on the thread
// count. Generic schemes that ggml has no type for (per-channel INT4, NF4, ...) live in
// qtk/scheme/affine.h and qtk/scheme/nf4.h.
#ifndef QTK_QUANT_QUANTIZE_H_
#define QTK_QUANT_QUANTIZE_H_

#include <cstdint>
#include <optional>
#include <span>

#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"

namespace qtk {

struct QuantizeOptions {
  // Threads to use; <= 0 means all hardware threads. Default: 1.
  int n_threads = 1;
  // Per-column importance weights (one per element of a row) from an importance matrix,
  // as llama-quantize's --imatrix uses them. Empty: none. Default: empty.
  std::span<const float> importance;
  // Reject NaN and infinity in the input. Default: on. Callers that applied their own policy
  // (or checked already) turn it off.
  bool check_finite = true;
};

// True if qtk can write `type` from F32 (F32, F16, BF16 and the block formats it implements).
bool CanQuantize(GgmlType type);
// True if qtk can decode `type` to F32.
bool CanDequantize(GgmlType type);
// True if `type` cannot be made without an importance matrix at all (ggml's
// ggml_quantize_requires_imatrix: the IQ2/IQ1 families). The one statement of that fact;
// plan.h's TypeDecision::requires_importance adds llama-quantize's per-mix rules to it.
bool RequiresImportance(GgmlType type);

// Quantizes src (n_rows x row_length, row-major) into dst.
// REQUIRES: src.size() % row_length == 0, dst.size() == n_rows * GgmlRowBytes(type, row_length),
//           importance empty or row_length long.
// Errors: InvalidArgument if row_length is not a multiple of the type's block size, sizes do
// not match, the type cannot be quantized (or needs importance and has none), or src holds a
// NaN or an infinity ("element 1234 (row 3, column 210) is nan").
Status QuantizeRows(GgmlType type, std::span<const float> src, int64_t row_length,
                    std::span<uint8_t> dst, const QuantizeOptions& options = {});

// Decodes src (rows of `type`) into dst (n_rows x row_length F32).
Status DequantizeRows(GgmlType type, std::span<const uint8_t> src, int64_t row_length,
                      std::span<float> dst, int n_threads = 1);

// Index of the first NaN or infinity in `values`, if any.
std::optional<int64_t> FindNonFinite(std::span<const float> values);

}  // namespace qtk

#endif  // QTK_QUANT_QUANTIZE_H_
