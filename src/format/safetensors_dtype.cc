// The safetensors dtype table: the one place that knows names, sizes and ggml equivalents.
#include <array>
#include <cassert>

#include "qtk/format/safetensors.h"

namespace qtk {
namespace {

constexpr std::array<SafetensorsDtypeTraits, 15> kDtypes = {{
    {SafetensorsDtype::kBool, "BOOL", 1, std::nullopt},
    {SafetensorsDtype::kU8, "U8", 1, std::nullopt},
    {SafetensorsDtype::kI8, "I8", 1, GgmlType::kI8},
    {SafetensorsDtype::kF8_E5M2, "F8_E5M2", 1, std::nullopt},
    {SafetensorsDtype::kF8_E4M3, "F8_E4M3", 1, std::nullopt},
    {SafetensorsDtype::kI16, "I16", 2, GgmlType::kI16},
    {SafetensorsDtype::kU16, "U16", 2, std::nullopt},
    {SafetensorsDtype::kF16, "F16", 2, GgmlType::kF16},
    {SafetensorsDtype::kBF16, "BF16", 2, GgmlType::kBF16},
    {SafetensorsDtype::kI32, "I32", 4, GgmlType::kI32},
    {SafetensorsDtype::kU32, "U32", 4, std::nullopt},
    {SafetensorsDtype::kF32, "F32", 4, GgmlType::kF32},
    {SafetensorsDtype::kF64, "F64", 8, GgmlType::kF64},
    {SafetensorsDtype::kI64, "I64", 8, GgmlType::kI64},
    {SafetensorsDtype::kU64, "U64", 8, std::nullopt},
}};
static_assert(kDtypes.size() == static_cast<size_t>(SafetensorsDtype::kU64) + 1,
              "one row per safetensors dtype");

constexpr bool RowsMatchEnum() {
  for (size_t i = 0; i < kDtypes.size(); ++i) {
    if (static_cast<size_t>(kDtypes[i].dtype) != i) return false;
  }
  return true;
}
static_assert(RowsMatchEnum(), "kDtypes must be in enum order");

}  // namespace

std::span<const SafetensorsDtypeTraits> AllSafetensorsDtypes() { return kDtypes; }

const SafetensorsDtypeTraits& Traits(SafetensorsDtype dtype) {
  const auto i = static_cast<size_t>(dtype);
  assert(i < kDtypes.size());
  return kDtypes[i];
}

std::optional<SafetensorsDtype> SafetensorsDtypeFromName(std::string_view name) {
  for (const SafetensorsDtypeTraits& traits : kDtypes) {
    if (traits.name == name) return traits.dtype;
  }
  return std::nullopt;
}

}  // namespace qtk
