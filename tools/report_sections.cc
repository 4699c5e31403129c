// The report as titled tables for people (text and markdown say the same things).
#include <algorithm>

#include "format.h"
#include "qtk/base/units.h"
#include "report_format.h"
#include "report_render.h"

namespace qtk::cli {
namespace {

std::string GB(double n_bytes) { return FormatSignificant(ToGB(n_bytes)); }
std::string GiB(double n_bytes) { return FormatSignificant(ToGiB(n_bytes)); }

std::string Ratio(double ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3f", ratio);
  return buffer;
}

std::string SignedPercent(double fraction) {
  return (fraction >= 0 ? "+" : "") + FormatPercent(fraction);
}

std::string Bpw(double bits) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", bits);
  return buffer;
}

// "token embedding" for the key "token_embedding".
std::string ClassLabel(const std::string& key) {
  for (int c = 0; c < kTensorClassCount; ++c) {
    const auto tensor_class = static_cast<TensorClass>(c);
    if (TensorClassKey(tensor_class) == key) return std::string(TensorClassName(tensor_class));
  }
  return key;
}

Section InputSection(const Report& report) {
  const SizeReport& sizes = report.sizes;
  Section section{"Input: " + report.input_path, {}, {}, {}};
  section.notes.push_back(report.input_description + "; " + FormatCount(sizes.n_weights) +
                          " weights");
  section.notes.push_back("file " + FormatCount(sizes.input_file_bytes) + " bytes (" +
                          GB(static_cast<double>(sizes.input_file_bytes)) + " GB), " +
                          Bpw(8.0 * static_cast<double>(sizes.input_tensor_bytes) /
                              static_cast<double>(std::max<uint64_t>(1, sizes.n_weights))) +
                          " bits per weight");
  return section;
}

Section SizeSection(const Report& report) {
  const SizeReport& sizes = report.sizes;
  Section section{"Size of each output (exactly what qtk quantize writes)", {}, {}, {}};
  section.notes.push_back(
      "GB = 10^9 bytes, GiB = 2^30; bpw = bits per weight of the tensor data; "
      "ideal = weights x the bits in the type's name / 8");
  TextTable table{
      {"type", "file bytes", "GB", "GiB", "bpw", "ideal GB", "vs ideal", "x F16", "x input"},
      {},
      {false, true, true, true, true, true, true, true, true}};
  for (size_t i = 0; i < sizes.targets.size(); ++i) {
    const TargetSize& t = sizes.targets[i];
    const double file = static_cast<double>(t.file_bytes);
    const double ideal = t.ideal_bytes();
    table.rows.push_back({t.target.name, FormatCount(t.file_bytes), GB(file), GiB(file),
                          Bpw(t.bits_per_weight()), GB(ideal),
                          ideal > 0 ? SignedPercent(file / ideal - 1) : "-",
                          Ratio(sizes.ratio_to_f16(i)), Ratio(sizes.ratio_to_input(i))});
  }
  section.tables.push_back(std::move(table));
  return section;
}

Section HypotheticalSection(const Report& report) {
  Section section{
      "Hypothetical model of " + FormatParams(*report.hypothetical_params) + " parameters",
      {},
      {},
      {}};
  section.notes.push_back(
      "size = parameters x the bits per weight measured on this model / 8 "
      "(metadata not included);");
  section.notes.push_back(
      "a real model of that size may mix types differently. Memory and "
      "size gates below use these sizes.");
  TextTable table{{"type", "bpw", "GB", "GiB", "ideal GB"}, {}, {false, true, true, true, true}};
  for (const HypotheticalSize& h : report.hypothetical) {
    table.rows.push_back(
        {h.target, Bpw(h.bits_per_weight), GB(h.n_bytes), GiB(h.n_bytes), GB(h.ideal_bytes)});
  }
  section.tables.push_back(std::move(table));
  return section;
}

Section BreakdownSection(const TargetSize& size) {
  Section section{
      "Where the bytes go: " + size.target.name + " (" + FormatCount(size.file_bytes) + " bytes)",
      {},
      {},
      {}};
  const double file = static_cast<double>(size.file_bytes);
  TextTable classes{{"class", "tensors", "weights", "bytes", "share", "bpw", "types"},
                    {},
                    {false, true, true, true, true, true, false}};
  for (const ByteGroup& group : size.classes) {
    std::string types;
    for (const std::string& type : group.types) types += (types.empty() ? "" : ", ") + type;
    classes.rows.push_back({ClassLabel(group.name), std::to_string(group.n_tensors),
                            FormatCount(group.n_weights), FormatBytes(group.n_bytes),
                            FormatPercent(static_cast<double>(group.n_bytes) / file),
                            FormatBitsPerWeight(group.n_bytes, group.n_weights), types});
  }
  classes.rows.push_back({"metadata, padding", "", "", FormatBytes(size.metadata_bytes()),
                          FormatPercent(static_cast<double>(size.metadata_bytes()) / file), "",
                          ""});
  TextTable types{{"type", "tensors", "weights", "bytes", "share", "bpw"},
                  {},
                  {false, true, true, true, true, true}};
  for (const ByteGroup& group : size.types) {
    types.rows.push_back({group.name, std::to_string(group.n_tensors), FormatCount(group.n_weights),
                          FormatBytes(group.n_bytes),
                          FormatPercent(static_cast<double>(group.n_bytes) / file),
                          FormatBitsPerWeight(group.n_bytes, group.n_weights)});
  }
  section.tables.push_back(std::move(classes));
  section.tables.push_back(std::move(types));
  return section;
}

Section QualitySection(const Report& report) {
  Section section{"Weight error of each output", {}, {}, {}};
  section.notes.push_back(
      "every quantized tensor quantized and decoded in memory, compared with the input;");
  section.notes.push_back(report.sample_rows > 0
                              ? "sampled: " + std::to_string(report.sample_rows) +
                                    " evenly spaced rows of each tensor (--sample), not every row"
                              : "every row of every tensor (no sampling)");
  TextTable table{{"type", "tensors", "RMSE", "SNR dB", "cosine", "worst tensor", "its SNR"},
                  {},
                  {false, true, true, true, true, false, true}};
  for (const TargetQuality& q : report.quality) {
    if (!q.unavailable.empty()) {
      section.footer.push_back(q.target + ": not measured: " + q.unavailable);
      continue;
    }
    const TensorError* worst = q.worst();
    if (worst == nullptr) {
      table.rows.push_back({q.target, "0", "-", "exact", "-", "(nothing quantized)", "-"});
      continue;
    }
    table.rows.push_back({q.target, std::to_string(q.tensors.size()),
                          FormatScientific(q.total.Rmse()), FormatDb(q.total.SnrDb()),
                          FormatCosine(q.total.Cosine()), worst->name,
                          FormatDb(worst->stats.SnrDb())});
  }
  section.tables.push_back(std::move(table));
  return section;
}

// One note per target with fallbacks: how many, and the first one (JSON lists them all).
Section NotesSection(const Report& report) {
  Section section{"Notes", {}, {}, {}};
  for (const TargetSize& size : report.sizes.targets) {
    if (size.warnings.empty()) continue;
    const size_t n = size.warnings.size();
    std::string note = size.target.name + ": " + size.warnings.front();
    if (n > 1) {
      note += "; and " + std::to_string(n - 1) + " more tensor" + (n > 2 ? "s" : "") +
              " fall back (qtk quantize --dry-run lists them)";
    }
    section.notes.push_back(std::move(note));
  }
  return section;
}

}  // namespace

std::vector<Section> ReportSections(const Report& report) {
  std::vector<Section> sections = {InputSection(report), SizeSection(report)};
  if (report.hypothetical_params) sections.push_back(HypotheticalSection(report));
  for (const TargetSize& size : report.sizes.targets) sections.push_back(BreakdownSection(size));
  for (Section& section : MemorySections(report)) sections.push_back(std::move(section));
  if (report.quality_measured) sections.push_back(QualitySection(report));
  Section notes = NotesSection(report);
  if (!notes.notes.empty()) sections.push_back(std::move(notes));
  return sections;
}

}  // namespace qtk::cli
