// What `qtk quantize` prints: the per-tensor plan (--dry-run), the size report, and the
// same as JSON (--json).
#ifndef QTK_TOOLS_QUANTIZE_REPORT_H_
#define QTK_TOOLS_QUANTIZE_REPORT_H_

#include <string>
#include <vector>

#include "qtk/model/model_input.h"
#include "qtk/pipeline/quantize_model.h"

namespace qtk::cli {

// One row per tensor: name, shape, input type -> output type, sizes, note.
std::string FormatPlanTable(const OutputPlan& plan);

// The size report: input, then each output with its per-type breakdown.
std::string FormatSizeReport(const ModelInput& input, const std::vector<OutputPlan>& plans,
                             bool dry_run);

// The same as one JSON document (schema in docs/quantize.md).
std::string FormatJsonReport(const ModelInput& input, const std::vector<OutputPlan>& plans,
                             bool dry_run, double seconds);

// "[   3/  20] blk.0.attn_k.weight  [256, 128]  F32 -> Q4_K  128.00 KiB -> 18.00 KiB"
std::string FormatTensorLine(const std::vector<OutputPlan>& plans, size_t input_index);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_QUANTIZE_REPORT_H_
