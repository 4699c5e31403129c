// The report as JSON: "qtk.report/1", described field by field in docs/report-schema.json.
#include <cmath>
#include <nlohmann/json.hpp>

#include "json_fields.h"
#include "qtk/base/units.h"
#include "report_format.h"

namespace qtk::cli {
namespace {

Json QualityJson(const TargetQuality& q) {
  if (!q.unavailable.empty()) return {{"measured", false}, {"unavailable", q.unavailable}};
  Json json = {{"measured", true}, {"n_tensors", q.tensors.size()}};
  json.update(ErrorStatsJson(q.total));
  const TensorError* worst = q.worst();
  json["worst_tensor"] = worst == nullptr ? Json(nullptr)
                                          : Json{{"name", worst->name},
                                                 {"type", worst->type},
                                                 {"snr_db", FiniteJson(worst->stats.SnrDb())},
                                                 {"rmse", worst->stats.Rmse()}};
  Json tensors = Json::array();
  for (const TensorError& t : q.tensors) {
    Json tensor = {{"name", t.name}, {"type", t.type}};
    tensor.update(ErrorStatsJson(t.stats));
    tensors.push_back(std::move(tensor));
  }
  json["tensors"] = std::move(tensors);
  return json;
}

Json GroupsJson(const std::vector<ByteGroup>& groups, const char* key, bool with_types) {
  Json out = Json::array();
  for (const ByteGroup& g : groups) {
    Json group = {{key, g.name},
                  {"n_tensors", g.n_tensors},
                  {"n_weights", g.n_weights},
                  {"bytes", g.n_bytes}};
    if (with_types) group["types"] = g.types;
    out.push_back(std::move(group));
  }
  return out;
}

Json TargetJson(const Report& report, size_t i) {
  const TargetSize& t = report.sizes.targets[i];
  const bool scheme = t.target.scheme.has_value();
  Json json = {
      {"name", t.target.name},
      {"kind", scheme ? "scheme" : "file_type"},
      {"file_type_id", scheme ? Json(nullptr) : Json(static_cast<uint32_t>(t.target.file_type))},
      {"file_bytes", t.file_bytes},
      {"tensor_bytes", t.tensor_bytes},
      {"metadata_bytes", t.metadata_bytes()},
      {"n_weights", t.n_weights},
      {"gb", ToGB(static_cast<double>(t.file_bytes))},
      {"gib", ToGiB(static_cast<double>(t.file_bytes))},
      {"bits_per_weight", t.bits_per_weight()},
      {"nominal_bits", t.nominal_bits},
      {"ideal_bytes", t.ideal_bytes()},
      {"ratio_to_f16", report.sizes.ratio_to_f16(i)},
      {"ratio_to_input", report.sizes.ratio_to_input(i)},
      {"hypothetical_bytes",
       report.hypothetical.empty() ? Json(nullptr) : Json(report.hypothetical[i].n_bytes)},
      {"hypothetical_ideal_bytes",
       report.hypothetical.empty() ? Json(nullptr) : Json(report.hypothetical[i].ideal_bytes)},
      {"classes", GroupsJson(t.classes, "class", true)},
      {"types", GroupsJson(t.types, "type", false)},
      {"warnings", t.warnings},
      {"quality", report.quality_measured ? QualityJson(report.quality[i]) : Json(nullptr)}};
  return json;
}

Json MemoryJson(const MemoryReport& memory) {
  if (!memory.unavailable.empty()) {
    return {{"available", false}, {"unavailable", memory.unavailable}};
  }
  const MemoryOptions& options = memory.options;
  Json kv_types = Json::array();
  for (GgmlType type : options.kv_types) kv_types.push_back(std::string(GgmlTypeName(type)));
  Json budgets = Json::array();
  for (const MemoryBudget& b : options.budgets) {
    budgets.push_back({{"label", b.label}, {"bytes", b.n_bytes}});
  }
  Json rows = Json::array();
  for (const MemoryRow& row : memory.rows) {
    rows.push_back({{"target", row.target},
                    {"kv_type", std::string(GgmlTypeName(row.kv_type))},
                    {"weights_bytes", row.weights_bytes},
                    {"kv_bytes", row.kv_bytes},
                    {"overhead_bytes", row.overhead_bytes},
                    {"total_bytes", row.total_bytes()},
                    {"kv_share", row.kv_share()},
                    {"fits", row.fits}});
  }
  Json by_context = Json::array();
  for (const KvAtContext& at : memory.kv_by_context) {
    by_context.push_back({{"context", at.context}, {"bytes", at.n_bytes}});
  }
  return {
      {"available", true},
      {"context", memory.context},
      {"context_source", memory.context_source},
      {"batch", options.batch},
      {"shape",
       {{"n_layers", memory.shape.n_layers},
        {"n_kv_heads", memory.shape.n_kv_heads},
        {"head_dim", memory.shape.head_dim},
        {"source", memory.shape_source}}},
      {"overhead",
       {{"fixed_bytes", options.overhead.fixed_bytes}, {"fraction", options.overhead.fraction}}},
      {"kv_types", std::move(kv_types)},
      {"budgets", std::move(budgets)},
      {"rows", std::move(rows)},
      {"kv_by_context", std::move(by_context)}};
}

}  // namespace

std::string FormatReportJson(const Report& report, const std::vector<std::string>& breaches) {
  const SizeReport& sizes = report.sizes;
  Json doc;
  doc["schema"] = "qtk.report/1";
  doc["input"] = {{"path", report.input_path},
                  {"description", report.input_description},
                  {"file_bytes", sizes.input_file_bytes},
                  {"tensor_bytes", sizes.input_tensor_bytes},
                  {"n_weights", sizes.n_weights},
                  {"n_tensors", sizes.n_tensors}};
  doc["f16_file_bytes"] = sizes.f16_file_bytes;
  doc["hypothetical_params"] =
      report.hypothetical_params ? Json(*report.hypothetical_params) : Json(nullptr);
  doc["quality"] = {{"measured", report.quality_measured}, {"sample_rows", report.sample_rows}};
  doc["targets"] = Json::array();
  for (size_t i = 0; i < sizes.targets.size(); ++i) doc["targets"].push_back(TargetJson(report, i));
  doc["memory"] = MemoryJson(report.memory);
  doc["gate_breaches"] = breaches;
  return doc.dump(2) + "\n";
}

}  // namespace qtk::cli
