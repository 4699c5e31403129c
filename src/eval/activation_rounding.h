// What ggml's CPU backend does to the activations before a matrix product, so the
// reference forward pass can compute what llama-perplexity computes (internal to eval/).
//
// ggml_mul_mat converts its F32 input rows to the weight type's `vec_dot_type` and takes
// the dot products there: F16 weights meet F16 activations, BF16 weights BF16, Q4_0, Q5_0,
// Q8_0, IQ4_NL and MXFP4 meet Q8_0 (blocks of 32, scale amax/127 stored as F16), Q4_1 and
// Q5_1 meet Q8_1 (the same, with a block sum), K-quants, IQ and ternary types meet Q8_K
// (blocks of 256, scale −max/127 by the signed extreme, F32). Rounding an activation row
// through that format and then multiplying in F32 gives the same products up to the order
// of the float sums. On stories260K this rounding is half of llama-perplexity's KLD for a
// Q8_0 file (docs/eval.md), so it is on by default; qtk's own schemes have no ggml product
// and get F32 activations.
#ifndef QTK_EVAL_ACTIVATION_ROUNDING_H_
#define QTK_EVAL_ACTIVATION_ROUNDING_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace qtk {

// kQ4_0 is not an activation format: it is a quantized KV cache's (ggml_cpy into Q4_0).
enum class ActivationFormat { kF32, kF16, kBF16, kQ8_0, kQ8_1, kQ8_K, kQ4_0 };

// The format ggml's CPU backend gives the activations multiplied by a weight of type
// `weight_type` (a ggml type name; anything else, such as a qtk scheme: kF32).
ActivationFormat GgmlActivationFormat(std::string_view weight_type);

// Rounds `row` in place through `format` (quantize, then decode).
// REQUIRES: for the block formats, row.size() is a multiple of the block (32 or 256), which
// the weight's own block size guarantees.
void RoundActivations(ActivationFormat format, std::span<float> row);

}  // namespace qtk

#endif  // QTK_EVAL_ACTIVATION_ROUNDING_H_
