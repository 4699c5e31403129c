// The report as CSV: one rectangular table at a time, plain numbers (bytes in bytes).
#include <cmath>
#include <cstdio>

#include "qtk/base/units.h"
#include "report_format.h"

namespace qtk::cli {
namespace {

std::string Num(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

std::string Int(uint64_t value) { return std::to_string(value); }

std::string TargetsCsv(const Report& report) {
  std::string out =
      CsvLine({"type", "kind", "file_bytes", "tensor_bytes", "n_weights", "gb", "gib",
               "bits_per_weight", "nominal_bits", "ideal_bytes", "ratio_to_f16", "ratio_to_input",
               "hypothetical_bytes", "rmse", "snr_db", "cosine", "worst_tensor", "worst_snr_db"});
  for (size_t i = 0; i < report.sizes.targets.size(); ++i) {
    const TargetSize& t = report.sizes.targets[i];
    std::vector<std::string> row = {
        t.target.name,
        t.target.scheme ? "scheme" : "file_type",
        Int(t.file_bytes),
        Int(t.tensor_bytes),
        Int(t.n_weights),
        Num(ToGB(static_cast<double>(t.file_bytes))),
        Num(ToGiB(static_cast<double>(t.file_bytes))),
        Num(t.bits_per_weight()),
        Num(t.nominal_bits),
        Num(t.ideal_bytes()),
        Num(report.sizes.ratio_to_f16(i)),
        Num(report.sizes.ratio_to_input(i)),
        report.hypothetical.empty() ? "" : Num(report.hypothetical[i].n_bytes)};
    const TargetQuality* q = report.quality_measured ? &report.quality[i] : nullptr;
    const TensorError* worst = q != nullptr && q->unavailable.empty() ? q->worst() : nullptr;
    if (worst != nullptr) {
      for (const std::string& cell :
           {Num(q->total.Rmse()), Num(q->total.SnrDb()), Num(q->total.Cosine()), worst->name,
            Num(worst->stats.SnrDb())}) {
        row.push_back(cell);
      }
    } else {
      row.insert(row.end(), 5, "");
    }
    out += CsvLine(row);
  }
  return out;
}

std::string BreakdownCsv(const Report& report) {
  std::string out = CsvLine({"type", "group", "name", "n_tensors", "n_weights", "bytes"});
  for (const TargetSize& t : report.sizes.targets) {
    for (const ByteGroup& g : t.classes) {
      out += CsvLine({t.target.name, "class", g.name, std::to_string(g.n_tensors), Int(g.n_weights),
                      Int(g.n_bytes)});
    }
    out += CsvLine({t.target.name, "class", "metadata", "0", "0", Int(t.metadata_bytes())});
    for (const ByteGroup& g : t.types) {
      out += CsvLine({t.target.name, "type", g.name, std::to_string(g.n_tensors), Int(g.n_weights),
                      Int(g.n_bytes)});
    }
  }
  return out;
}

std::string MemoryCsv(const Report& report) {
  const MemoryReport& memory = report.memory;
  std::vector<std::string> header = {"type",           "kv_type",       "context",
                                     "batch",          "weights_bytes", "kv_bytes",
                                     "overhead_bytes", "total_bytes",   "kv_share"};
  for (const MemoryBudget& b : memory.options.budgets) header.push_back("fits_" + b.label);
  std::string out = CsvLine(header);
  for (const MemoryRow& row : memory.rows) {
    std::vector<std::string> cells = {row.target,
                                      std::string(GgmlTypeName(row.kv_type)),
                                      std::to_string(memory.context),
                                      std::to_string(memory.options.batch),
                                      Int(row.weights_bytes),
                                      Int(row.kv_bytes),
                                      Int(row.overhead_bytes),
                                      Int(row.total_bytes()),
                                      Num(row.kv_share())};
    for (bool fits : row.fits) cells.push_back(fits ? "true" : "false");
    out += CsvLine(cells);
  }
  return out;
}

std::string TensorsCsv(const Report& report) {
  std::string out = CsvLine(
      {"type", "tensor", "tensor_type", "n_elements", "rmse", "snr_db", "cosine", "max_abs_error"});
  for (const TargetQuality& q : report.quality) {
    for (const TensorError& t : q.tensors) {
      out += CsvLine({q.target, t.name, t.type, std::to_string(t.stats.n_elements),
                      Num(t.stats.Rmse()), Num(t.stats.SnrDb()), Num(t.stats.Cosine()),
                      Num(t.stats.max_abs_error)});
    }
  }
  return out;
}

}  // namespace

bool ParseCsvTable(const std::string& name, CsvTable* table) {
  if (name == "targets")
    *table = CsvTable::kTargets;
  else if (name == "breakdown")
    *table = CsvTable::kBreakdown;
  else if (name == "memory")
    *table = CsvTable::kMemory;
  else if (name == "tensors")
    *table = CsvTable::kTensors;
  else
    return false;
  return true;
}

std::string FormatReportCsv(const Report& report, CsvTable table) {
  switch (table) {
    case CsvTable::kTargets:
      return TargetsCsv(report);
    case CsvTable::kBreakdown:
      return BreakdownCsv(report);
    case CsvTable::kMemory:
      return MemoryCsv(report);
    case CsvTable::kTensors:
      return TensorsCsv(report);
  }
  return "";
}

}  // namespace qtk::cli
