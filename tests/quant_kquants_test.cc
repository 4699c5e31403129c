#include <catch2/catch.hpp>

#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

TEST_CASE("K-quants reproduce llama-quantize --pure", "[kquants][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference" / "llama.cpp" / "synth-a";
  for (std::string type : {"Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K"}) {
    INFO(type);
    CHECK(testing::DiffAgainstReference(dir / "synth-a-convert-f32.gguf", dir,
                                        "synth-a-pure-" + type + ".gguf") == "");
  }
}

}  // namespace
}  // namespace qtk
