#include "compare_format.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "format.h"
#include "json_fields.h"
#include "report_render.h"

namespace qtk::cli {
namespace {

std::string Ratio(uint64_t b, uint64_t a) {
  if (a == 0) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3f", static_cast<double>(b) / static_cast<double>(a));
  return buffer;
}

std::string SideLine(const std::string& which, const std::string& path,
                     const std::string& description, uint64_t file_bytes) {
  return which + ": " + path + " (" + description + "), file " + FormatCount(file_bytes) + " bytes";
}

std::vector<Section> CompareSections(const Comparison& c) {
  Section summary{"Compare B against A", {}, {}, {}};
  summary.notes.push_back(SideLine("A", c.path_a, c.description_a, c.file_bytes_a));
  summary.notes.push_back(SideLine("B", c.path_b, c.description_b, c.file_bytes_b));
  summary.notes.push_back(std::to_string(c.tensors.size()) +
                          " tensors in both: " + FormatBytes(c.tensor_bytes_a) + " in A, " +
                          FormatBytes(c.tensor_bytes_b) + " in B (B/A " +
                          Ratio(c.tensor_bytes_b, c.tensor_bytes_a) + ")");
  summary.notes.push_back(
      "error of B over all of them: RMSE " + FormatScientific(c.total.Rmse()) + ", SNR " +
      FormatDb(c.total.SnrDb()) + (std::isfinite(c.total.SnrDb()) ? " dB" : "") + ", cosine " +
      FormatCosine(c.total.Cosine()) + ", max |error| " + FormatScientific(c.total.max_abs_error));
  for (const std::string& name : c.only_in_a) summary.notes.push_back("only in A: " + name);
  for (const std::string& name : c.only_in_b) summary.notes.push_back("only in B: " + name);
  Section tensors{"Per tensor, worst first", {}, {}, {}};
  TextTable table{{"tensor", "A type", "B type", "A bytes", "B bytes", "RMSE", "SNR dB", "cosine"},
                  {},
                  {false, false, false, true, true, true, true, true}};
  for (const TensorComparison& t : c.tensors) {
    table.rows.push_back({t.name, t.type_a, t.type_b, FormatBytes(t.bytes_a),
                          FormatBytes(t.bytes_b), FormatScientific(t.stats.Rmse()),
                          FormatDb(t.stats.SnrDb()), FormatCosine(t.stats.Cosine())});
  }
  tensors.tables.push_back(std::move(table));
  return {summary, tensors};
}

std::string Num(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

}  // namespace

std::string FormatCompareText(const Comparison& comparison) {
  return RenderText(CompareSections(comparison));
}

std::string FormatCompareMarkdown(const Comparison& comparison) {
  return RenderMarkdown("qtk compare", CompareSections(comparison));
}

std::string FormatCompareCsv(const Comparison& c) {
  std::string out = CsvLine({"tensor", "shape", "type_a", "type_b", "bytes_a", "bytes_b",
                             "n_elements", "rmse", "snr_db", "cosine", "max_abs_error"});
  for (const TensorComparison& t : c.tensors) {
    out +=
        CsvLine({t.name, FormatShape(t.shape), t.type_a, t.type_b, std::to_string(t.bytes_a),
                 std::to_string(t.bytes_b), std::to_string(t.stats.n_elements), Num(t.stats.Rmse()),
                 Num(t.stats.SnrDb()), Num(t.stats.Cosine()), Num(t.stats.max_abs_error)});
  }
  return out;
}

std::string FormatCompareJson(const Comparison& c) {
  Json doc;
  doc["schema"] = "qtk.compare/1";
  doc["a"] = {{"path", c.path_a},
              {"description", c.description_a},
              {"file_bytes", c.file_bytes_a},
              {"tensor_bytes", c.tensor_bytes_a}};
  doc["b"] = {{"path", c.path_b},
              {"description", c.description_b},
              {"file_bytes", c.file_bytes_b},
              {"tensor_bytes", c.tensor_bytes_b}};
  doc["total"] = ErrorStatsJson(c.total);
  doc["only_in_a"] = c.only_in_a;
  doc["only_in_b"] = c.only_in_b;
  doc["tensors"] = Json::array();
  for (const TensorComparison& t : c.tensors) {
    Json tensor = {{"name", t.name},     {"shape", t.shape},     {"type_a", t.type_a},
                   {"type_b", t.type_b}, {"bytes_a", t.bytes_a}, {"bytes_b", t.bytes_b}};
    tensor.update(ErrorStatsJson(t.stats));
    doc["tensors"].push_back(std::move(tensor));
  }
  return doc.dump(2) + "\n";
}

}  // namespace qtk::cli
