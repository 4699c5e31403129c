// Tensor shapes.
//
// The convention of every public type that models a tensor for quantization (GgufTensorInfo,
// InputTensor, PlannedTensor, WeightInfo, ...) is GGUF's: shape[0] is the innermost
// dimension, the row length (ne[0]), and the last is the outermost. The two types that show
// a file's tensors as the file stores them (ModelTensor, SafetensorsTensorInfo, and the
// Hugging Face side of conversion) keep the stored order, outermost first, and say so where
// they are declared; ToGgufOrder turns one into the other.
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

// An outermost-first shape in GGUF order, and back (the reverse either way).
inline std::vector<int64_t> ToGgufOrder(std::span<const int64_t> shape) {
  return std::vector<int64_t>(shape.rbegin(), shape.rend());
}

}  // namespace qtk

#endif  // QTK_BASE_SHAPE_H_
