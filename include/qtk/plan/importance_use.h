// An importance matrix (format/imatrix.h) as the planner and the quantizers consume it.
#ifndef QTK_PLAN_IMPORTANCE_USE_H_
#define QTK_PLAN_IMPORTANCE_USE_H_

#include <string>
#include <vector>

#include "qtk/format/gguf.h"
#include "qtk/plan/output_plan.h"

namespace qtk {

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

}  // namespace qtk

#endif  // QTK_PLAN_IMPORTANCE_USE_H_
