// Hugging Face checkpoints in, GGUF out: byte for byte what convert_hf_to_gguf.py (and, for
// other types, convert_hf_to_gguf.py --outtype f32 + llama-quantize) write.
#include <catch2/catch.hpp>
#include <cstring>

#include "qtk/base/float_convert.h"
#include "qtk/format/gguf.h"
#include "qtk/pipeline/quantize_model.h"
#include "test_support.h"

namespace qtk {
namespace {

std::string Quantize(const std::filesystem::path& model, const std::filesystem::path& out,
                     const std::string& type) {
  auto input = OpenModelInput(model.string());
  REQUIRE(input.ok());
  QuantizeModelOptions options;
  options.n_threads = 2;
  options.sync = false;
  auto plans =
      PlanModel(**input, {{out.string(), FileTypeFromName(type).value(), std::nullopt}}, options);
  REQUIRE(plans.ok());
  auto summary = QuantizeModel(**input, *plans, options);
  REQUIRE(summary.ok());
  return out.string();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_CASE("HF checkpoints convert exactly as convert_hf_to_gguf.py", "[hf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  for (const std::string model : {"synth-a", "stories260K"}) {
    for (const std::string type : {"F32", "F16", "BF16", "Q8_0"}) {
      INFO(model << " " << type);
      const auto out = Quantize(testdata / "models" / model, tmp / (model + type + ".gguf"), type);
      const auto reference =
          testdata / "reference/llama.cpp" / model / (model + "-convert-" + Lower(type) + ".gguf");
      CHECK(testing::ReadFileBytes(out) == testing::ReadFileBytes(reference));
    }
  }
}

TEST_CASE("HF checkpoints quantize exactly as convert + llama-quantize", "[hf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto dir = testdata / "reference/llama.cpp/synth-a";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("synth-a-mix-", 0) != 0 || entry.path().extension() != ".gguf") continue;
    const std::string type = file.substr(12, file.size() - 12 - 5);
    // From a checkpoint, Q8_0 is what the converter writes itself (compared above); the
    // mix-Q8_0 reference is llama-quantize's layout of the same tensors.
    if (type == "Q8_0") continue;
    INFO(file);
    const auto out = Quantize(testdata / "models/synth-a", tmp / file, type);
    CHECK(testing::ReadFileBytes(out) == testing::ReadFileBytes(entry.path()));
    ++n;
  }
  CHECK(n >= 8);
}

TEST_CASE("a sharded BF16 checkpoint gives the converter's BF16 tensors", "[hf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto out = Quantize(testdata / "models/stories260K-bf16-sharded", tmp / "s.gguf", "BF16");
  auto ours = ReadGgufFile(out);
  auto reference = ReadGgufFile(
      (testdata / "reference/llama.cpp/stories260K/stories260K-convert-bf16.gguf").string());
  REQUIRE((ours.ok() && reference.ok()));
  // The same tensors (the order follows the shards). The shards hold the F32 weights rounded
  // to BF16, which is what the converter writes for --outtype bf16: those are bit for bit the
  // same; the norms it keeps in F32 are the BF16-rounded values here.
  REQUIRE(ours->tensors().size() == reference->tensors().size());
  for (const GgufTensorInfo& info : reference->tensors()) {
    const GgufTensorInfo* mine = ours->FindTensor(info.name);
    REQUIRE(mine != nullptr);
    INFO(info.name);
    CHECK(mine->type == info.type);
    CHECK(mine->shape == info.shape);
    auto a = ours->TensorData(*mine);
    auto b = reference->TensorData(info);
    if (info.type == GgmlType::kBF16) {
      CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
      continue;
    }
    REQUIRE(info.type == GgmlType::kF32);
    const size_t n = b.size() / 4;
    std::vector<float> expected(n), actual(n);
    std::memcpy(expected.data(), b.data(), b.size());
    std::memcpy(actual.data(), a.data(), a.size());
    for (float& v : expected) v = BF16ToF32(F32ToBF16(v));
    CHECK(actual == expected);
  }
  // The same metadata, but for the name the converter derives from the directory's name.
  for (const GgufKeyValue& kv : reference->metadata()) {
    if (kv.key == "general.name") continue;
    const GgufValue* mine = ours->FindValue(kv.key);
    INFO(kv.key);
    REQUIRE(mine != nullptr);
    CHECK(*mine == kv.value);
  }
  CHECK(*ours->FindValue("general.name")->AsString() == "stories260K Bf16 Sharded");
}

TEST_CASE("qtk quantize takes a model directory on the command line", "[hf][cli][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const auto result = testing::RunQtk(
      {"quantize", (testdata / "models/synth-a").string(), (tmp / "a.gguf").string(), "Q4_K_M"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find("hugging face LlamaForCausalLM, 2 safetensors shards, BF16") !=
        std::string::npos);
  CHECK(testing::ReadFileBytes(tmp / "a.gguf") ==
        testing::ReadFileBytes(testdata / "reference/llama.cpp/synth-a/synth-a-mix-Q4_K_M.gguf"));
}

}  // namespace
}  // namespace qtk
