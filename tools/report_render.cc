#include "report_render.h"

#include <cmath>
#include <cstdio>

#include "format.h"

namespace qtk::cli {
namespace {

std::string Printf(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string MarkdownCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string MarkdownRow(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const std::string& cell : cells) line += " " + MarkdownCell(cell) + " |";
  return line + "\n";
}

// `text` as lines of at most `width` characters (broken at spaces where possible), each
// prefixed by `indent`, continuation lines by two more spaces.
std::string Wrapped(const std::string& text, const std::string& indent, size_t width) {
  std::string out;
  std::string rest = text;
  std::string prefix = indent;
  while (prefix.size() + rest.size() > width) {
    const size_t room = width - prefix.size();
    size_t cut = rest.rfind(' ', room);
    if (cut == std::string::npos || cut == 0) cut = room;
    out += prefix + rest.substr(0, cut) + "\n";
    rest = rest.substr(cut);
    while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    prefix = indent + "  ";
  }
  return out + prefix + rest + "\n";
}

constexpr size_t kTextWidth = 100;

}  // namespace

std::string RenderText(const std::vector<Section>& sections) {
  std::string out;
  for (size_t s = 0; s < sections.size(); ++s) {
    const Section& section = sections[s];
    if (s > 0) out += "\n";
    out += section.title + "\n";
    for (const std::string& note : section.notes) out += Wrapped(note, "  ", kTextWidth);
    for (const TextTable& table : section.tables) {
      std::vector<std::vector<std::string>> rows = {table.header};
      rows.insert(rows.end(), table.rows.begin(), table.rows.end());
      out += FormatTable(rows, table.right_aligned, "  ");
    }
    for (const std::string& line : section.footer) out += Wrapped(line, "  ", kTextWidth);
  }
  return out;
}

std::string RenderMarkdown(const std::string& heading, const std::vector<Section>& sections) {
  std::string out = "# " + heading + "\n";
  for (const Section& section : sections) {
    if (!out.ends_with("\n\n")) out += "\n";
    out += "## " + section.title + "\n\n";
    for (const std::string& note : section.notes) out += note + "  \n";
    if (!section.notes.empty()) out += "\n";
    for (const TextTable& table : section.tables) {
      out += MarkdownRow(table.header);
      std::string rule = "|";
      for (size_t c = 0; c < table.header.size(); ++c) {
        const bool right = c < table.right_aligned.size() && table.right_aligned[c];
        rule += right ? " ---: |" : " --- |";
      }
      out += rule + "\n";
      for (const auto& row : table.rows) out += MarkdownRow(row);
      out += "\n";
    }
    for (const std::string& line : section.footer) out += line + "  \n";
  }
  return out;
}

std::string FormatSignificant(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude >= 100) return Printf("%.0f", value);
  if (magnitude >= 10) return Printf("%.1f", value);
  if (magnitude >= 1) return Printf("%.2f", value);
  if (magnitude == 0) return "0";
  return Printf("%.3g", value);
}

std::string FormatPercent(double fraction) { return Printf("%.1f%%", fraction * 100.0); }

std::string FormatDb(double db) {
  if (std::isinf(db)) return db > 0 ? "exact" : "-inf";
  return Printf("%.2f", db);
}

std::string FormatScientific(double value) { return Printf("%.3e", value); }

std::string FormatCosine(double value) { return Printf("%.6f", value); }

std::string FormatParams(double params) {
  const std::string exact = FormatCount(static_cast<uint64_t>(std::llround(params)));
  static constexpr struct {
    double factor;
    const char* suffix;
  } kScales[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& scale : kScales) {
    if (params >= scale.factor) {
      return exact + " (" + FormatSignificant(params / scale.factor) + scale.suffix + ")";
    }
  }
  return exact;
}

std::string FormatParamsShort(double params) {
  static constexpr struct {
    double factor;
    const char* suffix;
  } kScales[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& scale : kScales) {
    if (params >= scale.factor) {
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%.3g%s", params / scale.factor, scale.suffix);
      return buffer;
    }
  }
  return Printf("%.0f", params);
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i > 0 ? "," : "") + CsvField(fields[i]);
  return line + "\n";
}

}  // namespace qtk::cli
