// The generic steps that read the architecture table: the registry, outtypes, and the tensor
// plan (visiting order, names, types, transforms).
#include "qtk/convert/architecture.h"

#include <algorithm>
#include <array>
#include <tuple>
#include <unordered_map>

#include "base/string_util.h"
#include "convert/arch_table.h"
#include "qtk/base/shape.h"

namespace qtk {

std::string_view ConvertOutTypeName(ConvertOutType type) {
  switch (type) {
    case ConvertOutType::kF32:
      return "f32";
    case ConvertOutType::kF16:
      return "f16";
    case ConvertOutType::kBF16:
      return "bf16";
    case ConvertOutType::kQ8_0:
      return "q8_0";
    case ConvertOutType::kAuto:
      return "auto";
  }
  return "?";
}

std::optional<ConvertOutType> ParseConvertOutType(std::string_view name) {
  for (ConvertOutType type : {ConvertOutType::kF32, ConvertOutType::kF16, ConvertOutType::kBF16,
                              ConvertOutType::kQ8_0, ConvertOutType::kAuto}) {
    if (EqualsIgnoreCase(name, ConvertOutTypeName(type))) return type;
  }
  return std::nullopt;
}

uint32_t LlamaFileType(ConvertOutType type) {
  switch (type) {
    case ConvertOutType::kF32:
      return 0;  // LLAMA_FTYPE_ALL_F32
    case ConvertOutType::kF16:
      return 1;  // LLAMA_FTYPE_MOSTLY_F16
    case ConvertOutType::kQ8_0:
      return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case ConvertOutType::kBF16:
      return 32;  // LLAMA_FTYPE_MOSTLY_BF16
    case ConvertOutType::kAuto:
      break;
  }
  return 1;
}

ConvertOutType ResolveAutoOutType(std::string_view first_matrix_dtype) {
  return first_matrix_dtype == "BF16" ? ConvertOutType::kBF16 : ConvertOutType::kF16;
}

std::span<const ArchitectureSpec* const> RegisteredArchitectures() {
  static const std::array<const ArchitectureSpec*, 1> kRows = {&LlamaArchitecture()};
  return kRows;
}

const ArchitectureSpec* FindArchitecture(std::string_view hf_architecture) {
  for (const ArchitectureSpec* spec : RegisteredArchitectures()) {
    for (std::string_view name : spec->hf_architectures) {
      if (name == hf_architecture) return spec;
    }
  }
  return nullptr;
}

namespace {

constexpr std::string_view kBid = "{bid}";

// ModelBase.prepare_tensors: the first all-digit dot-separated part is the block id.
std::optional<int64_t> BlockId(std::string_view name) {
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('.', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (!part.empty() &&
        std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      int64_t value = 0;
      for (char c : part) value = value > (INT64_MAX - 9) / 10 ? INT64_MAX : value * 10 + (c - '0');
      return value;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string Expand(std::string_view pattern, int64_t bid) {
  std::string out(pattern);
  if (const size_t at = out.find(kBid); at != std::string::npos) {
    out.replace(at, kBid.size(), std::to_string(bid));
  }
  return out;
}

// True if `name` is `pattern` with {bid} in 0..n_layer-1 (spelled as Python formats it).
bool MatchesPattern(std::string_view name, std::string_view pattern, int64_t n_layer,
                    int64_t& bid) {
  const size_t at = pattern.find(kBid);
  if (at == std::string_view::npos) {
    bid = -1;
    return name == pattern;
  }
  const std::string_view prefix = pattern.substr(0, at);
  const std::string_view suffix = pattern.substr(at + kBid.size());
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return false;
  }
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  // The Python table lists "...{bid}..." for every bid below n_layer: the digits must be a
  // number in that range, written as str(bid) writes it (no sign, no leading zero). Parsed,
  // not searched: n_layer comes from config.json and may be huge.
  if (digits.size() > 18 || (digits.size() > 1 && digits[0] == '0')) return false;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value >= n_layer) return false;
  bid = value;
  return true;
}

// gguf.TensorNameMap.get_name(name, try_suffixes=(".weight", ".bias")).
std::optional<std::string> MapTensorName(const ArchitectureSpec& spec, std::string_view name,
                                         int64_t n_layer) {
  for (std::string_view suffix :
       {std::string_view(), std::string_view(".weight"), std::string_view(".bias")}) {
    if (!name.ends_with(suffix)) continue;
    const std::string_view base = name.substr(0, name.size() - suffix.size());
    for (const TensorNameRule& rule : spec.tensor_names) {
      int64_t bid = -1;
      if (MatchesPattern(base, rule.hf, n_layer, bid)) {
        return Expand(rule.gguf, bid) + std::string(suffix);
      }
    }
  }
  return std::nullopt;
}

bool IsSkipped(const ArchitectureSpec& spec, std::string_view name) {
  return std::any_of(spec.skipped_tensor_suffixes.begin(), spec.skipped_tensor_suffixes.end(),
                     [name](std::string_view suffix) { return name.ends_with(suffix); });
}

TensorTransform TransformOf(const ArchitectureSpec& spec, std::string_view name) {
  for (const TensorTransformRule& rule : spec.transforms) {
    if (name.ends_with(rule.hf_suffix)) return rule.transform;
  }
  return TensorTransform::kNone;
}

bool ForcedF32(const ArchitectureSpec& spec, std::string_view gguf_name,
               std::optional<int64_t> bid) {
  if (gguf_name.ends_with("_norm.weight")) return true;
  if (!gguf_name.ends_with(".weight") && !gguf_name.ends_with(".lora_a") &&
      !gguf_name.ends_with(".lora_b")) {
    return true;
  }
  for (std::string_view pattern : spec.f32_tensors) {
    if (gguf_name == Expand(pattern, bid.value_or(0))) return true;
  }
  return false;
}

std::string PythonShape(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

// The type prepare_tensors gives a tensor for the outtype.
GgmlType TypeFor(const ArchitectureSpec& spec, const HfTensor& tensor, const std::string& gguf_name,
                 std::optional<int64_t> bid, ConvertOutType out_type, ConvertedTensor& planned,
                 ConversionPlan& plan) {
  if (tensor.shape.size() <= 1 || ForcedF32(spec, gguf_name, bid)) return GgmlType::kF32;
  switch (out_type) {
    case ConvertOutType::kF32:
      return GgmlType::kF32;
    case ConvertOutType::kBF16:
      return GgmlType::kBF16;
    case ConvertOutType::kQ8_0:
      if (tensor.shape.back() % GgmlBlockSize(GgmlType::kQ8_0) == 0) return GgmlType::kQ8_0;
      planned.fell_back = true;
      plan.warnings.push_back("Can't quantize tensor with shape " + PythonShape(tensor.shape) +
                              " to Q8_0, falling back to F16");
      return GgmlType::kF16;
    default:
      return GgmlType::kF16;
  }
}

Status CheckShape(const HfTensor& tensor) {
  const std::string subject = "tensor '" + Printable(tensor.name) + "'";
  if (tensor.shape.size() > kGgufMaxDims) {
    return Status::Corruption(subject + ": " + std::to_string(tensor.shape.size()) +
                              " dimensions, GGUF allows at most " + std::to_string(kGgufMaxDims));
  }
  int64_t n = 1;
  for (int64_t dim : tensor.shape) {
    if (dim < 0) return Status::Corruption(subject + ": negative dimension " + std::to_string(dim));
    if (dim != 0 && n > INT64_MAX / dim) {
      return Status::Corruption(subject + ": element count overflows int64");
    }
    n *= dim;
  }
  return Status::Ok();
}

Result<ConvertedTensor> PlanOne(const HfModelConfig& config, const HfTensor& tensor,
                                ConvertOutType out_type, ConversionPlan& plan) {
  const ArchitectureSpec& spec = *config.architecture;
  QTK_RETURN_IF_ERROR(CheckShape(tensor));
  ConvertedTensor planned;
  planned.hf_name = tensor.name;
  std::optional<std::string> gguf_name = MapTensorName(spec, tensor.name, config.n_layer);
  if (!gguf_name) {
    return Status::Unsupported(config.path + ": cannot map tensor '" + Printable(tensor.name) +
                               "' to a GGUF name for " + config.hf_architecture);
  }
  planned.gguf_name = std::move(*gguf_name);
  planned.shape = ToGgufOrder(tensor.shape);
  planned.transform = TransformOf(spec, tensor.name);
  if (planned.transform != TensorTransform::kNone) {
    planned.permute_heads =
        planned.transform == TensorTransform::kPermuteRopeQ ? config.n_head : config.n_head_kv;
    const int64_t n_rows = tensor.shape.empty() ? 1 : tensor.shape[0];
    const int64_t heads = planned.permute_heads;  // from config.json: any size
    const bool splits =
        heads > 0 && (n_rows == 0 || (heads <= n_rows / 2 && n_rows % (2 * heads) == 0));
    if (!splits) {
      return Status::Corruption("tensor '" + Printable(tensor.name) +
                                "': " + std::to_string(n_rows) + " rows do not split into " +
                                std::to_string(planned.permute_heads) + " heads of rotary pairs");
    }
  }
  planned.type =
      TypeFor(spec, tensor, planned.gguf_name, BlockId(tensor.name), out_type, planned, plan);
  return planned;
}

}  // namespace

Result<ConversionPlan> PlanTensors(const HfModelConfig& config, std::vector<HfTensor> tensors,
                                   ConvertOutType out_type) {
  if (out_type == ConvertOutType::kAuto) {
    return Status::InvalidArgument("outtype auto must be resolved before planning tensors");
  }
  // index_tensors: shards in sorted file order, tensors sorted by name within each shard.
  std::sort(tensors.begin(), tensors.end(), [](const HfTensor& a, const HfTensor& b) {
    return std::tie(a.file, a.name) < std::tie(b.file, b.name);
  });
  std::unordered_map<std::string_view, const HfTensor*> seen;
  ConversionPlan plan;
  for (const HfTensor& tensor : tensors) {
    auto [it, inserted] = seen.emplace(tensor.name, &tensor);
    if (!inserted) {
      return Status::Corruption("tensor '" + Printable(tensor.name) + "' is in both " +
                                it->second->file + " and " + tensor.file);
    }
    if (IsSkipped(*config.architecture, tensor.name)) continue;
    QTK_ASSIGN_OR_RETURN(ConvertedTensor planned, PlanOne(config, tensor, out_type, plan));
    plan.total_parameters += static_cast<uint64_t>(ElementCount(planned.shape));
    plan.tensors.push_back(std::move(planned));
  }
  return plan;
}

}  // namespace qtk
