// libFuzzer target: every row kernel on hostile floats (NaN, infinity, denormals, huge values,
// zeros), with and without importance weights, and back through the decoder.
// The body is in tests/fuzz_bodies.h, shared with the regression test of the committed corpus.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qtk::fuzz::AllocationGuard guard(size);
  (void)qtk::testing::FuzzQuantizeRows({data, size});
  return 0;
}
