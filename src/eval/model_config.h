// The hyperparameters of a model to evaluate, read from its GGUF metadata the way
// llama.cpp's llama-model.cpp reads them (internal to eval/).
//
// Keys (ARCH = general.architecture): ARCH.block_count, ARCH.embedding_length,
// ARCH.feed_forward_length, ARCH.attention.head_count, ARCH.attention.head_count_kv
// (default: head_count), ARCH.attention.key_length (default: embedding_length / head_count),
// ARCH.attention.layer_norm_rms_epsilon, ARCH.rope.freq_base (default 10000),
// ARCH.rope.dimension_count (default: key_length), ARCH.rope.scaling.type and
// ARCH.rope.scaling.factor (linear scaling: freq_scale = 1 / factor), ARCH.expert_count,
// ARCH.expert_used_count, ARCH.expert_feed_forward_length, and for BOS handling
// tokenizer.ggml.model, tokenizer.ggml.add_bos_token, tokenizer.ggml.bos_token_id.
#ifndef QTK_EVAL_MODEL_CONFIG_H_
#define QTK_EVAL_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/gguf.h"

namespace qtk {

// The graph variants the forward pass knows; each differs from llama in a few steps.
enum class EvalArchitecture {
  kLlama,  // RoPE NORM (pairs of adjacent values; GGUF q/k rows are permuted for it)
  kQwen2,  // + q/k/v biases, RoPE NEOX (pairs i, i + n_rot/2)
  kQwen3,  // + per-head RMSNorm of q and k before RoPE, RoPE NEOX (qwen3 and qwen3moe)
};

enum class RopeStyle { kNorm, kNeox };

struct EvalModelConfig {
  std::string architecture;  // general.architecture
  EvalArchitecture graph = EvalArchitecture::kLlama;
  int64_t n_layer = 0;
  int64_t n_embd = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // key_length
  int64_t n_rot = 0;     // rope.dimension_count
  float rms_eps = 0;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / rope.scaling.factor for linear scaling
  RopeStyle rope_style = RopeStyle::kNorm;
  // Mixture of experts (ARCH.expert_count > 1: qwen3moe, Mixtral as llama): each token's FFN
  // is the n_expert_used experts of highest softmax router probability, their outputs
  // weighted by those probabilities renormalized to sum 1 (llama.cpp's build_moe_ffn with
  // softmax gating and norm_w, as its llama and qwen3moe graphs call it).
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_expert = 0;  // ARCH.expert_feed_forward_length (default: feed_forward_length)
  bool is_moe() const { return n_expert > 1; }

  bool add_bos = false;  // llama-perplexity replaces each chunk's first token by BOS
  int32_t bos_id = -1;
};

// Reads and checks the hyperparameters; `path` is for messages.
// Errors: Unsupported for an architecture the forward pass does not implement; Corruption
// for a missing or inconsistent key.
Result<EvalModelConfig> ReadEvalModelConfig(const std::vector<GgufKeyValue>& metadata,
                                            const std::string& path);

}  // namespace qtk

#endif  // QTK_EVAL_MODEL_CONFIG_H_
