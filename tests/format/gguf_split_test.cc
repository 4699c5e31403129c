// Split GGUF models (gguf-split's "-00001-of-00003.gguf" files): read as one model, and
// written back split with --keep-split as llama-quantize does.
#include "format/gguf_split.h"

#include <catch2/catch.hpp>

#include "qtk/format/gguf_writer.h"
#include "qtk/pipeline/quantize_model.h"
#include "test_support.h"

namespace qtk {
namespace {

// Writes `source` as `n` splits the way gguf-split does: the first carries the metadata,
// every split the split.* keys.
std::string WriteSplits(const GgufFile& source, const std::filesystem::path& prefix, size_t n) {
  const auto& tensors = source.tensors();
  const size_t per_split = (tensors.size() + n - 1) / n;
  for (size_t k = 0; k < n; ++k) {
    std::vector<GgufKeyValue> metadata;
    if (k == 0) metadata = source.metadata();
    metadata.push_back({"split.no", GgufValue::Uint16(static_cast<uint16_t>(k))});
    metadata.push_back({"split.count", GgufValue::Uint16(static_cast<uint16_t>(n))});
    metadata.push_back(
        {"split.tensors.count", GgufValue::Int32(static_cast<int32_t>(tensors.size()))});
    std::vector<GgufTensorInfo> infos(
        tensors.begin() + static_cast<std::ptrdiff_t>(std::min(tensors.size(), k * per_split)),
        tensors.begin() +
            static_cast<std::ptrdiff_t>(std::min(tensors.size(), (k + 1) * per_split)));
    MemorySink sink;
    auto writer = GgufWriter::Start(sink, metadata, infos);
    REQUIRE(writer.ok());
    for (const GgufTensorInfo& info : infos) {
      REQUIRE(writer->WriteTensor(source.TensorData(*source.FindTensor(info.name))).ok());
    }
    REQUIRE(writer->Finish().ok());
    testing::WriteFileBytes(SplitPath(prefix.string(), k, n), sink.bytes());
  }
  return SplitPath(prefix.string(), 0, n);
}

TEST_CASE("split file names", "[gguf][split]") {
  CHECK(SplitPath("out/model", 1, 3) == "out/model-00002-of-00003.gguf");
  auto name = ParseSplitPath("out/model-00002-of-00003.gguf");
  REQUIRE(name.has_value());
  CHECK(name->prefix == "out/model");
  CHECK(name->index == 1);
  CHECK(name->count == 3);
  CHECK_FALSE(ParseSplitPath("model.gguf").has_value());
  CHECK_FALSE(ParseSplitPath("model-00004-of-00003.gguf").has_value());
  CHECK_FALSE(ParseSplitPath("model-0001-of-00003.gguf").has_value());
}

TEST_CASE("a split model quantizes as the whole model; --keep-split keeps its splits",
          "[gguf][split][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/synth-a";
  auto source = ReadGgufFile((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  testing::TempDir tmp;
  // Start from the second split: the others are found beside it.
  WriteSplits(*source, tmp / "synth", 3);
  auto input = OpenGgufInput(SplitPath((tmp / "synth").string(), 1, 3));
  REQUIRE(input.ok());
  CHECK((*input)->n_splits() == 3);
  CHECK((*input)->tensors().size() == 20);
  CHECK((*input)->Describe() == "gguf v3, 3 splits, 20 tensors");

  QuantizeModelOptions options;
  options.n_threads = 2;
  options.sync = false;
  const std::string whole = (tmp / "whole.gguf").string();
  auto plans = PlanModel(**input, {{whole, FileType::kMostlyQ4_K_M}}, options);
  REQUIRE(plans.ok());
  REQUIRE(QuantizeModel(**input, *plans, options).ok());
  CHECK(testing::ReadFileBytes(whole) == testing::ReadFileBytes(dir / "synth-a-mix-Q4_K_M.gguf"));

  options.keep_split = true;
  plans = PlanModel(**input, {{(tmp / "kept.gguf").string(), FileType::kMostlyQ4_K_M}}, options);
  REQUIRE(plans.ok());
  REQUIRE(plans->size() == 3);
  CHECK(plans->at(2).spec.path == (tmp / "kept-00003-of-00003.gguf").string());
  REQUIRE(QuantizeModel(**input, *plans, options).ok());
  auto reference = ReadGgufFile((dir / "synth-a-mix-Q4_K_M.gguf").string());
  auto kept = OpenGgufInput((tmp / "kept-00001-of-00003.gguf").string());
  REQUIRE((reference.ok() && kept.ok()));
  REQUIRE((*kept)->n_splits() == 3);
  REQUIRE((*kept)->tensors().size() == 20);
  for (size_t i = 0; i < 20; ++i) {
    const InputTensor& tensor = (*kept)->tensors()[i];
    INFO(tensor.name);
    CHECK(tensor.name == source->tensors()[i].name);  // the input's order, split by split
    CHECK((*kept)->SplitOf(i) == (*input)->SplitOf(i));
    const GgufTensorInfo* expected = reference->FindTensor(tensor.name);
    REQUIRE(expected != nullptr);
    CHECK(tensor.type == expected->type);
    auto a = (*kept)->StoredBytes(i);
    auto b = reference->TensorData(*expected);
    CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
  auto first = ReadGgufFile((tmp / "kept-00001-of-00003.gguf").string());
  auto second = ReadGgufFile((tmp / "kept-00002-of-00003.gguf").string());
  REQUIRE((first.ok() && second.ok()));
  CHECK(first->FindValue("general.file_type")->AsUint() == 15u);
  CHECK(second->metadata().size() == 3);
  CHECK(second->FindValue("split.no")->AsUint() == 1u);
  CHECK(second->FindValue("split.tensors.count")->AsInt() == 20);
}

TEST_CASE("splits that do not belong together are refused", "[gguf][split][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto source =
      ReadGgufFile((testdata / "reference/llama.cpp/synth-a/synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  testing::TempDir tmp;
  const std::string first = WriteSplits(*source, tmp / "m", 3);
  std::filesystem::remove(SplitPath((tmp / "m").string(), 2, 3));
  auto input = OpenGgufInput(first);
  REQUIRE_FALSE(input.ok());
  CHECK(input.status().message() == SplitPath((tmp / "m").string(), 2, 3) + ": no such file");
  // A split renamed out of its place.
  WriteSplits(*source, tmp / "n", 3);
  std::filesystem::rename(SplitPath((tmp / "n").string(), 1, 3), tmp / "other.gguf");
  std::filesystem::copy_file(SplitPath((tmp / "n").string(), 2, 3),
                             SplitPath((tmp / "n").string(), 1, 3));
  input = OpenGgufInput(SplitPath((tmp / "n").string(), 0, 3));
  REQUIRE_FALSE(input.ok());
  CHECK(input.status().message() ==
        SplitPath((tmp / "n").string(), 1, 3) + ": split.no is 2, its name says 1");
}

}  // namespace
}  // namespace qtk
