// Shared by the libFuzzer targets: a stricter allocation check than -malloc_limit_mb.
//
// A reader must never allocate from a count it was told rather than bytes it has seen: a
// 1 kB file that declares 10^8 array elements must be refused before anything is reserved.
// Parsed structures are bigger than their encoding (a 32-byte std::string holds an 8-byte
// empty GGUF string, an 88-byte key/value pair a 13-byte one), so the limit for one
// allocation is kAllocationFactor times the input size, plus a floor for fixed-size buffers.
// Anything larger aborts with a stack trace, which libFuzzer reports as a crash.
#ifndef QTK_FUZZ_FUZZ_SUPPORT_H_
#define QTK_FUZZ_FUZZ_SUPPORT_H_

#include <sanitizer/allocator_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace qtk::fuzz {

inline constexpr size_t kAllocationFactor = 16;
inline constexpr size_t kAllocationFloorBytes = size_t{256} << 10;

// The largest single allocation allowed while one input runs; 0: no limit (libFuzzer's own
// allocations between inputs).
inline size_t& AllocationLimit() {
  static size_t limit = 0;
  return limit;
}

inline void CheckAllocation(const volatile void* /*pointer*/, size_t n_bytes) {
  const size_t limit = AllocationLimit();
  if (limit == 0 || n_bytes <= limit) return;
  AllocationLimit() = 0;
  static const char kMessage[] =
      "==qtk-fuzz== allocation larger than the input allows (see fuzz/fuzz_support.h)\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  __sanitizer_print_stack_trace();
  std::abort();
}

inline void IgnoreFree(const volatile void* /*pointer*/) {}

// Sets the limit for one input for as long as it lives.
class AllocationGuard {
 public:
  explicit AllocationGuard(size_t input_bytes) {
    static const bool installed =
        __sanitizer_install_malloc_and_free_hooks(CheckAllocation, IgnoreFree) != 0;
    (void)installed;
    AllocationLimit() = kAllocationFloorBytes + kAllocationFactor * input_bytes;
  }
  ~AllocationGuard() { AllocationLimit() = 0; }
  AllocationGuard(const AllocationGuard&) = delete;
  AllocationGuard& operator=(const AllocationGuard&) = delete;
};

}  // namespace qtk::fuzz

#endif  // QTK_FUZZ_FUZZ_SUPPORT_H_
