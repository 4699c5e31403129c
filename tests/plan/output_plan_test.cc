// PlanModel lays out outputs exactly as llama-quantize writes them: same header bytes and
// the same file size for every reference file, before any tensor is quantized.
#include <catch2/catch.hpp>

#include "qtk/format/gguf_writer.h"
#include "qtk/pipeline/quantize_model.h"
#include "test_support.h"

namespace qtk {
namespace {

void CheckHeaders(const std::filesystem::path& dir, const std::string& model, bool pure) {
  auto input = OpenGgufInput((dir / (model + "-convert-f32.gguf")).string());
  REQUIRE(input.ok());
  const std::string prefix = model + (pure ? "-pure-" : "-mix-");
  int n_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0 || entry.path().extension() != ".gguf") continue;
    ++n_files;
    const std::string type_name = file.substr(prefix.size(), file.size() - prefix.size() - 5);
    QuantizeModelOptions options;
    options.plan.pure = pure;
    auto plans = PlanModel(
        **input, {{"unused.gguf", FileTypeFromName(type_name).value(), std::nullopt}}, options);
    INFO(file);
    REQUIRE(plans.ok());
    const OutputPlan& plan = plans->front();
    const std::vector<uint8_t> reference = testing::ReadFileBytes(entry.path());
    CHECK(plan.layout.file_bytes() == reference.size());
    const std::vector<uint8_t> header = SerializeGgufHeader(plan.metadata, plan.layout);
    REQUIRE(header.size() <= reference.size());
    CHECK(std::equal(header.begin(), header.end(), reference.begin()));
  }
  CHECK(n_files >= 5);
}

TEST_CASE("planned headers equal llama-quantize's, byte for byte", "[model][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckHeaders(testdata / "reference/llama.cpp/synth-a", "synth-a", false);
  CheckHeaders(testdata / "reference/llama.cpp/synth-a", "synth-a", true);
  CheckHeaders(testdata / "reference/llama.cpp/stories260K", "stories260K", false);
}

TEST_CASE("planning refuses requantizing unless allowed", "[model][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto input =
      OpenGgufInput((testdata / "reference/llama.cpp/synth-a/synth-a-pure-Q8_0.gguf").string());
  REQUIRE(input.ok());
  QuantizeModelOptions options;
  auto plans = PlanModel(**input, {{"out.gguf", FileType::kMostlyQ4_0, std::nullopt}}, options);
  REQUIRE_FALSE(plans.ok());
  CHECK(plans.status().message().find("is already Q8_0; requantizing loses quality, pass "
                                      "--allow-requantize") != std::string::npos);
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

TEST_CASE("quantizing to F16 writes a valid file with the converter's F16 bytes",
          "[model][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/synth-a";
  auto input = OpenGgufInput((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(input.ok());
  testing::TempDir tmp;
  const std::string out = (tmp / "synth-a-F16.gguf").string();
  QuantizeModelOptions options;
  options.n_threads = 2;
  auto plans = PlanModel(**input, {{out, FileType::kMostlyF16, std::nullopt}}, options);
  REQUIRE(plans.ok());
  auto summary = QuantizeModel(**input, *plans, options);
  REQUIRE(summary.ok());
  CHECK(summary->outputs.at(0).file_bytes == std::filesystem::file_size(out));
  auto written = ReadGgufFile(out);
  REQUIRE(written.ok());
  auto reference = ReadGgufFile((dir / "synth-a-convert-f16.gguf").string());
  REQUIRE(reference.ok());
  CHECK(written->tensors().size() == reference->tensors().size());
  for (const GgufTensorInfo& info : reference->tensors()) {
    const GgufTensorInfo* mine = written->FindTensor(info.name);
    REQUIRE(mine != nullptr);
    CHECK(mine->type == info.type);
    auto a = written->TensorData(*mine);
    auto b = reference->TensorData(info);
    CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
  // No temporary file is left beside the output.
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("an existing output is refused unless overwriting, and left intact",
          "[model][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto input = OpenGgufInput(
      (testdata / "reference/llama.cpp/stories260K/stories260K-convert-f32.gguf").string());
  REQUIRE(input.ok());
  testing::TempDir tmp;
  const auto out = tmp / "out.gguf";
  testing::WriteFileBytes(out, {1, 2, 3});
  QuantizeModelOptions options;
  auto plans = PlanModel(**input, {{out.string(), FileType::kMostlyF16, std::nullopt}}, options);
  REQUIRE(plans.ok());
  auto summary = QuantizeModel(**input, *plans, options);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().message() == out.string() + ": already exists (use --force to overwrite)");
  CHECK(testing::ReadFileBytes(out) == std::vector<uint8_t>{1, 2, 3});
  options.overwrite = true;
  REQUIRE(QuantizeModel(**input, *plans, options).ok());
  CHECK(ReadGgufFile(out.string()).ok());
}

TEST_CASE("cancelling leaves no output behind", "[model][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto input = OpenGgufInput(
      (testdata / "reference/llama.cpp/stories260K/stories260K-convert-f32.gguf").string());
  REQUIRE(input.ok());
  testing::TempDir tmp;
  QuantizeModelOptions options;
  int calls = 0;
  options.should_stop = [&calls] { return ++calls > 10; };
  auto plans = PlanModel(**input,
                         {{(tmp / "a.gguf").string(), FileType::kMostlyF16, std::nullopt},
                          {(tmp / "b.gguf").string(), FileType::kMostlyBF16, std::nullopt}},
                         options);
  REQUIRE(plans.ok());
  auto summary = QuantizeModel(**input, *plans, options);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().code() == Status::Code::kCancelled);
  CHECK(std::filesystem::is_empty(tmp.path()));
}

}  // namespace
}  // namespace qtk

#include "qtk/scheme/scheme.h"

namespace qtk {
namespace {

TEST_CASE("generic-scheme outputs decode back and report their own scheme",
          "[model][generic][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference/llama.cpp/synth-a";
  auto input = OpenGgufInput((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(input.ok());
  testing::TempDir tmp;
  QuantizeModelOptions options;
  options.n_threads = 2;
  options.sync = false;
  std::vector<OutputSpec> specs;
  for (const std::string name : {"int4-g128-asym", "nf4-dq", "int8-g32"}) {
    specs.push_back({(tmp / (name + ".gguf")).string(), FileType::kAllF32, *ParseScheme(name)});
  }
  auto plans = PlanModel(**input, specs, options);
  REQUIRE(plans.ok());
  REQUIRE(QuantizeModel(**input, *plans, options).ok());
  auto source = ReadGgufFile((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  for (const OutputSpec& spec : specs) {
    INFO(spec.path);
    auto file = ReadGgufFile(spec.path);
    REQUIRE(file.ok());
    CHECK(*file->FindValue("qtk.quant.scheme")->AsString() == SchemeName(*spec.scheme));
    CHECK(std::filesystem::file_size(spec.path) ==
          plans->at(static_cast<size_t>(&spec - specs.data())).layout.file_bytes());
    const GgufTensorInfo* original = source->FindTensor("blk.0.ffn_down.weight");
    auto decoded = DequantizeFromGguf(*file, "blk.0.ffn_down.weight");
    REQUIRE(decoded.ok());
    auto data = source->TensorData(*original);
    std::span<const float> x(reinterpret_cast<const float*>(data.data()), decoded->size());
    auto stats = MeasureScheme(*spec.scheme, original->shape, x);
    REQUIRE(stats.ok());
    const ErrorStats direct = MeasureError(x, *decoded);
    CHECK(direct.Rmse() == stats->Rmse());
    CHECK(direct.SnrDb() > 15.0);
  }
  // int8-g32 is Q8_0: llama.cpp runs it, and the bytes are llama-quantize's.
  auto q8 = ReadGgufFile(specs[2].path);
  auto reference = ReadGgufFile((dir / "synth-a-pure-Q8_0.gguf").string());
  REQUIRE((q8.ok() && reference.ok()));
  CHECK(q8->FindValue("general.file_type")->AsUint() == 7u);
  for (const GgufTensorInfo& info : reference->tensors()) {
    const GgufTensorInfo* mine = q8->FindTensor(info.name);
    REQUIRE(mine != nullptr);
    CHECK(mine->type == info.type);
    auto a = q8->TensorData(*mine);
    auto b = reference->TensorData(info);
    CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
}

}  // namespace
}  // namespace qtk
