// The metadata rules every text architecture starts with: TextModel.set_gguf_parameters.
#include "convert/arch_table.h"

namespace qtk {
namespace {

using K = std::string_view;

// TextModel.set_gguf_parameters, in its order. Left out (no registered architecture uses
// them; see docs/conversion.md): expert groups, the gating function, yarn and sliding-window
// rope keys.
constexpr K kBlockCount[] = {"n_layers", "num_hidden_layers", "n_layer", "num_layers"};
constexpr K kContextLength[] = {
    "max_position_embeddings", "n_ctx",           "n_positions", "max_length",
    "max_sequence_length",     "model_max_length"};
constexpr K kEmbeddingLength[] = {"hidden_size", "n_embd", "dim"};
constexpr K kFeedForwardLength[] = {"intermediate_size", "n_inner", "hidden_dim"};
constexpr K kHeadCount[] = {"num_attention_heads", "n_head", "n_heads"};
constexpr K kHeadCountKv[] = {"num_key_value_heads", "n_kv_heads"};
constexpr K kRopeTheta[] = {"global_rope_theta", "rope_global_theta", "rope_theta_global",
                            "rope_theta", "rotary_emb_base"};
constexpr K kRmsEps[] = {"rms_norm_eps", "norm_eps"};
constexpr K kNormEps[] = {"layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"};
constexpr K kExpertCount[] = {"num_local_experts", "num_experts"};
constexpr K kExpertUsed[] = {"num_experts_per_tok", "num_experts_per_token", "top_k_experts"};
constexpr K kHeadDim[] = {"head_dim"};

constexpr HparamRule kTextModelHparams[] = {
    {"{arch}.block_count", GgufValueType::kUint32, HparamSource::kFirstOf, kBlockCount, true},
    {"{arch}.context_length", GgufValueType::kUint32, HparamSource::kFirstOf, kContextLength},
    {"{arch}.embedding_length", GgufValueType::kUint32, HparamSource::kFirstOf, kEmbeddingLength},
    {"{arch}.feed_forward_length", GgufValueType::kUint32, HparamSource::kFirstOf,
     kFeedForwardLength},
    {"{arch}.attention.head_count", GgufValueType::kUint32, HparamSource::kFirstOf, kHeadCount},
    {"{arch}.attention.head_count_kv", GgufValueType::kUint32, HparamSource::kFirstOf,
     kHeadCountKv},
    {"{arch}.attention.causal", GgufValueType::kBool, HparamSource::kCausal, {}},
    {"{arch}.rope.scaling.type", GgufValueType::kString, HparamSource::kRopeScaling, {}},
    {"{arch}.rope.freq_base", GgufValueType::kFloat32, HparamSource::kRopeTheta, kRopeTheta},
    {"{arch}.attention.layer_norm_rms_epsilon", GgufValueType::kFloat32, HparamSource::kFirstOf,
     kRmsEps},
    {"{arch}.attention.layer_norm_epsilon", GgufValueType::kFloat32, HparamSource::kFirstOf,
     kNormEps},
    {"{arch}.expert_count", GgufValueType::kUint32, HparamSource::kFirstOf, kExpertCount},
    {"{arch}.expert_used_count", GgufValueType::kUint32, HparamSource::kFirstOf, kExpertUsed},
    {"{arch}.attention.key_length", GgufValueType::kUint32, HparamSource::kFirstOf, kHeadDim},
    {"{arch}.attention.value_length", GgufValueType::kUint32, HparamSource::kFirstOf, kHeadDim},
    {"general.file_type", GgufValueType::kUint32, HparamSource::kFileType, {}},
};

}  // namespace

std::span<const HparamRule> TextModelHparams() { return kTextModelHparams; }

}  // namespace qtk
