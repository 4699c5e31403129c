// The Llama row of the architecture table: LlamaModel in convert_hf_to_gguf.py (Llama 1-3,
// Mistral, Mixtral).
#include "convert/arch_table.h"

namespace qtk {
namespace {

using K = std::string_view;

constexpr K kVocabSize[] = {"vocab_size"};

// LlamaModel.set_gguf_parameters adds these after TextModel's.
constexpr HparamRule kLlamaHparams[] = {
    {"{arch}.vocab_size", GgufValueType::kUint32, HparamSource::kFirstOf, kVocabSize, true},
    {"{arch}.rope.dimension_count", GgufValueType::kUint32, HparamSource::kRopeDimension, {}},
};

// LlamaModel.undo_permute: HF stores q/k in rotate-half order, llama.cpp interleaved.
constexpr TensorTransformRule kLlamaTransforms[] = {
    {"q_proj.weight", TensorTransform::kPermuteRopeQ},
    {"q_proj.bias", TensorTransform::kPermuteRopeQ},
    {"k_proj.weight", TensorTransform::kPermuteRopeK},
    {"k_proj.bias", TensorTransform::kPermuteRopeK},
};

// Mixtral: block_sparse_moe.experts.{xid}.w1/w2/w3, stacked in that order.
constexpr K kMixtralProjections[] = {"w1", "w2", "w3"};

constexpr K kLlamaArchitectures[] = {"LlamaForCausalLM", "LLaMAForCausalLM", "MistralForCausalLM",
                                     "MixtralForCausalLM"};

}  // namespace

const ArchitectureSpec& LlamaArchitecture() {
  static const ArchitectureSpec kSpec = {
      .hf_architectures = kLlamaArchitectures,
      .gguf_architecture = "llama",
      .common_hparams = TextModelHparams(),
      .hparams = kLlamaHparams,
      .tensor_names = TextModelTensorNames(),
      .skipped_tensor_suffixes = TextModelSkippedSuffixes(),
      .f32_tensors = {},
      .transforms = kLlamaTransforms,
      .vocab = VocabKind::kSentencePieceElseGpt2,
      .experts = ExpertStackRule{.marker = "block_sparse_moe.experts",
                                 .layer_prefix = "model.layers.{bid}.block_sparse_moe.experts.",
                                 .projections = kMixtralProjections,
                                 .merged = "layers.{bid}.feed_forward.experts.{w}"},
      .llama3_rope_factors = true,
      .llama_vocab_extras = true,
  };
  return kSpec;
}

}  // namespace qtk
