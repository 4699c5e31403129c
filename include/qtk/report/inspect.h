// What a model holds, in numbers and as the text or JSON `qtk inspect` prints.
//
// Everything here reads tensor infos only, never tensor data, so it is fast on any model.
// The JSON document's fields are described in docs/inspect.md.
//
// Implemented in inspect_summary.cc (totals), inspect_text.cc and inspect_json.cc (the two
// renderings).
#ifndef QTK_REPORT_INSPECT_H_
#define QTK_REPORT_INSPECT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qtk/model/model_source.h"

namespace qtk {

struct TypeUsage {
  std::string type;  // TensorDtype::name()
  uint64_t n_tensors = 0;
  uint64_t n_bytes = 0;
  uint64_t n_elements = 0;
};

struct ModelSummary {
  uint64_t n_tensors = 0;
  uint64_t n_bytes = 0;            // tensor data, without alignment padding
  uint64_t n_elements = 0;         // the parameter count
  std::vector<TypeUsage> by_type;  // most bytes first, then by name

  // 8 * n_bytes / n_elements; 0 when there are no elements.
  double bits_per_weight() const;
};

ModelSummary SummarizeModel(const ModelSource& model);

struct InspectOptions {
  size_t width = 100;          // text columns; tensor names and values are elided to fit
  size_t max_array_items = 8;  // metadata arrays longer than this are summarised
};

// The human-readable report: header, metadata, config, tensor table, types histogram.
std::string FormatInspectText(const ModelSource& model, const InspectOptions& options = {});

// The same content as one JSON document (see docs/inspect.md), ending in a newline.
std::string FormatInspectJson(const ModelSource& model, const InspectOptions& options = {});

}  // namespace qtk

#endif  // QTK_REPORT_INSPECT_H_
