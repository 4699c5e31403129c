// The Qwen rows of the architecture table: Qwen2Model, Qwen2MoeModel, Qwen3Model and
// Qwen3MoeModel in convert_hf_to_gguf.py (Qwen2, Qwen2.5, Qwen3 and their MoE models).
// None permutes q/k (Qwen checkpoints are stored as llama.cpp's NEOX rope wants them);
// Qwen2's q/k/v biases and Qwen3's q/k norms are ordinary tensors of the name table.
#include "convert/arch_table.h"

namespace qtk {
namespace {

using K = std::string_view;

constexpr K kMoeFeedForward[] = {"moe_intermediate_size"};
constexpr K kSharedFeedForward[] = {"shared_expert_intermediate_size"};

// Qwen2MoeModel.set_gguf_parameters adds these after TextModel's.
constexpr HparamRule kQwenMoeHparams[] = {
    {"{arch}.expert_feed_forward_length", GgufValueType::kUint32, HparamSource::kFirstOf,
     kMoeFeedForward},
    {"{arch}.expert_shared_feed_forward_length", GgufValueType::kUint32, HparamSource::kFirstOf,
     kSharedFeedForward},
};

// Qwen2MoeModel.modify_tensors: mlp.experts.{xid}.{down,gate,up}_proj, stacked in that order.
constexpr K kQwenProjections[] = {"down_proj", "gate_proj", "up_proj"};
constexpr ExpertStackRule kQwenExperts = {.marker = "experts",
                                          .layer_prefix = "model.layers.{bid}.mlp.experts.",
                                          .projections = kQwenProjections,
                                          .merged = "model.layers.{bid}.mlp.experts.{w}"};

constexpr K kQwen2Architectures[] = {"Qwen2ForCausalLM"};
constexpr K kQwen2MoeArchitectures[] = {"Qwen2MoeForCausalLM"};
constexpr K kQwen3Architectures[] = {"Qwen3ForCausalLM"};
constexpr K kQwen3MoeArchitectures[] = {"Qwen3MoeForCausalLM"};

ArchitectureSpec QwenRow(std::span<const K> names, K gguf_name, bool moe, VocabKind vocab) {
  return {
      .hf_architectures = names,
      .gguf_architecture = gguf_name,
      .common_hparams = TextModelHparams(),
      .hparams = moe ? std::span<const HparamRule>(kQwenMoeHparams) : std::span<const HparamRule>(),
      .tensor_names = TextModelTensorNames(),
      .skipped_tensor_suffixes = TextModelSkippedSuffixes(),
      .f32_tensors = {},
      .transforms = {},
      .vocab = vocab,
      .experts = moe ? std::optional<ExpertStackRule>(kQwenExperts) : std::nullopt,
  };
}

}  // namespace

// Qwen2Model.set_vocab tries tokenizer.model first; the MoE models take TextModel's (BPE).
const ArchitectureSpec& Qwen2Architecture() {
  static const ArchitectureSpec kSpec =
      QwenRow(kQwen2Architectures, "qwen2", false, VocabKind::kSentencePieceElseGpt2);
  return kSpec;
}

const ArchitectureSpec& Qwen2MoeArchitecture() {
  static const ArchitectureSpec kSpec =
      QwenRow(kQwen2MoeArchitectures, "qwen2moe", true, VocabKind::kGpt2);
  return kSpec;
}

const ArchitectureSpec& Qwen3Architecture() {
  static const ArchitectureSpec kSpec =
      QwenRow(kQwen3Architectures, "qwen3", false, VocabKind::kSentencePieceElseGpt2);
  return kSpec;
}

const ArchitectureSpec& Qwen3MoeArchitecture() {
  static const ArchitectureSpec kSpec =
      QwenRow(kQwen3MoeArchitectures, "qwen3moe", true, VocabKind::kGpt2);
  return kSpec;
}

}  // namespace qtk
