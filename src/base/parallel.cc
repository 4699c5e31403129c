#include "base/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace qtk {

int ResolveThreadCount(int requested) {
  if (requested > 0) return requested;
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1 : static_cast<int>(hardware);
}

void ParallelFor(int n_threads, int64_t n_items, const std::function<void(int64_t, int64_t)>& fn) {
  if (n_items <= 0) return;
  const int64_t n_workers = std::min<int64_t>(ResolveThreadCount(n_threads), n_items);
  if (n_workers <= 1) {
    fn(0, n_items);
    return;
  }
  const int64_t chunk = (n_items + n_workers - 1) / n_workers;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n_workers - 1));
  for (int64_t w = 1; w < n_workers; ++w) {
    const int64_t begin = w * chunk;
    const int64_t end = std::min(n_items, begin + chunk);
    if (begin >= end) break;
    threads.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  fn(0, std::min(n_items, chunk));
  for (std::thread& thread : threads) thread.join();
}

}  // namespace qtk
