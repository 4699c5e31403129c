// The human-readable `qtk inspect` report.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/string_util.h"
#include "base/text_table.h"
#include "qtk/base/shape.h"
#include "qtk/report/inspect.h"
#include "report/inspect_common.h"

namespace qtk {
namespace {

using Align = TextTable::Align;

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

// 1536 -> "1.50 KiB".
std::string HumanBytes(uint64_t n) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  auto value = static_cast<double>(n);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return std::to_string(n) + " bytes";
  return Fixed(value, 2) + " " + kUnits[unit];
}

// 292416 -> "292.42 K", 6738415616 -> "6.74 B".
std::string HumanCount(uint64_t n) {
  static constexpr const char* kUnits[] = {"", " K", " M", " B", " T"};
  auto value = static_cast<double>(n);
  size_t unit = 0;
  while (value >= 1000.0 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  if (unit == 0) return std::to_string(n);
  return Fixed(value, 2) + kUnits[unit];
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  return Fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + "%";
}

std::string Bpw(uint64_t n_bytes, uint64_t n_elements) {
  if (n_elements == 0) return "-";
  return Fixed(8.0 * static_cast<double>(n_bytes) / static_cast<double>(n_elements), 2);
}

void AppendOverview(const ModelSource& model, const ModelSummary& summary,
                    const InspectOptions& options, std::string& out) {
  TextTable table({{Align::kLeft}, {Align::kLeft, Elide::kMiddle, true}});
  table.AddRow({"path", Printable(model.path(), 4096)});
  table.AddRow({"format", FormatDescription(model)});
  if (const HfModelDirectory* directory = model.hf_directory()) {
    std::string tokenizer;
    for (const std::string& file : directory->tokenizer_files) {
      tokenizer += (tokenizer.empty() ? "" : ", ") + file;
    }
    table.AddRow({"tokenizer", tokenizer.empty() ? "(no tokenizer files)" : tokenizer});
  }
  table.AddRow({"tensors", WithThousands(summary.n_tensors)});
  table.AddRow({"parameters",
                WithThousands(summary.n_elements) + " (" + HumanCount(summary.n_elements) + ")"});
  table.AddRow({"tensor data",
                WithThousands(summary.n_bytes) + " bytes (" + HumanBytes(summary.n_bytes) + ")"});
  table.AddRow({"bits/weight", Bpw(summary.n_bytes, summary.n_elements)});
  out += table.Render(options.width, 0);
}

void AppendFiles(const ModelSource& model, const InspectOptions& options, std::string& out) {
  if (model.files().size() < 2) return;
  out += "\nfiles (" + std::to_string(model.files().size()) + ")\n";
  TextTable table({{Align::kRight}, {Align::kLeft, Elide::kMiddle, true}});
  for (size_t i = 0; i < model.files().size(); ++i) {
    table.AddRow({std::to_string(i + 1), Printable(DisplayFileName(model, i), 4096)});
  }
  out += table.Render(options.width);
}

void AppendMetadata(const ModelSource& model, const InspectOptions& options, std::string& out) {
  const auto& metadata = model.metadata();
  if (metadata.empty()) return;
  out += "\nmetadata (" + std::to_string(metadata.size()) +
         (metadata.size() == 1 ? " key)\n" : " keys)\n");
  TextTable table(
      {{Align::kLeft, Elide::kMiddle}, {Align::kLeft}, {Align::kLeft, Elide::kEnd, true}});
  for (const GgufKeyValue& kv : metadata) {
    table.AddRow({ElideText(Printable(kv.key, 4096), 48, Elide::kMiddle),
                  MetadataTypeName(kv.value),
                  MetadataDisplayText(kv.value, options.max_array_items)});
  }
  out += table.Render(options.width);
}

void AppendConfig(const ModelSource& model, const InspectOptions& options, std::string& out) {
  const HfModelDirectory* directory = model.hf_directory();
  if (directory == nullptr) return;
  const ModelConfig& config = directory->config;
  const auto root = nlohmann::json::parse(config.text(), nullptr, /*allow_exceptions=*/false);
  out += "\nconfig (" + Printable(std::filesystem::path(config.path()).filename().string(), 256) +
         ", " + std::to_string(config.keys().size()) + " keys)\n";
  TextTable table({{Align::kLeft, Elide::kMiddle}, {Align::kLeft, Elide::kEnd, true}});
  for (const std::string& key : config.keys()) {
    const auto it = root.find(key);
    if (it == root.end()) continue;
    table.AddRow(
        {ElideText(Printable(key, 4096), 48, Elide::kMiddle),
         Printable(it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 4096)});
  }
  out += table.Render(options.width);
}

void AppendTensors(const ModelSource& model, const InspectOptions& options, std::string& out) {
  out += "\ntensors (" + std::to_string(model.tensors().size()) + ")\n";
  if (model.tensors().empty()) return;
  const bool show_file = model.files().size() > 1;
  std::vector<TextTable::Column> columns = {
      {Align::kLeft, Elide::kMiddle, true}, {Align::kLeft}, {Align::kRight}, {Align::kRight}};
  if (show_file) columns.push_back({Align::kRight});
  TextTable table(columns);
  std::vector<std::string> header = {"name", "type", "shape", "bytes"};
  if (show_file) header.push_back("file");
  table.AddRow(header);
  for (const ModelTensor& tensor : model.tensors()) {
    std::vector<std::string> row = {Printable(tensor.name, 4096), std::string(tensor.dtype.name()),
                                    ShapeText(ToOutermostFirst(tensor.shape)),
                                    WithThousands(tensor.n_bytes)};
    if (show_file) row.push_back(std::to_string(tensor.file + 1));
    table.AddRow(std::move(row));
  }
  out += table.Render(options.width);
}

void AppendTypes(const ModelSummary& summary, const InspectOptions& options, std::string& out) {
  out += "\ntypes\n";
  TextTable table({{Align::kLeft},
                   {Align::kRight},
                   {Align::kRight},
                   {Align::kRight},
                   {Align::kRight},
                   {Align::kRight}});
  table.AddRow({"type", "tensors", "bytes", "share", "parameters", "bits/weight"});
  auto add = [&](const std::string& name, uint64_t n_tensors, uint64_t n_bytes,
                 uint64_t n_elements) {
    table.AddRow({name, WithThousands(n_tensors), WithThousands(n_bytes),
                  Percent(n_bytes, summary.n_bytes), WithThousands(n_elements),
                  Bpw(n_bytes, n_elements)});
  };
  for (const TypeUsage& usage : summary.by_type) {
    add(usage.type, usage.n_tensors, usage.n_bytes, usage.n_elements);
  }
  add("total", summary.n_tensors, summary.n_bytes, summary.n_elements);
  out += table.Render(options.width);
}

}  // namespace

std::string FormatInspectText(const ModelSource& model, const InspectOptions& options) {
  const ModelSummary summary = SummarizeModel(model);
  std::string out;
  AppendOverview(model, summary, options, out);
  AppendFiles(model, options, out);
  AppendMetadata(model, options, out);
  AppendConfig(model, options, out);
  AppendTensors(model, options, out);
  AppendTypes(summary, options, out);
  return out;
}

}  // namespace qtk
