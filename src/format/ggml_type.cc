#include "qtk/format/ggml_type.h"

#include <array>
#include <cassert>

#include "base/string_util.h"

namespace qtk {
namespace {

constexpr int64_t kQK = 256;  // elements in a K-quant super-block

// Sizes follow ggml's block structs (ggml-common.h); see docs/FORMAT.md.
constexpr std::array<GgmlTypeTraits, 34> kGgmlTypes = {{
    {GgmlType::kF32, "F32", 1, 4, false},
    {GgmlType::kF16, "F16", 1, 2, false},
    {GgmlType::kQ4_0, "Q4_0", 32, 2 + 16, true},
    {GgmlType::kQ4_1, "Q4_1", 32, 2 + 2 + 16, true},
    {GgmlType::kQ5_0, "Q5_0", 32, 2 + 4 + 16, true},
    {GgmlType::kQ5_1, "Q5_1", 32, 2 + 2 + 4 + 16, true},
    {GgmlType::kQ8_0, "Q8_0", 32, 2 + 32, true},
    {GgmlType::kQ8_1, "Q8_1", 32, 4 + 4 + 32, true},
    {GgmlType::kQ2_K, "Q2_K", kQK, 2 + 2 + kQK / 16 + kQK / 4, true},
    {GgmlType::kQ3_K, "Q3_K", kQK, 2 + kQK / 4 + kQK / 8 + 12, true},
    {GgmlType::kQ4_K, "Q4_K", kQK, 2 + 2 + kQK / 2 + 12, true},
    {GgmlType::kQ5_K, "Q5_K", kQK, 2 + 2 + kQK / 2 + kQK / 8 + 12, true},
    {GgmlType::kQ6_K, "Q6_K", kQK, 2 + kQK / 2 + kQK / 4 + kQK / 16, true},
    {GgmlType::kQ8_K, "Q8_K", kQK, 4 + kQK + kQK / 8, true},
    {GgmlType::kIQ2_XXS, "IQ2_XXS", kQK, 2 + kQK / 4, true},
    {GgmlType::kIQ2_XS, "IQ2_XS", kQK, 2 + kQK / 4 + kQK / 32, true},
    {GgmlType::kIQ3_XXS, "IQ3_XXS", kQK, 2 + kQK / 4 + kQK / 8, true},
    {GgmlType::kIQ1_S, "IQ1_S", kQK, 2 + kQK / 8 + kQK / 16, true},
    {GgmlType::kIQ4_NL, "IQ4_NL", 32, 2 + 16, true},
    {GgmlType::kIQ3_S, "IQ3_S", kQK, 2 + kQK / 4 + kQK / 8 + kQK / 32 + 4, true},
    {GgmlType::kIQ2_S, "IQ2_S", kQK, 2 + kQK / 4 + kQK / 16, true},
    {GgmlType::kIQ4_XS, "IQ4_XS", kQK, 2 + 2 + kQK / 2 + kQK / 64, true},
    {GgmlType::kI8, "I8", 1, 1, false},
    {GgmlType::kI16, "I16", 1, 2, false},
    {GgmlType::kI32, "I32", 1, 4, false},
    {GgmlType::kI64, "I64", 1, 8, false},
    {GgmlType::kF64, "F64", 1, 8, false},
    {GgmlType::kIQ1_M, "IQ1_M", kQK, kQK / 8 + kQK / 16 + kQK / 32, true},
    {GgmlType::kBF16, "BF16", 1, 2, false},
    {GgmlType::kTQ1_0, "TQ1_0", kQK, 2 + 4 * 13, true},
    {GgmlType::kTQ2_0, "TQ2_0", kQK, 2 + 64, true},
    {GgmlType::kMXFP4, "MXFP4", 32, 1 + 16, true},
    {GgmlType::kNVFP4, "NVFP4", 64, 4 + 32, true},
    {GgmlType::kQ1_0, "Q1_0", 128, 2 + 16, true},
}};
static_assert(kGgmlTypes.size() == 34, "one row per ggml type llama.cpp knows");

constexpr bool IdsAreSorted() {
  for (size_t i = 1; i < kGgmlTypes.size(); ++i) {
    if (kGgmlTypes[i - 1].type >= kGgmlTypes[i].type) return false;
  }
  return true;
}
static_assert(IdsAreSorted(), "kGgmlTypes must be in id order");

}  // namespace

std::span<const GgmlTypeTraits> AllGgmlTypes() { return kGgmlTypes; }

const GgmlTypeTraits* FindGgmlType(uint32_t id) {
  for (const GgmlTypeTraits& traits : kGgmlTypes) {
    if (static_cast<uint32_t>(traits.type) == id) return &traits;
  }
  return nullptr;
}

const GgmlTypeTraits& Traits(GgmlType type) {
  const GgmlTypeTraits* traits = FindGgmlType(static_cast<uint32_t>(type));
  assert(traits != nullptr);
  return *traits;
}

std::optional<GgmlType> GgmlTypeFromName(std::string_view name) {
  for (const GgmlTypeTraits& traits : kGgmlTypes) {
    if (EqualsIgnoreCase(traits.name, name)) return traits.type;
  }
  return std::nullopt;
}

}  // namespace qtk
