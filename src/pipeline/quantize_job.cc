// RunQuantizeJob: the steps of `qtk quantize`, in order, each a library call.
#include "qtk/pipeline/quantize_job.h"

#include <utility>

#include "qtk/format/imatrix.h"
#include "qtk/plan/importance_use.h"

namespace qtk {
namespace {

void Log(const QuantizeJobCallbacks& callbacks, LogLevel level, const std::string& line) {
  if (callbacks.log) callbacks.log(level, line);
}

// Step 2: the importance matrix, filtered, into the options (and its keys into the metadata).
// `matrix` must outlive the job's use of the options.
void UseImportanceFile(QuantizeJob& job, const ImportanceMatrix& matrix,
                       const QuantizeJobCallbacks& callbacks) {
  ImportanceUse use =
      UseImportance(matrix, job.imatrix_path, job.imatrix_include, job.imatrix_exclude);
  job.options.importance = std::move(use.lookup);
  for (GgufKeyValue& kv : use.metadata) job.options.metadata_overrides.push_back(std::move(kv));
  Log(callbacks, LogLevel::kInfo,
      "importance matrix " + job.imatrix_path + ": " + std::to_string(matrix.entries().size()) +
          " entries, " + std::to_string(matrix.chunk_count()) + " chunks");
}

}  // namespace

Result<QuantizeJobResult> RunQuantizeJob(QuantizeJob job, const QuantizeJobCallbacks& callbacks) {
  QuantizeJobResult result;
  QTK_ASSIGN_OR_RETURN(result.input, OpenModelInput(job.input, job.input_options));
  const ModelInput& input = *result.input;

  std::optional<ImportanceMatrix> matrix;
  if (!job.imatrix_path.empty()) {
    QTK_ASSIGN_OR_RETURN(ImportanceMatrix read, ReadImportanceMatrixFile(job.imatrix_path));
    matrix.emplace(std::move(read));
    UseImportanceFile(job, *matrix, callbacks);
  }
  if (job.options.keep_split && input.n_splits() == 1) {
    Log(callbacks, LogLevel::kWarning,
        "--keep-split: " + job.input + " is not a split gguf model; writing one file");
  }

  QTK_ASSIGN_OR_RETURN(result.plans, PlanModel(input, job.outputs, job.options));
  for (const OutputPlan& plan : result.plans) {
    for (const std::string& warning : plan.warnings) Log(callbacks, LogLevel::kWarning, warning);
  }
  if (callbacks.planned) callbacks.planned(result.plans);

  // Sizes are exact before writing: a size or memory breach writes nothing.
  QTK_ASSIGN_OR_RETURN(result.size_breaches,
                       CheckPlanGates(input, result.plans, job.gates, job.memory));
  if (!result.size_breaches.empty()) return result;

  if (!job.dry_run) {
    QTK_ASSIGN_OR_RETURN(result.summary, QuantizeModel(input, result.plans, job.options));
  }
  QTK_ASSIGN_OR_RETURN(result.error_breaches, CheckErrorGates(input, result.plans, job.gates,
                                                              !job.dry_run, job.options.n_threads));
  return result;
}

}  // namespace qtk
