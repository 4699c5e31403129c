// The Llama row of the architecture table: LlamaModel in convert_hf_to_gguf.py.
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

// gguf-py's TensorNameMap entries for MODEL_ARCH.LLAMA that HF Llama/Mistral checkpoints use.
constexpr TensorNameRule kLlamaTensorNames[] = {
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
    {"model.layers.{bid}.input_layernorm", "blk.{bid}.attn_norm"},
    {"model.layers.{bid}.self_attn.q_proj", "blk.{bid}.attn_q"},
    {"model.layers.{bid}.self_attn.k_proj", "blk.{bid}.attn_k"},
    {"model.layers.{bid}.self_attn.v_proj", "blk.{bid}.attn_v"},
    {"model.layers.{bid}.self_attn.o_proj", "blk.{bid}.attn_output"},
    {"model.layers.{bid}.post_attention_layernorm", "blk.{bid}.ffn_norm"},
    {"model.layers.{bid}.mlp.gate_proj", "blk.{bid}.ffn_gate"},
    {"model.layers.{bid}.mlp.up_proj", "blk.{bid}.ffn_up"},
    {"model.layers.{bid}.mlp.down_proj", "blk.{bid}.ffn_down"},
};

// ModelBase.prepare_tensors: "we don't need these".
constexpr K kSkippedSuffixes[] = {".attention.masked_bias", ".attention.bias",
                                  ".rotary_emb.inv_freq"};

// LlamaModel.undo_permute: HF stores q/k in rotate-half order, llama.cpp interleaved.
constexpr TensorTransformRule kLlamaTransforms[] = {
    {"q_proj.weight", TensorTransform::kPermuteRopeQ},
    {"q_proj.bias", TensorTransform::kPermuteRopeQ},
    {"k_proj.weight", TensorTransform::kPermuteRopeK},
    {"k_proj.bias", TensorTransform::kPermuteRopeK},
};

constexpr K kLlamaArchitectures[] = {"LlamaForCausalLM", "MistralForCausalLM"};

}  // namespace

const ArchitectureSpec& LlamaArchitecture() {
  static const ArchitectureSpec kSpec = {
      .hf_architectures = kLlamaArchitectures,
      .gguf_architecture = "llama",
      .common_hparams = TextModelHparams(),
      .hparams = kLlamaHparams,
      .tensor_names = kLlamaTensorNames,
      .skipped_tensor_suffixes = kSkippedSuffixes,
      .f32_tensors = {},
      .transforms = kLlamaTransforms,
      .vocab = VocabKind::kSentencePiece,
  };
  return kSpec;
}

}  // namespace qtk
