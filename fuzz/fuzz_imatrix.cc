// libFuzzer target: the importance-matrix reader, GGUF and legacy forms (told apart by the
// magic, so one target sees both).
// The body is in tests/fuzz_bodies.h, shared with the regression test of the committed corpus.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qtk::fuzz::AllocationGuard guard(size);
  (void)qtk::testing::FuzzImportanceMatrix({data, size});
  return 0;
}
