// Error metrics: merging, the derived figures, and a thread-count-invariant measurement.
#include "qtk/quant/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "base/parallel.h"

namespace qtk {
namespace {

// Elements per partial sum. Fixed (not derived from the thread count) so that the order in
// which doubles are added, and hence the result, never depends on how work is split.
constexpr int64_t kMeasureBlock = 4096;

}  // namespace

void ErrorStats::Merge(const ErrorStats& other) {
  n_elements += other.n_elements;
  sum_sq_error += other.sum_sq_error;
  sum_sq_signal += other.sum_sq_signal;
  sum_sq_recon += other.sum_sq_recon;
  sum_product += other.sum_product;
  max_abs_error = std::max(max_abs_error, other.max_abs_error);
}

double ErrorStats::Rmse() const {
  if (n_elements == 0) return 0;
  return std::sqrt(sum_sq_error / static_cast<double>(n_elements));
}

double ErrorStats::SnrDb() const {
  if (sum_sq_error == 0) return std::numeric_limits<double>::infinity();
  if (sum_sq_signal == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sum_sq_signal / sum_sq_error);
}

double ErrorStats::Cosine() const {
  if (sum_sq_signal == 0 && sum_sq_recon == 0) return 1;
  if (sum_sq_signal == 0 || sum_sq_recon == 0) return 0;
  return sum_product / (std::sqrt(sum_sq_signal) * std::sqrt(sum_sq_recon));
}

ErrorStats MeasureError(std::span<const float> x, std::span<const float> x_hat, int n_threads) {
  const auto n = static_cast<int64_t>(std::min(x.size(), x_hat.size()));
  const int64_t n_blocks = (n + kMeasureBlock - 1) / kMeasureBlock;
  std::vector<ErrorStats> partial(static_cast<size_t>(n_blocks));
  ParallelFor(n_threads, n_blocks, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      ErrorStats& stats = partial[static_cast<size_t>(block)];
      const int64_t last = std::min(n, (block + 1) * kMeasureBlock);
      for (int64_t i = block * kMeasureBlock; i < last; ++i) {
        stats.Add(x[static_cast<size_t>(i)], x_hat[static_cast<size_t>(i)]);
      }
    }
  });
  ErrorStats total;
  for (const ErrorStats& stats : partial) total.Merge(stats);
  return total;
}

}  // namespace qtk
