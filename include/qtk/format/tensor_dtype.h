// The element type of a tensor in either file format: one of ggml's types (GGUF) or one of
// safetensors' dtypes.
#ifndef QTK_FORMAT_TENSOR_DTYPE_H_
#define QTK_FORMAT_TENSOR_DTYPE_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "qtk/format/ggml_type.h"
#include "qtk/format/safetensors.h"

namespace qtk {

// The element type of a tensor from either format. Names are shared where the encodings are
// ("F32", "BF16", "I8" mean the same bytes in both), so they can be compared and grouped by
// name(); the format-specific enum is kept for exactness.
class TensorDtype {
 public:
  TensorDtype() = default;  // ggml F32
  static TensorDtype Ggml(GgmlType type) {
    return TensorDtype(Family::kGgml, static_cast<uint32_t>(type));
  }
  static TensorDtype Safetensors(SafetensorsDtype dtype) {
    return TensorDtype(Family::kSafetensors, static_cast<uint32_t>(dtype));
  }

  // The ggml type with this encoding: every GGUF type, and safetensors F64, F32, F16, BF16,
  // I8, I16, I32, I64. nullopt for BOOL, unsigned integers and the F8 types.
  std::optional<GgmlType> ggml() const;
  // Set only for a tensor read from safetensors.
  std::optional<SafetensorsDtype> safetensors() const;

  // "Q4_K", "BF16", "F8_E4M3", "BOOL".
  std::string_view name() const;
  // A block format (Q4_K, IQ2_XS, ...), not a plain number type.
  bool is_quantized() const;
  // Bytes taken by `n_elements` consecutive elements.
  // REQUIRES: n_elements is a multiple of the block size (1 for plain types).
  uint64_t RowBytes(int64_t n_elements) const;

  bool operator==(const TensorDtype& other) const = default;

 private:
  enum class Family : uint8_t { kGgml, kSafetensors };
  TensorDtype(Family family, uint32_t id) : family_(family), id_(id) {}

  Family family_ = Family::kGgml;
  uint32_t id_ = 0;
};

}  // namespace qtk

#endif  // QTK_FORMAT_TENSOR_DTYPE_H_
