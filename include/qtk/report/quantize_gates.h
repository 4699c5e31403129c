// The CI gates of `qtk quantize` (report/gates.h) applied to planned outputs. Size and memory
// gates are checked on the plan, before anything is written (the sizes are exact by then).
// Error gates are checked on the written outputs, read back and compared with the input
// (for a dry run, on the same quantization done in memory).
#ifndef QTK_REPORT_QUANTIZE_GATES_H_
#define QTK_REPORT_QUANTIZE_GATES_H_

#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/model/model_input.h"
#include "qtk/plan/output_plan.h"
#include "qtk/report/gates.h"
#include "qtk/report/report.h"

namespace qtk {

// The gates that planned sizes decide (--max-size, --must-fit), checked before anything is
// written: a breach writes nothing. `memory` describes the deployment for --must-fit.
Result<std::vector<std::string>> CheckPlanGates(const ModelInput& input,
                                                const std::vector<OutputPlan>& plans,
                                                const Gates& gates, const MemoryOptions& memory);

// The gates on error (--min-snr, --max-rmse): measured on the written files when `written`,
// otherwise by quantizing in memory (a dry run).
Result<std::vector<std::string>> CheckErrorGates(const ModelInput& input,
                                                 const std::vector<OutputPlan>& plans,
                                                 const Gates& gates, bool written, int n_threads);

}  // namespace qtk

#endif  // QTK_REPORT_QUANTIZE_GATES_H_
