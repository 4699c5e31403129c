// Quantities users type on the command line: byte sizes ("4GB", "24GiB") and parameter
// counts ("7e9", "7B").
#ifndef QTK_BASE_UNITS_H_
#define QTK_BASE_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "qtk/base/status.h"

namespace qtk {

// A byte size: a number and a unit, case-insensitive: B, KB, MB, GB, TB (powers of 1000,
// as disk and file sizes are quoted) or KiB, MiB, GiB, TiB (powers of 1024); no unit means
// bytes. "4GB" is 4,000,000,000 bytes, "24GiB" is 25,769,803,776.
// Errors: InvalidArgument naming the text and the units it accepts.
Result<uint64_t> ParseByteSize(std::string_view text);

// A count: a number with an optional K, M, B (billion) or T suffix, or an exponent
// ("7e9", "7B", "1.5T", "350M"). Must be positive.
// Errors: InvalidArgument naming the text.
Result<double> ParseCount(std::string_view text);

// Bytes in decimal gigabytes and binary gibibytes.
inline double ToGB(double n_bytes) { return n_bytes / 1e9; }
inline double ToGiB(double n_bytes) { return n_bytes / 1073741824.0; }

}  // namespace qtk

#endif  // QTK_BASE_UNITS_H_
