// Input checks shared by the generic quantizers (internal).
#ifndef QTK_QUANT_QUANT_CHECKS_H_
#define QTK_QUANT_QUANT_CHECKS_H_

#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "base/value_scan.h"
#include "qtk/base/status.h"
#include "qtk/quant/quantize.h"

namespace qtk {

// InvalidArgument naming the first NaN or infinity as "element 1234 (row 3, column 210) is
// nan", the same words QuantizeRows uses. row_length > 0.
inline Status CheckFinite(std::span<const float> values, int64_t row_length, int n_threads = 1) {
  const std::optional<int64_t> bad = ScanValues(values, n_threads).first_non_finite;
  if (!bad) return Status::Ok();
  const float value = values[static_cast<size_t>(*bad)];
  return Status::InvalidArgument("element " + std::to_string(*bad) + " (row " +
                                 std::to_string(*bad / row_length) + ", column " +
                                 std::to_string(*bad % row_length) + ") is " +
                                 (std::isnan(value) ? "nan"
                                  : value > 0       ? "inf"
                                                    : "-inf"));
}

// InvalidArgument unless row_length > 0 and n_values is a whole number of rows.
inline Status CheckWholeRows(size_t n_values, int64_t row_length) {
  if (row_length <= 0) {
    return Status::InvalidArgument("row length is " + std::to_string(row_length) + ", must be > 0");
  }
  if (n_values % static_cast<size_t>(row_length) != 0) {
    return Status::InvalidArgument(std::to_string(n_values) + " values are not whole rows of " +
                                   std::to_string(row_length));
  }
  return Status::Ok();
}

}  // namespace qtk

#endif  // QTK_QUANT_QUANT_CHECKS_H_
