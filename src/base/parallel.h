// Splitting work into contiguous chunks across threads (internal).
//
// Item i always lands in the same chunk for a given (n_items, n_threads), and every worker
// writes only its own slice, so results are the same bytes for any thread count.
#ifndef QTK_BASE_PARALLEL_H_
#define QTK_BASE_PARALLEL_H_

#include <cstdint>
#include <functional>

namespace qtk {

// Calls fn(begin, end) on contiguous ranges covering [0, n_items), using up to n_threads
// threads (the caller's thread included). n_threads <= 0 means all hardware threads.
void ParallelFor(int n_threads, int64_t n_items, const std::function<void(int64_t, int64_t)>& fn);

// The number of threads to use for `requested` (<= 0: all hardware threads).
int ResolveThreadCount(int requested);

}  // namespace qtk

#endif  // QTK_BASE_PARALLEL_H_
