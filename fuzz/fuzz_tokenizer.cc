// libFuzzer target: tokenizer.json parsing, and encoding with a fixed byte-level tokenizer.
// The body is in tests/fuzz_bodies_tokenize.h, shared with the regression test of the
// committed corpus.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies_tokenize.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qtk::fuzz::AllocationGuard guard(size);
  qtk::testing::FuzzTokenizer({data, size});
  return 0;
}
