#include "base/value_scan.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <mutex>

#include "base/parallel.h"

#if QTK_HAVE_X86_SIMD
#include <immintrin.h>
#endif

namespace qtk {
namespace {

constexpr uint32_t kMagnitudeMask = 0x7FFFFFFFu;
constexpr uint32_t kInfinityBits = 0x7F800000u;

// The scan's result from the largest magnitude bits; finds the first bad value only when
// there is one (rare), so the common case is a single pass.
ValueScan Finish(std::span<const float> values, uint32_t largest_bits) {
  ValueScan scan;
  if (largest_bits < kInfinityBits) {
    scan.largest_magnitude = std::bit_cast<float>(largest_bits);
    return scan;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      scan.first_non_finite = static_cast<int64_t>(i);
      break;
    }
  }
  scan.largest_magnitude = std::bit_cast<float>(largest_bits);
  return scan;
}

uint32_t LargestBitsScalar(const float* x, size_t n) {
  uint32_t largest = 0;
  for (size_t i = 0; i < n; ++i) {
    largest = std::max(largest, std::bit_cast<uint32_t>(x[i]) & kMagnitudeMask);
  }
  return largest;
}

}  // namespace

ValueScan ScanValuesScalar(std::span<const float> values) {
  return Finish(values, LargestBitsScalar(values.data(), values.size()));
}

#if QTK_HAVE_X86_SIMD

__attribute__((target("avx2"))) ValueScan ScanValuesAvx2(std::span<const float> values) {
  const __m256i mask = _mm256_set1_epi32(static_cast<int>(kMagnitudeMask));
  // Two accumulators hide the latency of the max; magnitudes fit int32, so signed max works.
  __m256i a = _mm256_setzero_si256();
  __m256i b = _mm256_setzero_si256();
  const float* x = values.data();
  const size_t n = values.size();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8));
    a = _mm256_max_epi32(a, _mm256_and_si256(u, mask));
    b = _mm256_max_epi32(b, _mm256_and_si256(v, mask));
  }
  a = _mm256_max_epi32(a, b);
  __m128i m = _mm_max_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1));
  const auto vector_largest = static_cast<uint32_t>(_mm_cvtsi128_si32(m));
  return Finish(values, std::max(vector_largest, LargestBitsScalar(x + i, n - i)));
}

#endif  // QTK_HAVE_X86_SIMD

ValueScan ScanValues(std::span<const float> values) {
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2()) return ScanValuesAvx2(values);
#endif
  return ScanValuesScalar(values);
}

ValueScan ScanValues(std::span<const float> values, int n_threads) {
  // Below this a second thread costs more than it saves.
  constexpr size_t kMinValuesPerThread = size_t{1} << 16;
  const auto n_chunks = static_cast<int64_t>(values.size() / kMinValuesPerThread);
  if (ResolveThreadCount(n_threads) <= 1 || n_chunks < 2) return ScanValues(values);
  // Max is order-free, so splitting the values changes nothing in the result.
  std::mutex mutex;
  uint32_t largest_bits = 0;
  ParallelFor(n_threads, n_chunks, [&](int64_t begin, int64_t end) {
    const size_t first = static_cast<size_t>(begin) * kMinValuesPerThread;
    const size_t last =
        end == n_chunks ? values.size() : static_cast<size_t>(end) * kMinValuesPerThread;
    const ValueScan part = ScanValues(values.subspan(first, last - first));
    const auto bits = std::bit_cast<uint32_t>(part.largest_magnitude);  // NaN bits too
    const std::lock_guard<std::mutex> lock(mutex);
    largest_bits = std::max(largest_bits, bits);
  });
  return Finish(values, largest_bits);
}

}  // namespace qtk
