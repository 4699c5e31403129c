// The per-tensor type plan reproduces llama-quantize's choices for every reference file.
#include "qtk/plan/plan.h"

#include <catch2/catch.hpp>
#include <map>

#include "qtk/format/gguf.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

ModelFacts FactsOf(const GgufFile& file) {
  auto u32 = [&](const std::string& key) {
    const GgufValue* value = file.FindValue(key);
    return value != nullptr ? static_cast<int>(value->AsUint().value_or(0)) : 0;
  };
  const std::string arch = *file.FindValue("general.architecture")->AsString();
  std::vector<std::string> names;
  for (const GgufTensorInfo& info : file.tensors()) names.push_back(info.name);
  return MakeModelFacts({arch, u32(arch + ".block_count"), u32(arch + ".attention.head_count"),
                         u32(arch + ".attention.head_count_kv"), u32(arch + ".expert_count")},
                        names);
}

// "synth-a-mix-Q4_K_M.gguf" -> FileType Q4_K_M.
FileType FileTypeOfReference(const std::string& file) {
  const size_t dash = file.rfind('-');
  const std::string name = file.substr(dash + 1, file.size() - dash - 1 - 5);
  return FileTypeFromName(name).value();
}

void CheckPlans(const std::filesystem::path& dir, const std::string& model, bool pure) {
  Result<GgufFile> source = ReadGgufFile((dir / (model + "-convert-f32.gguf")).string());
  REQUIRE(source.ok());
  const ModelFacts facts = FactsOf(*source);
  const std::string prefix = model + (pure ? "-pure-" : "-mix-");
  int n_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0 || entry.path().extension() != ".gguf") continue;
    ++n_files;
    PlanOptions options;
    options.file_type = FileTypeOfReference(file);
    options.pure = pure;
    for (const testing::ManifestTensor& expected : testing::ReadManifest(dir, file)) {
      const GgufTensorInfo* info = source->FindTensor(expected.name);
      REQUIRE(info != nullptr);
      const TensorDecision decision =
          DecideTensorType({info->name, info->type, info->shape}, facts, options);
      INFO(file << ": " << expected.name << " planned " << GgmlTypeName(decision.type));
      CHECK(decision.type == expected.type);
    }
  }
  CHECK(n_files >= 5);
}

TEST_CASE("mix plans match llama-quantize on synth-a and stories260K", "[plan][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckPlans(testdata / "reference/llama.cpp/synth-a", "synth-a", false);
  CheckPlans(testdata / "reference/llama.cpp/stories260K", "stories260K", false);
}

TEST_CASE("pure plans match llama-quantize --pure on synth-a", "[plan][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckPlans(testdata / "reference/llama.cpp/synth-a", "synth-a", true);
}

TensorDesc Matrix(std::string name, int64_t n_cols, int64_t n_rows) {
  return {std::move(name), GgmlType::kF32, {n_cols, n_rows}};
}

TEST_CASE("tensors llama-quantize never quantizes stay as they are", "[plan]") {
  PlanOptions options;
  options.file_type = FileType::kMostlyQ4_K_M;
  ModelFacts facts;
  facts.n_layers = 1;
  CHECK_FALSE(AllowsQuantization({"blk.0.attn_norm.weight", GgmlType::kF32, {256}}, options));
  CHECK_FALSE(AllowsQuantization({"blk.0.attn_q.weight", GgmlType::kF32, {256, 1}}, options));
  CHECK_FALSE(AllowsQuantization(Matrix("blk.0.attn_q.bias", 256, 256), options));
  CHECK_FALSE(AllowsQuantization(Matrix("blk.0.ffn_gate_inp.weight", 256, 8), options));
  CHECK(AllowsQuantization(Matrix("output.weight", 256, 512), options));
  options.leave_output_tensor = true;
  CHECK_FALSE(AllowsQuantization(Matrix("output.weight", 256, 512), options));
  const TensorDecision kept =
      DecideTensorType({"blk.0.ffn_norm.weight", GgmlType::kF16, {256}}, facts, options);
  CHECK(kept.type == GgmlType::kF16);
  CHECK_FALSE(kept.quantize);
}

TEST_CASE("rows that do not fit a block fall back, to F16 where llama.cpp stops", "[plan]") {
  ModelFacts facts;
  facts.n_layers = 5;
  facts.has_output_tensor = true;
  PlanOptions options;
  options.file_type = FileType::kMostlyQ8_0;
  TensorDecision decision =
      DecideTensorType(Matrix("blk.0.ffn_down.weight", 172, 64), facts, options);
  CHECK(decision.type == GgmlType::kF16);
  CHECK(decision.note ==
        "172 columns do not divide into Q8_0's blocks of 32: using F16 (llama-quantize has no "
        "fallback here and stops)");
  options.file_type = FileType::kMostlyQ4_K_M;
  decision = DecideTensorType(Matrix("blk.0.ffn_up.weight", 160, 64), facts, options);
  CHECK(decision.type == GgmlType::kQ5_0);
  CHECK(decision.note == "160 columns do not divide into Q4_K's blocks of 256: using Q5_0");
}

TEST_CASE("overrides: --tensor-type, --output-tensor-type, --token-embedding-type", "[plan]") {
  ModelFacts facts;
  facts.n_layers = 2;
  facts.has_output_tensor = true;
  PlanOptions options;
  options.file_type = FileType::kMostlyQ4_K_M;
  auto override = ParseTensorTypeOverride("attn_(q|k)=q8_0");
  REQUIRE(override.ok());
  options.tensor_types.push_back(*override);
  options.output_tensor_type = GgmlType::kQ5_K;
  options.token_embedding_type = GgmlType::kQ8_0;
  CHECK(DecideTensorType(Matrix("blk.1.attn_k.weight", 256, 128), facts, options).type ==
        GgmlType::kQ8_0);
  CHECK(DecideTensorType(Matrix("blk.1.attn_v.weight", 256, 128), facts, options).type ==
        GgmlType::kQ6_K);
  CHECK(DecideTensorType(Matrix("output.weight", 256, 512), facts, options).type ==
        GgmlType::kQ5_K);
  CHECK(DecideTensorType(Matrix("token_embd.weight", 256, 512), facts, options).type ==
        GgmlType::kQ8_0);
  CHECK_FALSE(ParseTensorTypeOverride("attn_v").ok());
  CHECK(ParseTensorTypeOverride("attn_v=q9_9").status().message() ==
        "--tensor-type 'attn_v=q9_9': unknown type 'q9_9'");
  CHECK_FALSE(ParseTensorTypeOverride("attn_(v=q8_0").ok());
}

TEST_CASE("file type names and ids parse as llama-quantize's do", "[plan]") {
  CHECK(FileTypeFromName("Q4_K_M") == FileType::kMostlyQ4_K_M);
  CHECK(FileTypeFromName("q4_k") == FileType::kMostlyQ4_K_M);
  CHECK(FileTypeFromName("15") == FileType::kMostlyQ4_K_M);
  CHECK(FileTypeFromName("f32") == FileType::kAllF32);
  CHECK_FALSE(FileTypeFromName("Q4_K_X").has_value());
  CHECK_FALSE(FileTypeFromName("4").has_value());
  CHECK(LayerOf("blk.12.attn_v.weight") == 12);
  CHECK_FALSE(LayerOf("output.weight").has_value());
  CHECK_FALSE(LayerOf("blk.x.attn_v.weight").has_value());
}

}  // namespace
}  // namespace qtk
