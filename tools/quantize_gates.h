// The CI gates of `qtk quantize`. Size and memory gates are checked on the plan, before
// anything is written (the sizes are exact by then): a breach writes nothing. Error gates
// are checked on the written outputs, read back and compared with the input (with
// --dry-run, on the same quantization done in memory); a breach keeps the files, for
// inspection, and exits 3.
#ifndef QTK_TOOLS_QUANTIZE_GATES_H_
#define QTK_TOOLS_QUANTIZE_GATES_H_

#include <string>
#include <vector>

#include "qtk/gates.h"
#include "qtk/model_input.h"
#include "qtk/quantize_model.h"
#include "qtk/report.h"

namespace qtk::cli {

// One line per breach of --max-size and --must-fit.
Result<std::vector<std::string>> CheckPlanGates(const ModelInput& input,
                                                const std::vector<OutputPlan>& plans,
                                                const Gates& gates, const MemoryOptions& memory);

// One line per breach of --min-snr and --max-rmse; `written`: the outputs exist on disk.
Result<std::vector<std::string>> CheckErrorGates(const ModelInput& input,
                                                 const std::vector<OutputPlan>& plans,
                                                 const Gates& gates, bool written, int n_threads);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_QUANTIZE_GATES_H_
