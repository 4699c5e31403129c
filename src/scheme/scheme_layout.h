// The tensors a scheme writes for one tensor shape (internal to scheme*.cc).
#ifndef QTK_SCHEME_SCHEME_LAYOUT_H_
#define QTK_SCHEME_SCHEME_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/scheme/scheme.h"

namespace qtk {

// Companion tensor suffixes and metadata keys (docs/FORMAT.md).
inline constexpr std::string_view kScaleSuffix = ".scale";
inline constexpr std::string_view kZeroSuffix = ".zero";
inline constexpr std::string_view kAbsmaxSuffix = ".absmax";
inline constexpr std::string_view kDqScaleSuffix = ".dq_scale";
inline constexpr std::string_view kDqOffsetSuffix = ".dq_offset";
inline constexpr std::string_view kKeyPrefix = "qtk.quant.";
inline constexpr std::string_view kSchemeKey = ".scheme";
inline constexpr std::string_view kShapeKey = ".shape";
inline constexpr std::string_view kCodeKey = ".code";
inline constexpr std::string_view kDqCodeKey = ".dq_code";

// "qtk.quant.<tensor>.<what>" for what = kSchemeKey, ...
inline std::string SchemeKey(std::string_view tensor, std::string_view what) {
  return std::string(kKeyPrefix) + std::string(tensor) + std::string(what);
}

struct LayoutTensor {
  std::string_view suffix;  // "" for the codes tensor
  GgmlType type = GgmlType::kI8;
  std::vector<int64_t> shape;
};

struct SchemeLayout {
  int64_t n_elements = 0;
  int64_t row_length = 0;
  int64_t n_rows = 0;
  // Set when the scheme is stored as this ggml type (one tensor, the original shape).
  std::optional<GgmlType> ggml_type;
  std::vector<LayoutTensor> tensors;
};

// Errors: InvalidArgument for 0 or more than 4 dimensions, a dimension < 1, or an element
// count that overflows int64.
Result<SchemeLayout> LayOutScheme(const Scheme& scheme, std::span<const int64_t> shape);

}  // namespace qtk

#endif  // QTK_SCHEME_SCHEME_LAYOUT_H_
