// The deployment-memory part of the report for people: the (target, cache type) table
// against the budgets, and the KV cache over a range of contexts.
#include <algorithm>

#include "format.h"
#include "report_format.h"

namespace qtk::cli {
namespace {

std::string BytesPerElement(GgmlType type) {
  const int64_t block = GgmlBlockSize(type);
  const int64_t size = GgmlTypeSize(type);
  if (block == 1) return std::to_string(size);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%lld/%lld", static_cast<long long>(size),
                static_cast<long long>(block));
  return buffer;
}

// Two lines: the product, then the bytes per element of each cache type.
std::vector<std::string> KvFormula(const MemoryReport& memory) {
  std::string per_element;
  for (GgmlType type : memory.options.kv_types) {
    per_element += (per_element.empty() ? "" : ", ") + std::string(GgmlTypeName(type)) + " " +
                   BytesPerElement(type);
  }
  return {"KV cache = 2 x " + std::to_string(memory.shape.n_layers) + " layers x " +
              std::to_string(memory.shape.n_kv_heads) + " kv heads x " +
              std::to_string(memory.shape.head_dim) + " head dim x " +
              std::to_string(memory.context) + " tokens x " + std::to_string(memory.options.batch) +
              " sequences x bytes per element",
          "  bytes per element: " + per_element + " (shape from " + memory.shape_source + ")"};
}

std::string OverheadFormula(const RuntimeOverhead& overhead) {
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%g%%", overhead.fraction * 100.0);
  return "overhead = " + FormatBytes(overhead.fixed_bytes) + " + " + percent +
         " of (weights + KV cache): an estimate of runtime buffers (docs/report.md)";
}

Section TableSection(const Report& report) {
  const MemoryReport& memory = report.memory;
  Section section{"Deployment memory at context " + std::to_string(memory.context) + " (" +
                      memory.context_source + "), batch " + std::to_string(memory.options.batch),
                  {},
                  {},
                  {}};
  section.notes = KvFormula(memory);
  section.notes.push_back(OverheadFormula(memory.options.overhead));
  if (report.hypothetical_params) {
    section.notes.push_back("weights: the sizes of the hypothetical " +
                            FormatParamsShort(*report.hypothetical_params) +
                            "-parameter model above");
  }
  TextTable table{{"type", "cache", "weights", "KV cache", "overhead", "total", "KV %"},
                  {},
                  {false, false, true, true, true, true, true}};
  for (const MemoryBudget& budget : memory.options.budgets) {
    table.header.push_back(budget.label);
    table.right_aligned.push_back(true);
  }
  int n_kv_dominated = 0;
  for (const MemoryRow& row : memory.rows) {
    std::vector<std::string> cells = {row.target,
                                      std::string(GgmlTypeName(row.kv_type)),
                                      FormatBytes(row.weights_bytes),
                                      FormatBytes(row.kv_bytes),
                                      FormatBytes(row.overhead_bytes),
                                      FormatBytes(row.total_bytes()),
                                      FormatPercent(row.kv_share())};
    for (bool fits : row.fits) cells.push_back(fits ? "yes" : "no");
    table.rows.push_back(std::move(cells));
    if (row.kv_bytes > row.weights_bytes) ++n_kv_dominated;
  }
  section.tables.push_back(std::move(table));
  if (n_kv_dominated > 0) {
    section.footer.push_back("the KV cache is larger than the weights in " +
                             std::to_string(n_kv_dominated) + " of " +
                             std::to_string(memory.rows.size()) + " combinations");
  }
  return section;
}

// The smallest deployed weights among the targets: where the KV cache matters most.
size_t SmallestTarget(const Report& report) {
  size_t smallest = 0;
  for (size_t i = 1; i < report.sizes.targets.size(); ++i) {
    if (report.deployed_bytes(i) < report.deployed_bytes(smallest)) smallest = i;
  }
  return smallest;
}

Section ContextSection(const Report& report) {
  const MemoryReport& memory = report.memory;
  const size_t smallest = SmallestTarget(report);
  const std::string name = report.sizes.targets[smallest].target.name;
  const auto weights = static_cast<double>(report.deployed_bytes(smallest));
  Section section{
      "KV cache by context (batch " + std::to_string(memory.options.batch) + ")", {}, {}, {}};
  section.notes.push_back("how the cache grows with the context, against the smallest weights (" +
                          name + ", " + FormatBytes(report.deployed_bytes(smallest)) + ")");
  TextTable table{{"context"}, {}, {true}};
  for (GgmlType type : memory.options.kv_types) {
    table.header.push_back(std::string(GgmlTypeName(type)) + " cache");
    table.right_aligned.push_back(true);
  }
  const std::string first_type(GgmlTypeName(memory.options.kv_types.front()));
  table.header.push_back(first_type + " cache / " + name + " weights");
  table.right_aligned.push_back(true);
  std::optional<int64_t> outgrows;
  for (const KvAtContext& at : memory.kv_by_context) {
    std::vector<std::string> cells = {FormatCount(static_cast<uint64_t>(at.context))};
    for (uint64_t n : at.n_bytes) cells.push_back(FormatBytes(n));
    const double ratio = weights > 0 ? static_cast<double>(at.n_bytes.front()) / weights : 0;
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.2fx", ratio);
    cells.push_back(buffer);
    table.rows.push_back(std::move(cells));
    if (ratio > 1 && !outgrows) outgrows = at.context;
  }
  section.tables.push_back(std::move(table));
  if (outgrows) {
    section.footer.push_back("from context " + FormatCount(static_cast<uint64_t>(*outgrows)) +
                             " the " + first_type + " KV cache is larger than the " + name +
                             " weights");
  }
  return section;
}

}  // namespace

std::vector<Section> MemorySections(const Report& report) {
  const MemoryReport& memory = report.memory;
  if (!memory.unavailable.empty()) {
    return {Section{"Deployment memory", {"not computed: " + memory.unavailable}, {}, {}}};
  }
  if (memory.options.kv_types.empty() || report.sizes.targets.empty()) return {};
  return {TableSection(report), ContextSection(report)};
}

std::string FormatReportText(const Report& report) { return RenderText(ReportSections(report)); }

std::string FormatReportMarkdown(const Report& report) {
  return RenderMarkdown("qtk report", ReportSections(report));
}

}  // namespace qtk::cli
