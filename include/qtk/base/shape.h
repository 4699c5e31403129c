// Tensor shapes.
//
// One convention for the public types that model a tensor (GgufTensorInfo, ModelTensor,
// InputTensor, PlannedTensor, WeightInfo, ...): GGUF's. shape[0] is the innermost dimension,
// the row length (ne[0]); the last is the outermost.
//
// Outermost first is how safetensors, numpy and PyTorch write shapes, and how qtk shows them
// to people (`qtk inspect`). It appears only where those files are parsed or written
// (SafetensorsTensorInfo, SafetensorsTensorSpec) and on the Hugging Face side of conversion
// (HfTensor, and SynthTensor, which describes a Hugging Face checkpoint), each of which says
// so; ToGgufOrder and ToOutermostFirst convert.
#ifndef QTK_BASE_SHAPE_H_
#define QTK_BASE_SHAPE_H_

#include <cstdint>
#include <span>
#include <vector>

namespace qtk {

// The number of elements: the product of the dimensions (1 for a scalar, rank 0).
// REQUIRES: the product fits in int64 (the readers check this before building a shape).
inline int64_t ElementCount(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// An outermost-first shape in GGUF order.
inline std::vector<int64_t> ToGgufOrder(std::span<const int64_t> outermost_first) {
  return std::vector<int64_t>(outermost_first.rbegin(), outermost_first.rend());
}

// A GGUF-order shape outermost first.
inline std::vector<int64_t> ToOutermostFirst(std::span<const int64_t> gguf_order) {
  return std::vector<int64_t>(gguf_order.rbegin(), gguf_order.rend());
}

}  // namespace qtk

#endif  // QTK_BASE_SHAPE_H_
