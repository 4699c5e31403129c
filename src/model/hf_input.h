// Hugging Face checkpoints as ModelInputs (internal; ModelInputFrom chooses them).
#ifndef QTK_MODEL_HF_INPUT_H_
#define QTK_MODEL_HF_INPUT_H_

#include <memory>

#include "qtk/base/status.h"
#include "qtk/model/model_input.h"
#include "qtk/model/model_source.h"

namespace qtk {

// A model directory with a config.json, converted as convert_hf_to_gguf.py --outtype f32
// would write it: GGUF names, q/k rows permuted, the converter's metadata and vocabulary.
// Errors: InvalidArgument if `source` is not a directory; the conversion's errors.
Result<std::unique_ptr<ModelInput>> ConvertHfDirectory(ModelSource source,
                                                       const ModelInputOptions& options);

}  // namespace qtk

#endif  // QTK_MODEL_HF_INPUT_H_
