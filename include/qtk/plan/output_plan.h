// Planning whole output files: every output tensor's type, the metadata and the exact layout of
// each GGUF file to write, from tensor infos alone (no tensor data is read). This is
// `--dry-run`, the size report, and what pipeline/quantize_model.h then carries out.
#ifndef QTK_PLAN_OUTPUT_PLAN_H_
#define QTK_PLAN_OUTPUT_PLAN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/model/model_input.h"
#include "qtk/plan/file_type.h"
#include "qtk/plan/plan.h"
#include "qtk/scheme/scheme.h"

namespace qtk {

// One output file: a llama.cpp file type, or a generic scheme (qtk/scheme/scheme.h).
struct OutputSpec {
  std::string path;
  FileType file_type = FileType::kMostlyQ8_0;
  // When set, every quantizable tensor gets this scheme instead of file_type's mix.
  std::optional<Scheme> scheme = std::nullopt;
};

// "Q4_K_M", or the scheme's canonical name ("int4-g128").
std::string OutputTypeName(const OutputSpec& spec);

// Per-column importance for a tensor (one weight per element of a row, times the number of
// experts), or nullopt when there is none.
using ImportanceLookup =
    std::function<std::optional<std::span<const float>>(std::string_view tensor_name)>;

// What PlanModel needs besides each output's type: the choices of llama-quantize's options.
struct OutputPlanOptions {
  // Everything but file_type (which comes from each OutputSpec).
  PlanOptions plan;
  // Allow requantizing tensors that are already quantized. Default: refuse, as llama-quantize.
  bool allow_requantize = false;
  // A split GGUF input gives split outputs, each tensor in the split it came from, named
  // "<OUT without .gguf>-0000i-of-0000N.gguf" (llama-quantize --keep-split). Default: one file.
  bool keep_split = false;
  // Importance matrix; empty function: none.
  ImportanceLookup importance;
  // Extra metadata: set (or replace) these keys in every output, as --override-kv.
  std::vector<GgufKeyValue> metadata_overrides;
};

// One input tensor in one output file.
struct PlannedTensor {
  size_t input_index = 0;
  std::string name;
  std::vector<int64_t> shape;
  GgmlType input_type = GgmlType::kF32;  // as the input presents it (converted: F32)
  std::string stored_type;               // as the input files hold it ("BF16")
  GgmlType type = GgmlType::kF32;        // the codes tensor's type for a generic scheme
  std::optional<Scheme> scheme;          // set: written in qtk's generic layout (several tensors)
  bool quantize = false;                 // false: the input bytes are copied
  std::string note;                      // fallback or override explanation
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;  // all of its GGUF tensors
  // Its GGUF tensors are layout.tensors[first_layout_index, + n_layout_tensors).
  size_t first_layout_index = 0;
  size_t n_layout_tensors = 1;

  // "Q4_K", or the scheme's name.
  std::string TypeName() const;
};

struct OutputPlan {
  OutputSpec spec;
  std::vector<GgufKeyValue> metadata;
  std::vector<PlannedTensor> tensors;  // in output file order
  GgufLayout layout;                   // the exact file size is layout.file_bytes()
  std::vector<std::string> warnings;   // one line each (fallbacks)

  uint64_t n_elements() const;
};

// Decides every tensor's type and lays out each output.
// Errors: InvalidArgument for impossible requests (a type qtk cannot produce, a type that
// needs an importance matrix without one, requantizing without allow_requantize).
Result<std::vector<OutputPlan>> PlanModel(const ModelInput& input,
                                          const std::vector<OutputSpec>& outputs,
                                          const OutputPlanOptions& options);

// Unsupported if a planned tensor needs a kernel qtk does not have (reading or writing).
Status CheckKernelsExist(const OutputPlan& plan);

// llama-quantize's tensor order: tensors outside blocks first, then block by block, by name
// within each.
bool LlamaQuantizeOrder(std::string_view a, std::string_view b);

}  // namespace qtk

#endif  // QTK_PLAN_OUTPUT_PLAN_H_
