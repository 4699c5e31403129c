// The whole of `qtk quantize` as one call, for any program that links libqtk:
//
//   1. open the input (any model path: model/model_input.h),
//   2. read the importance matrix, if any, and apply --include/--exclude-weights,
//   3. plan every output (plan/output_plan.h): exact sizes, nothing written,
//   4. check the size gates on the plan (a breach writes nothing),
//   5. write the outputs (pipeline/quantize_model.h), unless it is a dry run,
//   6. check the error gates, on the written files or, for a dry run, in memory.
//
// The caller parses its own arguments into a QuantizeJob and renders the result; the job
// itself never prints. What a careful tool would log (the importance matrix read, planning
// fallbacks) goes to the `log` callback, in the order it happens.
#ifndef QTK_PIPELINE_QUANTIZE_JOB_H_
#define QTK_PIPELINE_QUANTIZE_JOB_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/model/model_input.h"
#include "qtk/pipeline/quantize_model.h"
#include "qtk/plan/output_plan.h"
#include "qtk/report/gates.h"
#include "qtk/report/quantize_gates.h"
#include "qtk/report/report.h"

namespace qtk {

enum class LogLevel { kInfo, kWarning };

struct QuantizeJob {
  std::string input;                // a GGUF file, safetensors file, index or model directory
  ModelInputOptions input_options;  // how a model directory is converted (--vocab-pre)
  std::vector<OutputSpec> outputs;  // one or more, written in one pass over the input
  // Planning and writing options; its progress and should_stop are called while writing.
  QuantizeModelOptions options;
  // An importance matrix file (llama-imatrix's GGUF or legacy .dat); empty: none.
  std::string imatrix_path;
  // llama-quantize's --include-weights / --exclude-weights for the importance matrix.
  std::vector<std::string> imatrix_include;
  std::vector<std::string> imatrix_exclude;
  // Plan and check, write nothing.
  bool dry_run = false;
  Gates gates;
  MemoryOptions memory;  // the deployment --must-fit is checked for
};

struct QuantizeJobCallbacks {
  // One line of information or warning. Optional.
  std::function<void(LogLevel, const std::string&)> log;
  // Called once every output is planned, before anything is written or checked: the plans
  // stay valid (and unchanged) until the job returns. Optional.
  std::function<void(const std::vector<OutputPlan>&)> planned;
};

struct QuantizeJobResult {
  std::unique_ptr<ModelInput> input;
  std::vector<OutputPlan> plans;
  // Breaches of --max-size / --must-fit: then nothing was written or measured.
  std::vector<std::string> size_breaches;
  // The writing's summary; absent for a dry run or after a size breach.
  std::optional<QuantizeSummary> summary;
  // Breaches of --min-snr / --max-rmse (the outputs are kept for inspection).
  std::vector<std::string> error_breaches;

  bool passed() const { return size_breaches.empty() && error_breaches.empty(); }
};

// Runs `job` (see the top of this file).
// Errors: those of opening the input and the importance matrix, planning, writing and
// measuring; Cancelled when options.should_stop returned true (no output is left behind).
Result<QuantizeJobResult> RunQuantizeJob(QuantizeJob job, const QuantizeJobCallbacks& callbacks);

}  // namespace qtk

#endif  // QTK_PIPELINE_QUANTIZE_JOB_H_
