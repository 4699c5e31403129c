// Quantizing a whole model into one or more GGUF files in one pass over the input.
//
// PlanModel (plan/output_plan.h) decides every output tensor's type and lays out every output
// file. QuantizeModel then reads each input tensor once, converts it to F32 once, and writes
// it into every output, each output through a temporary file renamed into place only when
// complete.
#ifndef QTK_PIPELINE_QUANTIZE_MODEL_H_
#define QTK_PIPELINE_QUANTIZE_MODEL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/model/model_input.h"
#include "qtk/plan/output_plan.h"

namespace qtk {

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

struct ProgressEvent {
  size_t tensor_index = 0;  // input tensors done so far (this one included)
  size_t n_tensors = 0;
  std::string_view name;
  uint64_t input_bytes_done = 0;
  uint64_t input_bytes_total = 0;
};

// OutputPlanOptions, and how QuantizeModel carries the plans out.
struct QuantizeModelOptions : OutputPlanOptions {
  // Threads for conversion and quantization; <= 0: all hardware threads. Default: all.
  int n_threads = 0;
  // Replace existing output files. Default: refuse.
  bool overwrite = false;
  // fsync outputs before renaming them into place. Default: on.
  bool sync = true;
  NanPolicy nan_policy = NanPolicy::kRefuse;
  // Called after each input tensor. Optional.
  std::function<void(const ProgressEvent&)> progress;
  // Polled between tensors and chunks; returning true stops with Status::Cancelled and
  // leaves no output behind. Optional.
  std::function<bool()> should_stop;
};

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

}  // namespace qtk

#endif  // QTK_PIPELINE_QUANTIZE_MODEL_H_
