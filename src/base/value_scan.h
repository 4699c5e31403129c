// One pass over F32 values for what the quantize pipeline checks before quantizing
// (internal): the first NaN or infinity, and the largest magnitude.
//
// Both come from one integer reduction: with the sign bit cleared, the bits of a float order
// like its magnitude (NaN above infinity above every finite value), so the largest such
// integer is the largest magnitude, and it reaches 0x7F800000 exactly when a value is not
// finite. Integer max is exact and order-free, so the AVX2 path gives the scalar one's
// result for every input.
#ifndef QTK_BASE_VALUE_SCAN_H_
#define QTK_BASE_VALUE_SCAN_H_

#include <cstdint>
#include <optional>
#include <span>

#include "base/cpu_features.h"

namespace qtk {

struct ValueScan {
  // Index of the first NaN or infinity, if any.
  std::optional<int64_t> first_non_finite;
  // max |v| over the values (0 for none); only meaningful when all are finite.
  float largest_magnitude = 0.0f;
};

ValueScan ScanValues(std::span<const float> values);
// The same, split over up to n_threads threads (<= 0: all) when the values are many.
ValueScan ScanValues(std::span<const float> values, int n_threads);

// The paths behind ScanValues (tests and benchmarks compare them).
ValueScan ScanValuesScalar(std::span<const float> values);
#if QTK_HAVE_X86_SIMD
// REQUIRES: CpuHasAvx2().
ValueScan ScanValuesAvx2(std::span<const float> values);
#endif

}  // namespace qtk

#endif  // QTK_BASE_VALUE_SCAN_H_
