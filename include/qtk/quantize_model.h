// Quantizing a whole model into one or more GGUF files in one pass over the input.
//
// PlanModel decides every output tensor's type and lays out every output file (exact sizes,
// no data touched): that is `--dry-run` and the size report. QuantizeModel then reads each
// input tensor once, converts it to F32 once, and writes it into every output, each output
// through a temporary file renamed into place only when complete.
#ifndef QTK_QUANTIZE_MODEL_H_
#define QTK_QUANTIZE_MODEL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/file_type.h"
#include "qtk/gguf.h"
#include "qtk/gguf_writer.h"
#include "qtk/model_input.h"
#include "qtk/plan.h"
#include "qtk/scheme.h"
#include "qtk/status.h"

namespace qtk {

// One output file: a llama.cpp file type, or a generic scheme (qtk/scheme.h).
struct OutputSpec {
  std::string path;
  FileType file_type = FileType::kMostlyQ8_0;
  // When set, every quantizable tensor gets this scheme instead of file_type's mix.
  std::optional<Scheme> scheme = std::nullopt;
};

// "Q4_K_M", or the scheme's canonical name ("int4-g128").
std::string OutputTypeName(const OutputSpec& spec);

// What to do with NaN and infinity in the weights.
enum class NanPolicy {
  kRefuse,  // stop with an error naming the tensor and the first bad element (default)
  kZero,    // replace them with 0 and say how many
  kKeep,    // quantize them as they are (the output may hold NaN)
};

// Below these magnitudes (of weights, and of importance weights) every quantizer's output
// decodes to finite values: the invariant fuzz_quantize_rows checks. Beyond them a type may
// overflow (F16 at 65504, block scales likewise), so QuantizeModel decodes such tensors'
// output again and refuses a non-finite result (unless NanPolicy::kKeep).
inline constexpr float kAlwaysFiniteMagnitude = 1e3f;
inline constexpr float kAlwaysFiniteImportance = 1e6f;

// Per-column importance for a tensor (one weight per element of a row, times the number of
// experts), or nullopt when there is none.
using ImportanceLookup =
    std::function<std::optional<std::span<const float>>(std::string_view tensor_name)>;

class ImportanceMatrix;

// How --imatrix is used: per-tensor weights from `matrix`, limited to the `include` names
// (when given) and without the `exclude` names, as llama-quantize's --include-weights and
// --exclude-weights. `matrix` must outlive the lookup.
struct ImportanceUse {
  ImportanceLookup lookup;
  // The keys llama-quantize records: quantize.imatrix.file (as given), .dataset,
  // .entries_count (after filtering), .chunks_count.
  std::vector<GgufKeyValue> metadata;
};
ImportanceUse UseImportance(const ImportanceMatrix& matrix, const std::string& file_as_given,
                            const std::vector<std::string>& include,
                            const std::vector<std::string>& exclude);

struct ProgressEvent {
  size_t tensor_index = 0;  // input tensors done so far (this one included)
  size_t n_tensors = 0;
  std::string_view name;
  uint64_t input_bytes_done = 0;
  uint64_t input_bytes_total = 0;
};

struct QuantizeModelOptions {
  // Everything but file_type (which comes from each OutputSpec).
  PlanOptions plan;
  // Threads for conversion and quantization; <= 0: all hardware threads. Default: all.
  int n_threads = 0;
  // Allow requantizing tensors that are already quantized. Default: refuse, as llama-quantize.
  bool allow_requantize = false;
  // Replace existing output files. Default: refuse.
  bool overwrite = false;
  // A split GGUF input gives split outputs, each tensor in the split it came from, named
  // "<OUT without .gguf>-0000i-of-0000N.gguf" (llama-quantize --keep-split). Default: one file.
  bool keep_split = false;
  // fsync outputs before renaming them into place. Default: on.
  bool sync = true;
  NanPolicy nan_policy = NanPolicy::kRefuse;
  // Importance matrix; empty function: none.
  ImportanceLookup importance;
  // Extra metadata: set (or replace) these keys in every output, as --override-kv.
  std::vector<GgufKeyValue> metadata_overrides;
  // Called after each input tensor. Optional.
  std::function<void(const ProgressEvent&)> progress;
  // Polled between tensors and chunks; returning true stops with Status::Cancelled and
  // leaves no output behind. Optional.
  std::function<bool()> should_stop;
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
                                          const QuantizeModelOptions& options);

// Unsupported if a planned tensor needs a kernel qtk does not have (reading or writing).
Status CheckKernelsExist(const OutputPlan& plan);

struct OutputSummary {
  std::string path;
  uint64_t file_bytes = 0;
};

struct QuantizeSummary {
  std::vector<OutputSummary> outputs;
  uint64_t input_bytes = 0;
  int64_t n_nonfinite_zeroed = 0;  // with NanPolicy::kZero
};

// Writes every planned output. On any error (or should_stop) no output file is left behind.
Result<QuantizeSummary> QuantizeModel(const ModelInput& input, const std::vector<OutputPlan>& plans,
                                      const QuantizeModelOptions& options);

// llama-quantize's tensor order: tensors outside blocks first, then block by block, by name
// within each.
bool LlamaQuantizeOrder(std::string_view a, std::string_view b);

}  // namespace qtk

#endif  // QTK_QUANTIZE_MODEL_H_
