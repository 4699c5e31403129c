// Per-tensor type decisions: roles, which tensors may be quantized, overrides, fallbacks.
// The K-quant mixes themselves are a table in mix_rules.cc.
#include "qtk/plan/plan.h"

#include <array>
#include <charconv>

#include "base/string_util.h"
#include "plan/mix_rules.h"
#include "qtk/quant/quantize.h"

namespace qtk {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Tensors llama-quantize never quantizes, by a substring of their name: small or
// precision-critical tensors of various architectures.
constexpr std::array<std::string_view, 31> kNeverQuantized = {
    "_norm.weight",
    "ffn_gate_inp.weight",
    "ffn_gate_tid2eid.weight",
    "altup",
    "laurel",
    "per_layer_model_proj",
    "ssm_conv1d",
    "shortconv.conv.weight",
    "indexer.k_proj.weight",
    "indexer.q_proj.weight",
    "time_mix_first.weight",
    "time_mix_w0.weight",
    "time_mix_w1.weight",
    "time_mix_w2.weight",
    "time_mix_v0.weight",
    "time_mix_v1.weight",
    "time_mix_v2.weight",
    "time_mix_a0.weight",
    "time_mix_a1.weight",
    "time_mix_a2.weight",
    "time_mix_g1.weight",
    "time_mix_g2.weight",
    "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight",
    "attn_rel_b.weight",
    ".position_embd",
    ".rel_pos",
    ".patch_embd",
    ".patch_merger",
    "a.rvq.codebook",
};

// ggml_n_dims: the rank ignoring trailing dimensions of size 1.
int EffectiveRank(const std::vector<int64_t>& shape) {
  int rank = 1;
  for (size_t i = 1; i < shape.size(); ++i) {
    if (shape[i] > 1) rank = static_cast<int>(i) + 1;
  }
  return rank;
}

// Where a row does not divide into the type's block: llama.cpp's fallback table, then F16.
GgmlType FallBack(const TensorDesc& tensor, GgmlType type, std::string* note) {
  const int64_t n_cols = tensor.shape.empty() ? 1 : tensor.shape[0];
  if (n_cols % GgmlBlockSize(type) == 0) return type;
  GgmlType fallback;
  bool llama_has_fallback = true;
  switch (type) {
    case GgmlType::kIQ1_S:
    case GgmlType::kIQ1_M:
    case GgmlType::kIQ2_XXS:
    case GgmlType::kIQ2_XS:
    case GgmlType::kIQ2_S:
    case GgmlType::kIQ3_XXS:
    case GgmlType::kIQ3_S:
    case GgmlType::kIQ4_XS:
      fallback = GgmlType::kIQ4_NL;
      break;
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kTQ1_0:
    case GgmlType::kTQ2_0:
      fallback = GgmlType::kQ4_0;
      break;
    case GgmlType::kQ4_K:
      fallback = GgmlType::kQ5_0;
      break;
    case GgmlType::kQ5_K:
      fallback = GgmlType::kQ5_1;
      break;
    case GgmlType::kQ6_K:
      fallback = GgmlType::kQ8_0;
      break;
    default:
      fallback = GgmlType::kF16;
      llama_has_fallback = false;
      break;
  }
  if (n_cols % GgmlBlockSize(fallback) != 0) fallback = GgmlType::kF16;
  *note = std::to_string(n_cols) + " columns do not divide into " +
          std::string(GgmlTypeName(type)) + "'s blocks of " + std::to_string(GgmlBlockSize(type)) +
          ": using " + std::string(GgmlTypeName(fallback)) +
          (llama_has_fallback ? "" : " (llama-quantize has no fallback here and stops)");
  return fallback;
}

// llama-quantize's refusal without an importance matrix: the types that cannot be made
// without one, and IQ3_XXS and Q2_K_S's Q2_K as its rules add them; never for the token
// embedding or the output.
bool RequiresImportanceFor(TensorRole role, GgmlType type, FileType file_type) {
  if (role == TensorRole::kTokenEmbedding || role == TensorRole::kOutput) return false;
  if (RequiresImportance(type)) return true;
  if (type == GgmlType::kIQ3_XXS) return true;
  return type == GgmlType::kQ2_K && file_type == FileType::kMostlyQ2_K_S;
}

}  // namespace

TensorRole RoleOf(std::string_view name) {
  if (name == "output.weight") return TensorRole::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
    return TensorRole::kTokenEmbedding;
  }
  if (Contains(name, "attn_qkv.weight")) return TensorRole::kAttentionQkv;
  if (Contains(name, "attn_kv_b.weight")) return TensorRole::kAttentionKvB;
  if (Contains(name, "attn_v.weight")) return TensorRole::kAttentionV;
  if (Contains(name, "attn_k.weight")) return TensorRole::kAttentionK;
  if (Contains(name, "attn_q.weight")) return TensorRole::kAttentionQ;
  if (Contains(name, "attn_output.weight")) return TensorRole::kAttentionOutput;
  if (Contains(name, "ffn_up")) return TensorRole::kFfnUp;
  if (Contains(name, "ffn_gate")) return TensorRole::kFfnGate;
  if (Contains(name, "ffn_down")) return TensorRole::kFfnDown;
  return TensorRole::kOther;
}

std::string_view RoleName(TensorRole role) {
  switch (role) {
    case TensorRole::kTokenEmbedding:
      return "token embedding";
    case TensorRole::kOutput:
      return "output";
    case TensorRole::kAttentionQ:
      return "attention q";
    case TensorRole::kAttentionK:
      return "attention k";
    case TensorRole::kAttentionV:
      return "attention v";
    case TensorRole::kAttentionQkv:
      return "attention qkv";
    case TensorRole::kAttentionKvB:
      return "attention kv_b";
    case TensorRole::kAttentionOutput:
      return "attention output";
    case TensorRole::kFfnUp:
      return "ffn up";
    case TensorRole::kFfnGate:
      return "ffn gate";
    case TensorRole::kFfnDown:
      return "ffn down";
    case TensorRole::kOther:
      return "other";
  }
  return "other";
}

std::optional<int> LayerOf(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return std::nullopt;
  const char* begin = name.data() + 4;
  const char* end = name.data() + name.size();
  int layer = 0;
  auto [ptr, error] = std::from_chars(begin, end, layer);
  if (error != std::errc() || ptr == begin || ptr == end || *ptr != '.') return std::nullopt;
  return layer;
}

ModelFacts MakeModelFacts(const ModelFactsInput& input, const std::vector<std::string>& names) {
  ModelFacts facts;
  facts.architecture = input.architecture;
  facts.n_layers = input.n_layers;
  facts.n_head = input.n_head;
  facts.n_head_kv = input.n_head_kv;
  facts.n_expert = input.n_expert;
  for (const std::string& name : names) {
    const TensorRole role = RoleOf(name);
    if (IsAttentionVLike(role)) ++facts.n_attention_v;
    if (role == TensorRole::kOutput) facts.has_output_tensor = true;
  }
  return facts;
}

Result<TensorTypeOverride> ParseTensorTypeOverride(std::string_view text) {
  const size_t equals = text.rfind('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == text.size()) {
    return Status::InvalidArgument("--tensor-type '" + Printable(text) +
                                   "': expected PATTERN=TYPE, e.g. attn_v=q8_0");
  }
  const std::string pattern(text.substr(0, equals));
  const std::string_view type_name = text.substr(equals + 1);
  const std::optional<GgmlType> type = GgmlTypeFromName(type_name);
  if (!type) {
    return Status::InvalidArgument("--tensor-type '" + Printable(text) + "': unknown type '" +
                                   Printable(type_name) + "'");
  }
  try {
    return TensorTypeOverride{pattern, std::regex(pattern), *type};
  } catch (const std::regex_error& e) {
    return Status::InvalidArgument("--tensor-type '" + Printable(text) +
                                   "': bad regular expression: " + e.what());
  }
}

bool AllowsQuantization(const TensorDesc& tensor, const PlanOptions& options) {
  if (EffectiveRank(tensor.shape) < 2) return false;
  const std::string_view name = tensor.name;
  if (!EndsWith(name, "weight")) return false;
  if (options.leave_output_tensor && name == "output.weight") return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  for (std::string_view excluded : kNeverQuantized) {
    if (Contains(name, excluded)) return false;
  }
  return true;
}

TensorDecision DecideTensorType(const TensorDesc& tensor, const ModelFacts& facts,
                                const PlanOptions& options) {
  TensorDecision decision;
  decision.type = tensor.type;
  if (!AllowsQuantization(tensor, options)) return decision;

  const TensorRole role = RoleOf(tensor.name);
  auto finish = [&](GgmlType type) {
    decision.type = type;
    decision.quantize = type != tensor.type;
    decision.requires_importance = RequiresImportanceFor(role, type, options.file_type);
    return decision;
  };
  if (options.token_embedding_type && role == TensorRole::kTokenEmbedding) {
    decision.note = "--token-embedding-type";
    return finish(*options.token_embedding_type);
  }
  if (options.output_tensor_type && role == TensorRole::kOutput) {
    decision.note = "--output-tensor-type";
    return finish(*options.output_tensor_type);
  }
  GgmlType type = Info(options.file_type).default_type;
  if (IsQuantized(type)) {
    bool manual = false;
    for (const TensorTypeOverride& override : options.tensor_types) {
      if (std::regex_search(tensor.name, override.regex)) {
        type = override.type;
        decision.note = "--tensor-type " + override.pattern;
        manual = true;
        break;
      }
    }
    if (!manual && !options.pure) type = MixType(tensor, role, type, facts, options);
    std::string fallback_note;
    type = FallBack(tensor, type, &fallback_note);
    if (!fallback_note.empty()) decision.note = fallback_note;
  }
  return finish(type);
}

}  // namespace qtk
