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

// gguf-py's TensorNameMap entries for the Hugging Face names of the Llama and Qwen families.
constexpr TensorNameRule kTensorNames[] = {
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
    {"model.layers.{bid}.input_layernorm", "blk.{bid}.attn_norm"},
    {"model.layers.{bid}.self_attn.q_proj", "blk.{bid}.attn_q"},
    {"model.layers.{bid}.self_attn.k_proj", "blk.{bid}.attn_k"},
    {"model.layers.{bid}.self_attn.v_proj", "blk.{bid}.attn_v"},
    {"model.layers.{bid}.self_attn.o_proj", "blk.{bid}.attn_output"},
    {"model.layers.{bid}.self_attn.q_norm", "blk.{bid}.attn_q_norm"},
    {"model.layers.{bid}.self_attn.k_norm", "blk.{bid}.attn_k_norm"},
    {"model.layers.{bid}.post_attention_layernorm", "blk.{bid}.ffn_norm"},
    {"model.layers.{bid}.mlp.gate_proj", "blk.{bid}.ffn_gate"},
    {"model.layers.{bid}.mlp.up_proj", "blk.{bid}.ffn_up"},
    {"model.layers.{bid}.mlp.down_proj", "blk.{bid}.ffn_down"},
    // Mixture of experts: the router, the stacked experts (names after stacking), the shared
    // expert and its gate.
    {"model.layers.{bid}.mlp.gate", "blk.{bid}.ffn_gate_inp"},
    {"model.layers.{bid}.block_sparse_moe.gate", "blk.{bid}.ffn_gate_inp"},
    {"model.layers.{bid}.mlp.experts.gate_proj", "blk.{bid}.ffn_gate_exps"},
    {"model.layers.{bid}.mlp.experts.up_proj", "blk.{bid}.ffn_up_exps"},
    {"model.layers.{bid}.mlp.experts.down_proj", "blk.{bid}.ffn_down_exps"},
    {"layers.{bid}.feed_forward.experts.w1", "blk.{bid}.ffn_gate_exps"},
    {"layers.{bid}.feed_forward.experts.w3", "blk.{bid}.ffn_up_exps"},
    {"layers.{bid}.feed_forward.experts.w2", "blk.{bid}.ffn_down_exps"},
    {"model.layers.{bid}.mlp.shared_expert.gate_proj", "blk.{bid}.ffn_gate_shexp"},
    {"model.layers.{bid}.mlp.shared_expert.up_proj", "blk.{bid}.ffn_up_shexp"},
    {"model.layers.{bid}.mlp.shared_expert.down_proj", "blk.{bid}.ffn_down_shexp"},
    {"model.layers.{bid}.mlp.shared_expert_gate", "blk.{bid}.ffn_gate_inp_shexp"},
};

// ModelBase.prepare_tensors: "we don't need these".
constexpr K kSkippedSuffixes[] = {".attention.masked_bias", ".attention.bias",
                                  ".rotary_emb.inv_freq"};

}  // namespace

std::span<const HparamRule> TextModelHparams() { return kTextModelHparams; }
std::span<const TensorNameRule> TextModelTensorNames() { return kTensorNames; }
std::span<const std::string_view> TextModelSkippedSuffixes() { return kSkippedSuffixes; }

}  // namespace qtk
