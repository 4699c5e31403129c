#include <catch2/catch.hpp>

#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

TEST_CASE("F16 and BF16 conversions reproduce convert_hf_to_gguf.py", "[quant][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (std::string model : {"synth-a", "stories260K"}) {
    const auto dir = testdata / "reference" / "llama.cpp" / model;
    for (std::string type : {"f16", "bf16"}) {
      INFO(model << " " << type);
      CHECK(testing::DiffAgainstReference(dir / (model + "-convert-f32.gguf"), dir,
                                          model + "-convert-" + type + ".gguf") == "");
    }
  }
}

}  // namespace
}  // namespace qtk
