// The generic steps that read the architecture table: the registry, outtypes, and the tensor
// plan (visiting order, names, types, transforms).
#include "qtk/convert/architecture.h"

#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

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
  static const std::array<const ArchitectureSpec*, 5> kRows = {
      &LlamaArchitecture(), &Qwen2Architecture(), &Qwen2MoeArchitecture(), &Qwen3Architecture(),
      &Qwen3MoeArchitecture()};
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

// prepare_tensors' tensors that are always F32 whatever the outtype: 1-D tensors and norms
// (checked by the caller), routers, position and token-type embeddings, non-".weight" tensors.
bool ForcedF32(const ArchitectureSpec& spec, std::string_view gguf_name,
               std::optional<int64_t> bid) {
  if (gguf_name.ends_with("_norm.weight")) return true;
  if (!gguf_name.ends_with(".weight") && !gguf_name.ends_with(".lora_a") &&
      !gguf_name.ends_with(".lora_b")) {
    return true;
  }
  static constexpr std::string_view kAlwaysF32[] = {"blk.{bid}.ffn_gate_inp.weight",
                                                    "blk.{bid}.ffn_gate_inp_shexp.weight",
                                                    "position_embd.weight", "token_types.weight"};
  for (std::string_view pattern : kAlwaysF32) {
    if (gguf_name == Expand(pattern, bid.value_or(0))) return true;
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

// The type prepare_tensors gives a tensor of `shape` (outermost first) for the outtype.
GgmlType TypeFor(const ArchitectureSpec& spec, const std::vector<int64_t>& shape,
                 const std::string& gguf_name, std::optional<int64_t> bid, ConvertOutType out_type,
                 ConvertedTensor& planned, ConversionPlan& plan) {
  if (shape.size() <= 1 || ForcedF32(spec, gguf_name, bid)) return GgmlType::kF32;
  switch (out_type) {
    case ConvertOutType::kF32:
      return GgmlType::kF32;
    case ConvertOutType::kBF16:
      return GgmlType::kBF16;
    case ConvertOutType::kQ8_0:
      if (shape.back() % GgmlBlockSize(GgmlType::kQ8_0) == 0) return GgmlType::kQ8_0;
      planned.fell_back = true;
      plan.warnings.push_back("Can't quantize tensor with shape " + PythonShape(shape) +
                              " to Q8_0, falling back to F16");
      return GgmlType::kF16;
    default:
      return GgmlType::kF16;
  }
}

Status CheckShape(const std::string& name, const std::vector<int64_t>& shape) {
  const std::string subject = "tensor '" + Printable(name) + "'";
  if (shape.size() > kGgufMaxDims) {
    return Status::Corruption(subject + ": " + std::to_string(shape.size()) +
                              " dimensions, GGUF allows at most " + std::to_string(kGgufMaxDims));
  }
  int64_t n = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return Status::Corruption(subject + ": negative dimension " + std::to_string(dim));
    if (dim != 0 && n > INT64_MAX / dim) {
      return Status::Corruption(subject + ": element count overflows int64");
    }
    n *= dim;
  }
  return Status::Ok();
}

// One tensor as modify_tensors hands it on: `name` (an HF name, or the merged name of stacked
// experts) with `shape` (outermost first).
Result<ConvertedTensor> PlanOne(const HfModelConfig& config, const std::string& name,
                                const std::vector<int64_t>& shape, ConvertOutType out_type,
                                ConversionPlan& plan) {
  const ArchitectureSpec& spec = *config.architecture;
  QTK_RETURN_IF_ERROR(CheckShape(name, shape));
  ConvertedTensor planned;
  planned.hf_name = name;
  std::optional<std::string> gguf_name = MapTensorName(spec, name, config.n_layer);
  if (!gguf_name) {
    return Status::Unsupported(config.path + ": cannot map tensor '" + Printable(name) +
                               "' to a GGUF name for " + config.hf_architecture);
  }
  planned.gguf_name = std::move(*gguf_name);
  planned.shape = ToGgufOrder(shape);
  planned.transform = TransformOf(spec, name);
  if (planned.transform != TensorTransform::kNone) {
    planned.permute_heads =
        planned.transform == TensorTransform::kPermuteRopeQ ? config.n_head : config.n_head_kv;
    const int64_t n_rows = shape.empty() ? 1 : shape[0];
    const int64_t heads = planned.permute_heads;  // from config.json: any size
    const bool splits =
        heads > 0 && (n_rows == 0 || (heads <= n_rows / 2 && n_rows % (2 * heads) == 0));
    if (!splits) {
      return Status::Corruption("tensor '" + Printable(name) + "': " + std::to_string(n_rows) +
                                " rows do not split into " + std::to_string(planned.permute_heads) +
                                " heads of rotary pairs");
    }
  }
  planned.type = TypeFor(spec, shape, planned.gguf_name, BlockId(name), out_type, planned, plan);
  return planned;
}

// The per-expert tensors of each layer, held back until the layer has all of them
// (Qwen2MoeModel/LlamaModel.modify_tensors).
class ExpertStacker {
 public:
  ExpertStacker(const HfModelConfig& config, const ExpertStackRule& rule)
      : config_(config), rule_(rule) {}

  // A name the rule holds back: it has the marker and is not already a stacked tensor.
  bool Holds(std::string_view name) const {
    if (name.find(rule_.marker) == std::string_view::npos) return false;
    const std::optional<int64_t> bid = BlockId(name);
    for (std::string_view projection : rule_.projections) {
      const std::string merged = Merged(bid.value_or(0), projection);
      if (name == merged || name == merged + ".weight") return false;
    }
    return true;
  }

  // Adds a held-back tensor; when its layer is complete, plans the stacked tensors into `out`.
  Status Add(const HfTensor& tensor, ConvertOutType out_type, ConversionPlan& plan) {
    const std::optional<int64_t> bid = BlockId(tensor.name);
    if (!bid || !IsExpertName(tensor.name, *bid)) {
      return Status::Unsupported(config_.path + ": cannot map tensor '" + Printable(tensor.name) +
                                 "' to a GGUF name for " + config_.hf_architecture);
    }
    if (config_.n_experts <= 0) {
      return Status::Corruption(config_.path + ": tensor '" + Printable(tensor.name) +
                                "' is an expert, but the config sets no expert count");
    }
    std::map<std::string, const HfTensor*>& layer = layers_[*bid];
    layer.emplace(tensor.name, &tensor);
    const auto needed = static_cast<uint64_t>(config_.n_experts) * rule_.projections.size();
    if (layer.size() < needed) return Status::Ok();
    for (std::string_view projection : rule_.projections) {
      std::vector<std::string> parts;
      std::vector<int64_t> part_shape;
      for (int64_t xid = 0; xid < config_.n_experts; ++xid) {
        const std::string name = Expand(rule_.layer_prefix, *bid) + std::to_string(xid) + "." +
                                 std::string(projection) + ".weight";
        auto it = layer.find(name);
        if (it == layer.end()) {
          return Status::Corruption(config_.path + ": expert tensor '" + Printable(name) +
                                    "' is missing (" + std::to_string(config_.n_experts) +
                                    " experts)");
        }
        if (xid == 0) part_shape = it->second->shape;
        if (it->second->shape != part_shape) {
          return Status::Corruption("tensor '" + Printable(name) + "': shape " +
                                    PythonShape(it->second->shape) + " differs from expert 0's " +
                                    PythonShape(part_shape) + ", the experts cannot be stacked");
        }
        parts.push_back(name);
        layer.erase(it);
      }
      std::vector<int64_t> shape = {config_.n_experts};
      shape.insert(shape.end(), part_shape.begin(), part_shape.end());
      QTK_ASSIGN_OR_RETURN(
          ConvertedTensor planned,
          PlanOne(config_, Merged(*bid, projection) + ".weight", shape, out_type, plan));
      planned.hf_name = parts.front();
      planned.stacked = std::move(parts);
      stacked_.push_back(std::move(planned));
    }
    return Status::Ok();
  }

  // The stacked tensors planned by the last Add, in writing order.
  std::vector<ConvertedTensor> TakeStacked() { return std::exchange(stacked_, {}); }

  // prepare_tensors: "Unprocessed experts".
  Status CheckNoneLeft() const {
    std::string left;
    for (const auto& [bid, layer] : layers_) {
      for (const auto& entry : layer) {
        if (left.size() > 200) break;
        left += (left.empty() ? "" : ", ") + Printable(entry.first);
      }
    }
    if (left.empty()) return Status::Ok();
    return Status::Corruption(config_.path + ": unprocessed experts (a layer has fewer than " +
                              std::to_string(config_.n_experts) + " of each): " + left);
  }

 private:
  std::string Merged(int64_t bid, std::string_view projection) const {
    std::string merged = Expand(rule_.merged, bid);
    const size_t at = merged.find("{w}");
    if (at != std::string::npos) merged.replace(at, 3, projection);
    return merged;
  }

  // layer_prefix + xid + "." + projection + ".weight", xid a decimal number.
  bool IsExpertName(std::string_view name, int64_t bid) const {
    const std::string prefix = Expand(rule_.layer_prefix, bid);
    if (!name.starts_with(prefix) || !name.ends_with(".weight")) return false;
    std::string_view rest = name.substr(prefix.size(), name.size() - prefix.size() - 7);
    const size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot > 9) return false;
    if (!std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(dot),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    const std::string_view projection = rest.substr(dot + 1);
    return std::find(rule_.projections.begin(), rule_.projections.end(), projection) !=
           rule_.projections.end();
  }

  const HfModelConfig& config_;
  const ExpertStackRule& rule_;
  std::map<int64_t, std::map<std::string, const HfTensor*>> layers_;
  std::vector<ConvertedTensor> stacked_;
};

void Count(const ConvertedTensor& tensor, ConversionPlan& plan, int64_t& expert_sum,
           int64_t& n_expert_tensors) {
  const auto size = static_cast<uint64_t>(ElementCount(tensor.shape));
  plan.total_parameters += size;
  // GGUFWriter.get_total_parameter_count: shape[-3] (shape[-2] for a bias) is the expert count.
  const size_t axis = tensor.gguf_name.find(".bias") != std::string::npos ? 1 : 2;
  if (tensor.gguf_name.find("_exps.") != std::string::npos && tensor.shape.size() > axis &&
      tensor.shape[axis] > 0) {
    plan.expert_parameters += size / static_cast<uint64_t>(tensor.shape[axis]);
    expert_sum += tensor.shape[axis];
    ++n_expert_tensors;
  } else {
    plan.shared_parameters += size;
  }
}

}  // namespace

Result<ConversionPlan> PlanTensors(const HfModelConfig& config, std::vector<HfTensor> tensors,
                                   ConvertOutType out_type) {
  if (out_type == ConvertOutType::kAuto) {
    return Status::InvalidArgument("outtype auto must be resolved before planning tensors");
  }
  const ArchitectureSpec& spec = *config.architecture;
  ConversionPlan plan;
  // generate_extra_tensors comes first.
  if (spec.llama3_rope_factors) {
    QTK_ASSIGN_OR_RETURN(std::optional<std::vector<float>> factors, Llama3RopeFactors(config));
    if (factors) {
      ConvertedTensor rope;
      rope.gguf_name = "rope_freqs.weight";
      rope.shape = {static_cast<int64_t>(factors->size())};
      rope.type = GgmlType::kF32;
      rope.values = std::move(*factors);
      plan.tensors.push_back(std::move(rope));
    }
  }
  // index_tensors: shards in sorted file order, tensors sorted by name within each shard.
  std::sort(tensors.begin(), tensors.end(), [](const HfTensor& a, const HfTensor& b) {
    return std::tie(a.file, a.name) < std::tie(b.file, b.name);
  });
  std::unordered_map<std::string_view, const HfTensor*> seen;
  std::optional<ExpertStacker> experts;
  if (spec.experts) experts.emplace(config, *spec.experts);
  for (const HfTensor& tensor : tensors) {
    auto [it, inserted] = seen.emplace(tensor.name, &tensor);
    if (!inserted) {
      return Status::Corruption("tensor '" + Printable(tensor.name) + "' is in both " +
                                it->second->file + " and " + tensor.file);
    }
    if (IsSkipped(spec, tensor.name)) continue;
    if (experts && experts->Holds(tensor.name)) {
      QTK_RETURN_IF_ERROR(experts->Add(tensor, out_type, plan));
      for (ConvertedTensor& stacked : experts->TakeStacked()) {
        plan.tensors.push_back(std::move(stacked));
      }
      continue;
    }
    QTK_ASSIGN_OR_RETURN(ConvertedTensor planned,
                         PlanOne(config, tensor.name, tensor.shape, out_type, plan));
    plan.tensors.push_back(std::move(planned));
  }
  if (experts) QTK_RETURN_IF_ERROR(experts->CheckNoneLeft());
  int64_t expert_sum = 0;
  int64_t n_expert_tensors = 0;
  for (const ConvertedTensor& tensor : plan.tensors) {
    Count(tensor, plan, expert_sum, n_expert_tensors);
  }
  plan.expert_count = n_expert_tensors > 0 ? expert_sum / n_expert_tensors : 0;
  return plan;
}

}  // namespace qtk
