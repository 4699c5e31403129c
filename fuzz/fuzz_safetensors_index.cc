// libFuzzer target: the shard index reader, and assembling a sharded checkpoint from shards that
// match it (or not).
// The body is in tests/fuzz_bodies_hf.h, shared with the regression test of the committed corpus.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies_hf.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qtk::fuzz::AllocationGuard guard(size);
  (void)qtk::testing::FuzzSafetensorsIndex({data, size});
  return 0;
}
