#include "qtk/imatrix.h"

#include <catch2/catch.hpp>

#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

TEST_CASE("importance-matrix quantization reproduces llama-quantize --imatrix",
          "[imatrix][kquants][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto synth = testdata / "reference" / "llama.cpp" / "synth-a";
  const auto dir = synth / "imatrix";
  Result<ImportanceMatrix> imatrix = ReadImportanceMatrixFile((dir / "synth-a.imatrix.gguf").string());
  REQUIRE(imatrix.ok());
  auto lookup = [&](const std::string& name) {
    const ImportanceEntry* entry = imatrix->Find(name);
    return entry != nullptr ? entry->weights : std::vector<float>();
  };
  for (std::string type : {"Q2_K", "Q4_K_M"}) {
    INFO(type);
    CHECK(testing::DiffAgainstReference(synth / "synth-a-convert-f32.gguf", dir,
                                        "synth-a-imatrix-pure-" + type + ".gguf", lookup) == "");
  }
}

}  // namespace
}  // namespace qtk
