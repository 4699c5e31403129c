// The rows of the architecture table, one file each (internal). See qtk/convert/architecture.h.
#ifndef QTK_CONVERT_ARCH_TABLE_H_
#define QTK_CONVERT_ARCH_TABLE_H_

#include <span>

#include "qtk/convert/architecture.h"

namespace qtk {

// What most rows share (arch_text_model.cc): TextModel.set_gguf_parameters' rules; the
// TensorNameMap entries of the Llama and Qwen families' Hugging Face names (dense, q/k norms,
// MoE routers, stacked experts, shared experts); ModelBase.prepare_tensors' skipped tensors.
std::span<const HparamRule> TextModelHparams();
std::span<const TensorNameRule> TextModelTensorNames();
std::span<const std::string_view> TextModelSkippedSuffixes();

// LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM (arch_llama.cc).
const ArchitectureSpec& LlamaArchitecture();

// Qwen2ForCausalLM, Qwen2MoeForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM (arch_qwen.cc).
const ArchitectureSpec& Qwen2Architecture();
const ArchitectureSpec& Qwen2MoeArchitecture();
const ArchitectureSpec& Qwen3Architecture();
const ArchitectureSpec& Qwen3MoeArchitecture();

}  // namespace qtk

#endif  // QTK_CONVERT_ARCH_TABLE_H_
