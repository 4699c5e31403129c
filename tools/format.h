// Number formatting for reports on a terminal.
#ifndef QTK_TOOLS_FORMAT_H_
#define QTK_TOOLS_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qtk::cli {

// "6.52 MiB" (binary units, 2 decimals; bytes below 1 KiB as "512 B").
std::string FormatBytes(uint64_t n_bytes);
// "1,703,936".
std::string FormatCount(uint64_t n);
// "4.96" bits per weight.
std::string FormatBitsPerWeight(uint64_t n_bytes, uint64_t n_elements);
// `text` with control characters (and backslashes) as \xNN: names and keys come from
// untrusted files and must not move the cursor or recolour the terminal.
std::string Escaped(std::string_view text);

// "[256, 512]".
std::string FormatShape(const std::vector<int64_t>& shape);

// Left-aligned text columns: every row's cells padded to the widest cell in the column.
// `right_aligned[i]` right-aligns column i (numbers).
std::string FormatTable(const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_aligned, const std::string& indent = "");

}  // namespace qtk::cli

#endif  // QTK_TOOLS_FORMAT_H_
