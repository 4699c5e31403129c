// The rows of the architecture table, one file each (internal). See qtk/convert/architecture.h.
#ifndef QTK_CONVERT_ARCH_TABLE_H_
#define QTK_CONVERT_ARCH_TABLE_H_

#include <span>

#include "qtk/convert/architecture.h"

namespace qtk {

// TextModel.set_gguf_parameters, the rules most rows start with (arch_text_model.cc).
std::span<const HparamRule> TextModelHparams();

// LlamaForCausalLM, MistralForCausalLM (arch_llama.cc).
const ArchitectureSpec& LlamaArchitecture();

}  // namespace qtk

#endif  // QTK_CONVERT_ARCH_TABLE_H_
