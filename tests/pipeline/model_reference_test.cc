// Whole files: quantizing the F32 reference with qtk gives llama-quantize's file, byte for
// byte, for every reference whose tensor types qtk can produce.
#include <catch2/catch.hpp>

#include "qtk/pipeline/quantize_model.h"
#include "qtk/plan/importance_use.h"
#include "qtk/quant/quantize.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

bool AllTypesProducible(const std::filesystem::path& dir, const std::string& file) {
  for (const testing::ManifestTensor& tensor : testing::ReadManifest(dir, file)) {
    if (!CanQuantize(tensor.type)) return false;
  }
  return true;
}

int CheckWholeFiles(const std::filesystem::path& dir, const std::string& model, bool pure) {
  auto input = OpenGgufInput((dir / (model + "-convert-f32.gguf")).string());
  REQUIRE(input.ok());
  const std::string prefix = model + (pure ? "-pure-" : "-mix-");
  testing::TempDir tmp;
  int n_checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0 || entry.path().extension() != ".gguf") continue;
    if (!AllTypesProducible(dir, file)) {
      WARN("not yet producible, skipped: " << file);
      continue;
    }
    const std::string type_name = file.substr(prefix.size(), file.size() - prefix.size() - 5);
    QuantizeModelOptions options;
    options.plan.pure = pure;
    options.n_threads = 2;
    options.sync = false;
    const std::string out = (tmp / file).string();
    auto plans =
        PlanModel(**input, {{out, FileTypeFromName(type_name).value(), std::nullopt}}, options);
    REQUIRE(plans.ok());
    INFO(file);
    auto summary = QuantizeModel(**input, *plans, options);
    REQUIRE(summary.ok());
    CHECK(testing::ReadFileBytes(out) == testing::ReadFileBytes(entry.path()));
    ++n_checked;
  }
  return n_checked;
}

TEST_CASE("qtk quantize reproduces llama-quantize's files byte for byte",
          "[model][reference][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  int n = 0;
  n += CheckWholeFiles(testdata / "reference/llama.cpp/synth-a", "synth-a", true);
  n += CheckWholeFiles(testdata / "reference/llama.cpp/synth-a", "synth-a", false);
  n += CheckWholeFiles(testdata / "reference/llama.cpp/stories260K", "stories260K", false);
  CHECK(n >= 4);
}

}  // namespace
}  // namespace qtk

#include "qtk/format/imatrix.h"

namespace qtk {
namespace {

TEST_CASE("qtk quantize --imatrix reproduces llama-quantize --imatrix byte for byte",
          "[model][reference][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/synth-a";
  auto input = OpenGgufInput((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(input.ok());
  auto imatrix = ReadImportanceMatrixFile((dir / "imatrix/synth-a.imatrix.gguf").string());
  REQUIRE(imatrix.ok());
  testing::TempDir tmp;
  for (const std::string type : {"Q2_K", "Q4_K_M", "IQ4_XS"}) {
    INFO(type);
    // llama-quantize was run as `--imatrix synth-a.imatrix.gguf` from that folder.
    ImportanceUse use = UseImportance(*imatrix, "synth-a.imatrix.gguf", {}, {});
    QuantizeModelOptions options;
    options.plan.pure = true;
    options.n_threads = 2;
    options.sync = false;
    options.importance = use.lookup;
    options.metadata_overrides = use.metadata;
    const std::string out = (tmp / (type + ".gguf")).string();
    auto plans = PlanModel(**input, {{out, FileTypeFromName(type).value(), std::nullopt}}, options);
    REQUIRE(plans.ok());
    REQUIRE(QuantizeModel(**input, *plans, options).ok());
    CHECK(testing::ReadFileBytes(out) ==
          testing::ReadFileBytes(dir / "imatrix" / ("synth-a-imatrix-pure-" + type + ".gguf")));
  }
}

}  // namespace
}  // namespace qtk
