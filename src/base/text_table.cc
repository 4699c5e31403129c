#include "base/text_table.h"

#include <algorithm>
#include <cstdint>

namespace qtk {
namespace {

constexpr size_t kGap = 2;
constexpr size_t kMinFlexibleWidth = 12;

bool IsContinuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

// The byte offset just after the first `n` code points of `text`.
size_t PrefixBytes(std::string_view text, size_t n) {
  size_t i = 0;
  while (i < text.size() && n > 0) {
    ++i;
    while (i < text.size() && IsContinuation(text[i])) ++i;
    --n;
  }
  return i;
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuation(c); }));
}

std::string ElideText(std::string_view text, size_t width, Elide where) {
  const size_t length = DisplayWidth(text);
  if (length <= width) return std::string(text);
  if (width <= 3) return std::string(width, '.');
  const size_t keep = width - 3;
  if (where == Elide::kEnd) return std::string(text.substr(0, PrefixBytes(text, keep))) + "...";
  const size_t head = (keep + 1) / 2;
  const size_t tail = keep - head;
  const size_t tail_start = PrefixBytes(text, length - tail);
  return std::string(text.substr(0, PrefixBytes(text, head))) + "..." +
         std::string(text.substr(tail_start));
}

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string TextTable::Render(size_t width, size_t indent) const {
  std::vector<size_t> widths(columns_.size(), 0);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  size_t total = indent;
  for (size_t w : widths) total += w;
  total += kGap * (columns_.empty() ? 0 : columns_.size() - 1);
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (!columns_[c].flexible || total <= width) continue;
    const size_t excess = total - width;
    widths[c] =
        std::max(std::min(widths[c], kMinFlexibleWidth), widths[c] - std::min(widths[c], excess));
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line(indent, ' ');
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string cell = ElideText(row[c], widths[c], columns_[c].elide);
      const size_t padding = widths[c] - DisplayWidth(cell);
      if (c > 0) line.append(kGap, ' ');
      if (columns_[c].align == Align::kRight) line.append(padding, ' ');
      line += cell;
      if (columns_[c].align == Align::kLeft) line.append(padding, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace qtk
