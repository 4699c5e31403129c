// llama-quantize's mixes (llama_tensor_get_type_impl) for the file types qtk can produce,
// as a table: for each role group, branches keyed by file type, tried in order; the first
// branch whose file type matches decides, through the first of its outcomes whose condition
// holds (none: the default type stays). This mirrors llama.cpp's else-if chains, whose
// file types do not repeat within a role.
//
// llama.cpp counts attn_v and ffn_down tensors as it visits them in (layer, name) order; with
// one such tensor per layer the count is the layer index, which is what is used here.
// The IQ1/IQ2/IQ3 mixes are not here: qtk does not produce those types.
#include "plan/mix_rules.h"

#include <array>

namespace qtk {
namespace {

using F = FileType;
using G = GgmlType;

enum class Group : uint8_t { kAttentionV, kAttentionK, kAttentionOutput, kFfnDown };

enum class When : uint8_t {
  kAlways,
  kGqaAtLeast4,     // n_head / n_head_kv >= 4
  kUseMoreBits,     // the first and last eighth, and every third layer between
  kFirstEighth,     // layer < n / 8
  kFirstSixteenth,  // layer < n / 16
  kBeforeTwo,       // layer < 2
  kBeforeFour,      // layer < 4
  kFirstEighthNoImportance,
  kFirstEighthWithImportance,
  kFalcon,
  kFalconFirstSixteenth,
  kFalconUseMoreBits,
  kNotFalconOrUseMoreBits,
  kNotFalconFirstEighth,
  kEightExperts,  // n_expert == 8
};

struct Outcome {
  When when;
  G type;
  bool keep = false;  // the condition holding means: leave the default type
};

struct Branch {
  Group group;
  uint64_t file_types;  // bit i set: FileType with id i
  std::array<Outcome, 4> outcomes;
  int n_outcomes;
};

constexpr uint64_t Set(std::initializer_list<F> types) {
  uint64_t mask = 0;
  for (F type : types) mask |= uint64_t{1} << static_cast<uint32_t>(type);
  return mask;
}

constexpr Outcome Keep(When when) { return {when, G::kF32, true}; }

constexpr Branch kBranches[] = {
    // attn_v (and attn_qkv, attn_kv_b)
    {Group::kAttentionV,
     Set({F::kMostlyQ2_K}),
     {{{When::kGqaAtLeast4, G::kQ4_K}, {When::kAlways, G::kQ3_K}}},
     2},
    {Group::kAttentionV, Set({F::kMostlyQ2_K_S}), {{{When::kGqaAtLeast4, G::kQ4_K}}}, 1},
    {Group::kAttentionV,
     Set({F::kMostlyQ3_K_M}),
     {{{When::kBeforeTwo, G::kQ5_K}, {When::kAlways, G::kQ4_K}}},
     2},
    {Group::kAttentionV, Set({F::kMostlyQ3_K_L}), {{{When::kAlways, G::kQ5_K}}}, 1},
    {Group::kAttentionV,
     Set({F::kMostlyIQ4_NL, F::kMostlyIQ4_XS}),
     {{{When::kGqaAtLeast4, G::kQ5_K}}},
     1},
    {Group::kAttentionV,
     Set({F::kMostlyQ4_K_M, F::kMostlyQ5_K_M}),
     {{{When::kUseMoreBits, G::kQ6_K}}},
     1},
    {Group::kAttentionV, Set({F::kMostlyQ4_K_S}), {{{When::kBeforeFour, G::kQ5_K}}}, 1},

    // ffn_down
    {Group::kFfnDown, Set({F::kMostlyQ2_K}), {{{When::kAlways, G::kQ3_K}}}, 1},
    {Group::kFfnDown, Set({F::kMostlyQ2_K_S}), {{{When::kFirstEighth, G::kQ4_K}}}, 1},
    {Group::kFfnDown,
     Set({F::kMostlyQ3_K_M}),
     {{{When::kFirstSixteenth, G::kQ5_K},
       {When::kNotFalconOrUseMoreBits, G::kQ4_K},
       {When::kAlways, G::kQ3_K}}},
     3},
    {Group::kFfnDown,
     Set({F::kMostlyQ3_K_L}),
     {{{When::kFalcon, G::kQ4_K}, {When::kAlways, G::kQ5_K}}},
     2},
    {Group::kFfnDown,
     Set({F::kMostlyQ4_K_M}),
     {{{When::kFalconFirstSixteenth, G::kQ6_K},
       {When::kFalconUseMoreBits, G::kQ5_K},
       {When::kFalcon, G::kQ4_K},
       {When::kUseMoreBits, G::kQ6_K}}},
     4},
    {Group::kFfnDown,
     Set({F::kMostlyIQ4_NL, F::kMostlyIQ4_XS}),
     {{{When::kFirstEighthNoImportance, G::kQ5_K}}},
     1},
    {Group::kFfnDown, Set({F::kMostlyQ5_K_M}), {{{When::kUseMoreBits, G::kQ6_K}}}, 1},
    {Group::kFfnDown, Set({F::kMostlyQ4_K_S}), {{{When::kNotFalconFirstEighth, G::kQ5_K}}}, 1},
    {Group::kFfnDown, Set({F::kMostlyQ4_0}), {{{When::kFirstEighthWithImportance, G::kQ4_1}}}, 1},
    {Group::kFfnDown, Set({F::kMostlyQ5_0}), {{{When::kFirstEighthWithImportance, G::kQ5_1}}}, 1},

    // attn_output
    {Group::kAttentionOutput,
     Set({F::kMostlyQ2_K}),
     {{Keep(When::kFalcon), {When::kEightExperts, G::kQ5_K}, {When::kAlways, G::kQ3_K}}},
     3},
    {Group::kAttentionOutput,
     Set({F::kMostlyQ3_K_S, F::kMostlyIQ4_NL, F::kMostlyQ4_K_S, F::kMostlyQ4_K_M,
          F::kMostlyIQ4_XS}),
     {{Keep(When::kFalcon), {When::kEightExperts, G::kQ5_K}}},
     2},
    {Group::kAttentionOutput,
     Set({F::kMostlyQ3_K_M}),
     {{Keep(When::kFalcon), {When::kEightExperts, G::kQ5_K}, {When::kAlways, G::kQ4_K}}},
     3},
    {Group::kAttentionOutput,
     Set({F::kMostlyQ3_K_L}),
     {{{When::kFalcon, G::kQ4_K}, Keep(When::kEightExperts), {When::kAlways, G::kQ5_K}}},
     3},
};

bool UseMoreBits(int layer, int n) {
  return layer < n / 8 || layer >= 7 * n / 8 || (layer - n / 8) % 3 == 2;
}

struct Context {
  int layer;
  int n;
  const ModelFacts& facts;
  bool has_importance;
  bool falcon() const { return facts.architecture == "falcon"; }
};

bool Holds(When when, const Context& c) {
  switch (when) {
    case When::kAlways:
      return true;
    case When::kGqaAtLeast4:
      return c.facts.gqa() >= 4;
    case When::kUseMoreBits:
      return UseMoreBits(c.layer, c.n);
    case When::kFirstEighth:
      return c.layer < c.n / 8;
    case When::kFirstSixteenth:
      return c.layer < c.n / 16;
    case When::kBeforeTwo:
      return c.layer < 2;
    case When::kBeforeFour:
      return c.layer < 4;
    case When::kFirstEighthNoImportance:
      return c.layer < c.n / 8 && !c.has_importance;
    case When::kFirstEighthWithImportance:
      return c.layer < c.n / 8 && c.has_importance;
    case When::kFalcon:
      return c.falcon();
    case When::kFalconFirstSixteenth:
      return c.falcon() && c.layer < c.n / 16;
    case When::kFalconUseMoreBits:
      return c.falcon() && UseMoreBits(c.layer, c.n);
    case When::kNotFalconOrUseMoreBits:
      return !c.falcon() || UseMoreBits(c.layer, c.n);
    case When::kNotFalconFirstEighth:
      return !c.falcon() && c.layer < c.n / 8;
    case When::kEightExperts:
      return c.facts.n_expert == 8;
  }
  return false;
}

G ApplyBranches(Group group, F file_type, G type, const Context& context) {
  const uint64_t bit = uint64_t{1} << static_cast<uint32_t>(file_type);
  for (const Branch& branch : kBranches) {
    if (branch.group != group || (branch.file_types & bit) == 0) continue;
    for (int i = 0; i < branch.n_outcomes; ++i) {
      const Outcome& outcome = branch.outcomes[static_cast<size_t>(i)];
      if (Holds(outcome.when, context)) return outcome.keep ? type : outcome.type;
    }
    return type;
  }
  return type;
}

// The output tensor, and the token embedding when it doubles as the output.
G OutputType(const TensorDesc& tensor, G type, const ModelFacts& facts,
             const PlanOptions& options) {
  if (options.output_tensor_type) return *options.output_tensor_type;
  const int64_t n_cols = tensor.shape.empty() ? 1 : tensor.shape[0];
  if (options.file_type == F::kMostlyMXFP4_MOE) return G::kQ8_0;
  if (facts.architecture == "falcon" || n_cols % GgmlBlockSize(type) != 0) return G::kQ8_0;
  return type != G::kQ8_0 ? G::kQ6_K : type;
}

}  // namespace

GgmlType MixType(const TensorDesc& tensor, TensorRole role, GgmlType default_type,
                 const ModelFacts& facts, const PlanOptions& options) {
  const F file_type = options.file_type;
  if (role == TensorRole::kOutput ||
      (!facts.has_output_tensor && role == TensorRole::kTokenEmbedding)) {
    return OutputType(tensor, default_type, facts, options);
  }
  if (file_type == F::kMostlyMXFP4_MOE) {
    // Expert tensors (3-D) get MXFP4, everything else Q8_0.
    return tensor.shape.size() > 2 && tensor.shape[2] > 1 ? G::kMXFP4 : G::kQ8_0;
  }
  if (role == TensorRole::kTokenEmbedding) {
    if (options.token_embedding_type) return *options.token_embedding_type;
    if (file_type == F::kMostlyTQ1_0 || file_type == F::kMostlyTQ2_0) return G::kQ4_K;
    return default_type;
  }
  const int layer = LayerOf(tensor.name).value_or(0);
  if (IsAttentionVLike(role)) {
    const Context context{layer, facts.n_attention_v, facts, options.has_importance};
    G type = ApplyBranches(Group::kAttentionV, file_type, default_type, context);
    if (facts.is_llama_70b() && (type == G::kQ3_K || type == G::kQ4_K)) type = G::kQ5_K;
    if (facts.n_expert == 8) type = G::kQ8_0;
    return type;
  }
  const Context context{layer, facts.n_layers, facts, options.has_importance};
  switch (role) {
    case TensorRole::kAttentionK:
      return facts.n_expert == 8 ? G::kQ8_0 : default_type;
    case TensorRole::kFfnDown:
      return ApplyBranches(Group::kFfnDown, file_type, default_type, context);
    case TensorRole::kAttentionOutput:
      return ApplyBranches(Group::kAttentionOutput, file_type, default_type, context);
    default:
      return default_type;
  }
}

}  // namespace qtk
