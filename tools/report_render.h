// Sections of titled tables, rendered as aligned text or as markdown: the shape shared by
// `qtk report` and `qtk compare`, so both formats say exactly the same things.
#ifndef QTK_TOOLS_REPORT_RENDER_H_
#define QTK_TOOLS_REPORT_RENDER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace qtk::cli {

struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right_aligned;  // per column
};

struct Section {
  std::string title;
  std::vector<std::string> notes;  // lines before the tables
  std::vector<TextTable> tables;
  std::vector<std::string> footer;  // lines after the tables
};

// Titles, then notes and tables indented by two spaces; a blank line between sections.
std::string RenderText(const std::vector<Section>& sections);
// "## title", notes as lines ending in two spaces, GitHub pipe tables.
std::string RenderMarkdown(const std::string& heading, const std::vector<Section>& sections);

// Numbers for people.
// "0.00107", "3.43", "13.5", "140": about three significant digits.
std::string FormatSignificant(double value);
// "12.5%"
std::string FormatPercent(double fraction);
// "72.31", "exact" for +infinity, "-inf" for -infinity.
std::string FormatDb(double db);
// "1.23e-05"
std::string FormatScientific(double value);
// "0.999876"
std::string FormatCosine(double value);
// "7,000,000,000 (7B)" style for parameter counts.
std::string FormatParams(double params);
// "7B", "350M", "1.5T": the same, short.
std::string FormatParamsShort(double params);

// One CSV field, quoted when it needs to be.
std::string CsvField(const std::string& text);
// A CSV line from fields (each passed through CsvField), ending in "\n".
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_REPORT_RENDER_H_
