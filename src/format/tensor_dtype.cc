// TensorDtype: one element type over the ggml and safetensors tables.
#include "qtk/format/tensor_dtype.h"

namespace qtk {

std::optional<GgmlType> TensorDtype::ggml() const {
  if (family_ == Family::kGgml) return static_cast<GgmlType>(id_);
  return Traits(static_cast<SafetensorsDtype>(id_)).ggml;
}

std::optional<SafetensorsDtype> TensorDtype::safetensors() const {
  if (family_ == Family::kSafetensors) return static_cast<SafetensorsDtype>(id_);
  return std::nullopt;
}

std::string_view TensorDtype::name() const {
  if (family_ == Family::kGgml) return GgmlTypeName(static_cast<GgmlType>(id_));
  return SafetensorsDtypeName(static_cast<SafetensorsDtype>(id_));
}

bool TensorDtype::is_quantized() const {
  return family_ == Family::kGgml && IsQuantized(static_cast<GgmlType>(id_));
}

uint64_t TensorDtype::RowBytes(int64_t n_elements) const {
  if (family_ == Family::kGgml) return GgmlRowBytes(static_cast<GgmlType>(id_), n_elements);
  return static_cast<uint64_t>(n_elements) *
         SafetensorsDtypeSize(static_cast<SafetensorsDtype>(id_));
}

}  // namespace qtk
