// UseImportance: an importance matrix as the quantizer consumes it.
#include "qtk/plan/importance_use.h"

#include <algorithm>
#include <memory>
#include <set>

#include "qtk/format/imatrix.h"

namespace qtk {

ImportanceUse UseImportance(const ImportanceMatrix& matrix, const std::string& file_as_given,
                            const std::vector<std::string>& include,
                            const std::vector<std::string>& exclude) {
  auto allowed = std::make_shared<std::set<std::string, std::less<>>>();
  for (const ImportanceEntry& entry : matrix.entries()) {
    const bool included =
        include.empty() || std::find(include.begin(), include.end(), entry.name) != include.end();
    const bool excluded = std::find(exclude.begin(), exclude.end(), entry.name) != exclude.end();
    if (included && !excluded) allowed->insert(entry.name);
  }
  ImportanceUse use;
  use.lookup = [&matrix, allowed](std::string_view name) -> std::optional<std::span<const float>> {
    if (allowed->find(name) == allowed->end()) return std::nullopt;
    const ImportanceEntry* entry = matrix.Find(name);
    if (entry == nullptr) return std::nullopt;
    return std::span<const float>(entry->weights);
  };
  use.metadata.push_back({"quantize.imatrix.file", GgufValue::String(file_as_given)});
  if (!matrix.datasets().empty()) {
    use.metadata.push_back({"quantize.imatrix.dataset", GgufValue::String(matrix.datasets()[0])});
  }
  use.metadata.push_back({"quantize.imatrix.entries_count",
                          GgufValue::Uint32(static_cast<uint32_t>(allowed->size()))});
  if (matrix.chunk_count() > 0) {
    use.metadata.push_back({"quantize.imatrix.chunks_count",
                            GgufValue::Uint32(static_cast<uint32_t>(matrix.chunk_count()))});
  }
  return use;
}

}  // namespace qtk
