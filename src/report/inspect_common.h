// Pieces shared by the text and JSON renderings of `qtk inspect` (internal).
#ifndef QTK_REPORT_INSPECT_COMMON_H_
#define QTK_REPORT_INSPECT_COMMON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qtk/format/gguf.h"
#include "qtk/model/model_source.h"

namespace qtk {

// "u32", "str", "arr[str]".
std::string MetadataTypeName(const GgufValue& value);

// A metadata value for the text report: "llama", 2048, 1e-05, [1, 2, 3], and for arrays
// longer than `max_items`: 512 items: ["<unk>", "<s>", ...] (the count first, so it survives
// eliding the end of the line).
std::string MetadataDisplayText(const GgufValue& value, size_t max_items);

// The shortest decimal that reads back as the same float: 1e-05f prints as 1e-05, not
// 9.99999975e-06. Infinities and NaN come back unchanged.
double ShortestDecimal(float value);

// "512 x 64"; "scalar" for rank 0.
std::string ShapeText(const std::vector<int64_t>& shape);

// The file a tensor came from, as shown: its path relative to the model's directory when it
// is inside it ("model-00001-of-00003.safetensors"), else the path as opened.
std::string DisplayFileName(const ModelSource& model, size_t file);

// "hf-directory: LlamaForCausalLM, 3 shards" style one-line description of the container.
std::string FormatDescription(const ModelSource& model);

}  // namespace qtk

#endif  // QTK_REPORT_INSPECT_COMMON_H_
