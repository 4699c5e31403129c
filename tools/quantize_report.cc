#include "quantize_report.h"

#include <map>
#include <nlohmann/json.hpp>

#include "format.h"

namespace qtk::cli {
namespace {

struct TypeTotals {
  int n_tensors = 0;
  uint64_t n_bytes = 0;
  uint64_t n_elements = 0;
};

uint64_t ElementsOf(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

// Per output type (ggml type or scheme name), by name.
std::map<std::string, TypeTotals> TotalsByType(const OutputPlan& plan) {
  std::map<std::string, TypeTotals> totals;
  for (const PlannedTensor& tensor : plan.tensors) {
    TypeTotals& t = totals[tensor.TypeName()];
    ++t.n_tensors;
    t.n_bytes += tensor.output_bytes;
    t.n_elements += ElementsOf(tensor.shape);
  }
  return totals;
}

uint64_t TensorBytes(const OutputPlan& plan) {
  uint64_t n = 0;
  for (const PlannedTensor& tensor : plan.tensors) n += tensor.output_bytes;
  return n;
}

uint64_t InputTensorBytes(const ModelInput& input) { return input.stored_tensor_bytes(); }

uint64_t InputElements(const ModelInput& input) {
  uint64_t n = 0;
  for (const InputTensor& tensor : input.tensors()) n += ElementsOf(tensor.shape);
  return n;
}

std::string Ratio(uint64_t from, uint64_t to) {
  if (to == 0) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2fx",
                static_cast<double>(from) / static_cast<double>(to));
  return buffer;
}

}  // namespace

std::string FormatPlanTable(const OutputPlan& plan) {
  std::vector<std::vector<std::string>> rows = {
      {"tensor", "shape", "from", "to", "in", "out", "note"}};
  for (const PlannedTensor& tensor : plan.tensors) {
    rows.push_back({Escaped(tensor.name), FormatShape(tensor.shape), tensor.stored_type,
                    tensor.TypeName(), FormatBytes(tensor.input_bytes),
                    FormatBytes(tensor.output_bytes), tensor.note});
  }
  return FormatTable(rows, {false, false, false, false, true, true, false}, "  ");
}

std::string FormatSizeReport(const ModelInput& input, const std::vector<OutputPlan>& plans,
                             bool dry_run) {
  const uint64_t input_tensor_bytes = InputTensorBytes(input);
  const uint64_t n_elements = InputElements(input);
  std::string out = "input   " + input.path() + "  (" + input.Describe() + ")\n";
  out += "        " + FormatCount(n_elements) + " weights, " + FormatBytes(input_tensor_bytes) +
         " of tensor data (" + FormatBitsPerWeight(input_tensor_bytes, n_elements) +
         " bpw), file " + FormatBytes(input.file_bytes()) + "\n";
  for (size_t i = 0; i < plans.size(); ++i) {
    const OutputPlan& plan = plans[i];
    const uint64_t tensor_bytes = TensorBytes(plan);
    const uint64_t file_bytes = plan.layout.file_bytes();
    out += std::string(dry_run ? "would write " : "output  ") + plan.spec.path + "  (" +
           OutputTypeName(plans[i].spec) + ")\n";
    out += "        " + FormatBytes(tensor_bytes) + " of tensor data (" +
           FormatBitsPerWeight(tensor_bytes, n_elements) + " bpw), file " +
           FormatBytes(file_bytes) + " (" + FormatCount(file_bytes) + " bytes), " +
           Ratio(input.file_bytes(), file_bytes) + " smaller than the input\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& [type, totals] : TotalsByType(plan)) {
      rows.push_back({type, std::to_string(totals.n_tensors) + " tensors",
                      FormatBytes(totals.n_bytes),
                      FormatBitsPerWeight(totals.n_bytes, totals.n_elements) + " bpw"});
    }
    out += FormatTable(rows, {false, true, true, true}, "        ");
  }
  return out;
}

std::string FormatJsonReport(const ModelInput& input, const std::vector<OutputPlan>& plans,
                             bool dry_run, double seconds) {
  const uint64_t n_elements = InputElements(input);
  nlohmann::ordered_json doc;
  doc["schema"] = "qtk.quantize/1";
  doc["dry_run"] = dry_run;
  doc["seconds"] = seconds;
  doc["input"] = {{"path", input.path()},
                  {"description", input.Describe()},
                  {"file_bytes", input.file_bytes()},
                  {"tensor_bytes", InputTensorBytes(input)},
                  {"n_weights", n_elements},
                  {"n_tensors", input.tensors().size()}};
  doc["outputs"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < plans.size(); ++i) {
    const OutputPlan& plan = plans[i];
    const uint64_t tensor_bytes = TensorBytes(plan);
    nlohmann::ordered_json output = {
        {"path", plan.spec.path},
        {"type", OutputTypeName(plans[i].spec)},
        {"file_type_id", plan.spec.scheme
                             ? nlohmann::ordered_json(nullptr)
                             : nlohmann::ordered_json(static_cast<uint32_t>(plan.spec.file_type))},
        {"file_bytes", plan.layout.file_bytes()},
        {"tensor_bytes", tensor_bytes},
        {"bits_per_weight", n_elements == 0 ? 0.0
                                            : static_cast<double>(tensor_bytes) * 8.0 /
                                                  static_cast<double>(n_elements)},
        {"n_tensors", plan.tensors.size()},
        {"warnings", plan.warnings}};
    nlohmann::ordered_json by_type = nlohmann::ordered_json::object();
    for (const auto& [type, totals] : TotalsByType(plan)) {
      by_type[type] = {{"n_tensors", totals.n_tensors},
                       {"bytes", totals.n_bytes},
                       {"n_weights", totals.n_elements}};
    }
    output["types"] = by_type;
    doc["outputs"].push_back(std::move(output));
  }
  return doc.dump(2) + "\n";
}

std::string FormatTensorLine(const std::vector<OutputPlan>& plans, size_t input_index) {
  std::string line;
  for (const OutputPlan& plan : plans) {
    for (const PlannedTensor& tensor : plan.tensors) {
      if (tensor.input_index != input_index) continue;
      if (line.empty()) {
        line = Escaped(tensor.name) + "  " + FormatShape(tensor.shape) + "  " + tensor.stored_type +
               " " + FormatBytes(tensor.input_bytes);
      }
      line += std::string(tensor.quantize ? "  -> " : "  = ") + tensor.TypeName() + " " +
              FormatBytes(tensor.output_bytes);
    }
  }
  return line;
}

}  // namespace qtk::cli
