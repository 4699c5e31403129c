// Aligned plain-text tables that fit a given width (internal; used by `qtk inspect`).
//
// Widths count UTF-8 code points. One column may be flexible: when the table is too wide,
// its cells are elided (in the middle, or at the end) until the rows fit.
#ifndef QTK_BASE_TEXT_TABLE_H_
#define QTK_BASE_TEXT_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

namespace qtk {

// Code points in `text` (bytes that are not UTF-8 continuation bytes).
size_t DisplayWidth(std::string_view text);

// `text` cut to `width` code points: "abc...xyz" (middle) or "abcdef..." (end).
enum class Elide { kMiddle, kEnd };
std::string ElideText(std::string_view text, size_t width, Elide where);

// 1234567 -> "1,234,567".
std::string WithThousands(uint64_t n);

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    Align align = Align::kLeft;
    Elide elide = Elide::kMiddle;
    bool flexible = false;  // at most one column
  };

  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // REQUIRES: cells.size() == number of columns.
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // Every row, `indent` spaces in, columns two spaces apart, at most `width` columns wide
  // when the flexible column can absorb the excess (it keeps at least 12). No trailing spaces.
  std::string Render(size_t width, size_t indent = 2) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace qtk

#endif  // QTK_BASE_TEXT_TABLE_H_
