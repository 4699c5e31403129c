#include "qtk/plan/file_type.h"

#include <array>
#include <cassert>
#include <charconv>

#include "base/string_util.h"

namespace qtk {
namespace {

using G = GgmlType;
using F = FileType;

constexpr std::array<FileTypeInfo, 33> kFileTypes = {{
    {F::kAllF32, "F32", G::kF32, "32-bit float, no quantization"},
    {F::kMostlyF16, "F16", G::kF16, "16-bit IEEE half"},
    {F::kMostlyQ4_0, "Q4_0", G::kQ4_0, "4.5 bpw, legacy symmetric 4-bit"},
    {F::kMostlyQ4_1, "Q4_1", G::kQ4_1, "5.0 bpw, legacy 4-bit with min"},
    {F::kMostlyQ8_0, "Q8_0", G::kQ8_0, "8.5 bpw, symmetric 8-bit"},
    {F::kMostlyQ5_0, "Q5_0", G::kQ5_0, "5.5 bpw, legacy symmetric 5-bit"},
    {F::kMostlyQ5_1, "Q5_1", G::kQ5_1, "6.0 bpw, legacy 5-bit with min"},
    {F::kMostlyQ2_K, "Q2_K", G::kQ2_K, "K-quant mix around 2.6 bpw"},
    {F::kMostlyQ3_K_S, "Q3_K_S", G::kQ3_K, "K-quant mix, 3-bit small"},
    {F::kMostlyQ3_K_M, "Q3_K_M", G::kQ3_K, "K-quant mix, 3-bit medium"},
    {F::kMostlyQ3_K_L, "Q3_K_L", G::kQ3_K, "K-quant mix, 3-bit large"},
    {F::kMostlyQ4_K_S, "Q4_K_S", G::kQ4_K, "K-quant mix, 4-bit small"},
    {F::kMostlyQ4_K_M, "Q4_K_M", G::kQ4_K, "K-quant mix, 4-bit medium (the usual choice)"},
    {F::kMostlyQ5_K_S, "Q5_K_S", G::kQ5_K, "K-quant mix, 5-bit small"},
    {F::kMostlyQ5_K_M, "Q5_K_M", G::kQ5_K, "K-quant mix, 5-bit medium"},
    {F::kMostlyQ6_K, "Q6_K", G::kQ6_K, "6.56 bpw K-quant"},
    {F::kMostlyIQ2_XXS, "IQ2_XXS", G::kIQ2_XXS, "2.06 bpw (needs an importance matrix)"},
    {F::kMostlyIQ2_XS, "IQ2_XS", G::kIQ2_XS, "2.31 bpw (needs an importance matrix)"},
    {F::kMostlyQ2_K_S, "Q2_K_S", G::kQ2_K, "K-quant mix, 2-bit small (needs an imatrix)"},
    {F::kMostlyIQ3_XS, "IQ3_XS", G::kIQ3_S, "3.3 bpw i-quant mix"},
    {F::kMostlyIQ3_XXS, "IQ3_XXS", G::kIQ3_XXS, "3.06 bpw i-quant"},
    {F::kMostlyIQ1_S, "IQ1_S", G::kIQ1_S, "1.56 bpw (needs an importance matrix)"},
    {F::kMostlyIQ4_NL, "IQ4_NL", G::kIQ4_NL, "4.5 bpw non-linear 4-bit"},
    {F::kMostlyIQ3_S, "IQ3_S", G::kIQ3_S, "3.44 bpw i-quant"},
    {F::kMostlyIQ3_M, "IQ3_M", G::kIQ3_S, "3.66 bpw i-quant mix"},
    {F::kMostlyIQ2_S, "IQ2_S", G::kIQ2_XS, "2.5 bpw i-quant mix (needs an imatrix)"},
    {F::kMostlyIQ2_M, "IQ2_M", G::kIQ2_S, "2.7 bpw i-quant mix (needs an imatrix)"},
    {F::kMostlyIQ4_XS, "IQ4_XS", G::kIQ4_XS, "4.25 bpw non-linear 4-bit"},
    {F::kMostlyIQ1_M, "IQ1_M", G::kIQ1_M, "1.75 bpw (needs an importance matrix)"},
    {F::kMostlyBF16, "BF16", G::kBF16, "16-bit bfloat"},
    {F::kMostlyTQ1_0, "TQ1_0", G::kTQ1_0, "1.69 bpw ternary"},
    {F::kMostlyTQ2_0, "TQ2_0", G::kTQ2_0, "2.06 bpw ternary"},
    {F::kMostlyMXFP4_MOE, "MXFP4_MOE", G::kMXFP4, "MXFP4 for expert tensors, Q8_0 elsewhere"},
}};
static_assert(kFileTypes.size() == 33, "one row per llama_ftype llama-quantize offers");

struct Alias {
  std::string_view name;
  FileType type;
};
constexpr std::array<Alias, 3> kAliases = {{
    {"Q3_K", F::kMostlyQ3_K_M},
    {"Q4_K", F::kMostlyQ4_K_M},
    {"Q5_K", F::kMostlyQ5_K_M},
}};

}  // namespace

std::span<const FileTypeInfo> AllFileTypes() { return kFileTypes; }

std::optional<FileType> FileTypeFromId(uint32_t id) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (static_cast<uint32_t>(info.type) == id) return info.type;
  }
  return std::nullopt;
}

const FileTypeInfo& Info(FileType type) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (info.type == type) return info;
  }
  assert(false && "unknown FileType");
  return kFileTypes[0];
}

std::optional<FileType> FileTypeFromName(std::string_view name) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (EqualsIgnoreCase(info.name, name)) return info.type;
  }
  for (const Alias& alias : kAliases) {
    if (EqualsIgnoreCase(alias.name, name)) return alias.type;
  }
  uint32_t id = 0;
  const char* end = name.data() + name.size();
  auto [ptr, error] = std::from_chars(name.data(), end, id);
  if (error == std::errc() && ptr == end && !name.empty()) return FileTypeFromId(id);
  return std::nullopt;
}

}  // namespace qtk
