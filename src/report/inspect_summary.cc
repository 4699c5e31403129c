// Totals and the per-type histogram of a model, from tensor infos alone.
#include <algorithm>
#include <map>

#include "qtk/report/inspect.h"

namespace qtk {

double ModelSummary::bits_per_weight() const {
  if (n_elements == 0) return 0.0;
  return 8.0 * static_cast<double>(n_bytes) / static_cast<double>(n_elements);
}

ModelSummary SummarizeModel(const ModelSource& model) {
  ModelSummary summary;
  std::map<std::string, TypeUsage, std::less<>> by_type;
  for (const ModelTensor& tensor : model.tensors()) {
    const auto n_elements = static_cast<uint64_t>(tensor.n_elements());
    summary.n_tensors += 1;
    summary.n_bytes += tensor.n_bytes;
    summary.n_elements += n_elements;
    auto it = by_type.find(tensor.dtype.name());
    if (it == by_type.end()) {
      it = by_type.emplace(std::string(tensor.dtype.name()), TypeUsage{}).first;
      it->second.type = it->first;
    }
    it->second.n_tensors += 1;
    it->second.n_bytes += tensor.n_bytes;
    it->second.n_elements += n_elements;
  }
  for (auto& [name, usage] : by_type) summary.by_type.push_back(std::move(usage));
  std::stable_sort(summary.by_type.begin(), summary.by_type.end(),
                   [](const TypeUsage& a, const TypeUsage& b) { return a.n_bytes > b.n_bytes; });
  return summary;
}

}  // namespace qtk
