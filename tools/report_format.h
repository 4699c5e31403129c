// What `qtk report` prints: the same Report as text, markdown, CSV, JSON or an SVG figure.
#ifndef QTK_TOOLS_REPORT_FORMAT_H_
#define QTK_TOOLS_REPORT_FORMAT_H_

#include <string>
#include <vector>

#include "qtk/report/report.h"
#include "report_render.h"

namespace qtk::cli {

// Input, sizes, hypothetical sizes, per-target breakdowns, memory, quality, notes.
std::vector<Section> ReportSections(const Report& report);
// The deployment memory table and the KV cache by context (none when the shape is unknown:
// then one section saying why).
std::vector<Section> MemorySections(const Report& report);

std::string FormatReportText(const Report& report);
std::string FormatReportMarkdown(const Report& report);

// The JSON document described by docs/report-schema.json ("schema": "qtk.report/1"),
// with the gate breaches (the same lines as on stderr).
std::string FormatReportJson(const Report& report, const std::vector<std::string>& breaches);

// CSV tables (one rectangular table each; plain numbers, bytes in bytes).
enum class CsvTable { kTargets, kBreakdown, kMemory, kTensors };
// "targets", "breakdown", "memory", "tensors".
bool ParseCsvTable(const std::string& name, CsvTable* table);
std::string FormatReportCsv(const Report& report, CsvTable table);

// Figure 1 (size by precision, bars labelled in GB) beside a size vs error scatter, as one
// self-contained SVG document.
std::string FormatReportSvg(const Report& report);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_REPORT_FORMAT_H_
