// Llama 3, Qwen3 and Qwen3-MoE checkpoints (tokenizer.json vocabularies) in, GGUF out: every
// file llama.cpp made of them (convert_hf_to_gguf.py, then llama-quantize on its F32 output),
// reproduced byte for byte. The reference GGUF files are not in the test data (each carries a
// full-vocabulary embedding); their metadata.json gives each file's SHA-256, and each metadata
// value's offset, length and SHA-256, and manifest.json each tensor's, so that a difference
// is reported as the first key or tensor that differs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "qtk/base/sha256.h"
#include "qtk/format/gguf.h"
#include "qtk/pipeline/quantize_model.h"
#include "qtk/tokenize/tokenizer.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

std::string Sha(std::span<const uint8_t> bytes) { return Sha256Hex(bytes); }

// "" if `bytes` is the reference `file` of `model`; else what differs first.
std::string Diff(const fs::path& reference_dir, const std::string& file, const fs::path& path) {
  const std::vector<uint8_t> bytes = testing::ReadFileBytes(path);
  const auto all =
      nlohmann::ordered_json::parse(testing::ReadFileText(reference_dir / "metadata.json"));
  const auto& meta = all.at(file);
  if (bytes.size() == meta.at("bytes").get<uint64_t>() && Sha(bytes) == meta.at("sha256")) {
    return "";
  }
  std::string report = file + ": " + std::to_string(bytes.size()) + " bytes, reference " +
                       std::to_string(meta.at("bytes").get<uint64_t>()) + "; ";
  for (const auto& kv : meta.at("kv")) {
    const auto offset = kv.at("offset").get<uint64_t>();
    const auto size = kv.at("bytes").get<uint64_t>();
    if (offset + size > bytes.size() ||
        Sha(std::span<const uint8_t>(bytes).subspan(offset, size)) != kv.at("sha256")) {
      return report + "first differing key: " + kv.at("key").get<std::string>();
    }
  }
  Result<GgufFile> ours = ReadGgufFile(path.string());
  if (!ours.ok()) return report + ours.status().message();
  for (const testing::ManifestTensor& tensor : testing::ReadManifest(reference_dir, file)) {
    const GgufTensorInfo* info = ours->FindTensor(tensor.name);
    if (info == nullptr) return report + "missing tensor " + tensor.name;
    if (info->type != tensor.type || info->shape != tensor.shape) {
      return report + "tensor " + tensor.name + ": type or shape differs";
    }
    if (Sha(ours->TensorData(*info)) != tensor.sha256) {
      return report + "tensor " + tensor.name + ": data differs";
    }
  }
  return report + "keys and tensors agree; the layout differs";
}

std::string Write(ModelInput& input, const fs::path& out, const std::string& type, bool pure) {
  QuantizeModelOptions options;
  options.plan.pure = pure;
  options.n_threads = 2;
  options.sync = false;
  auto plans =
      PlanModel(input, {{out.string(), FileTypeFromName(type).value(), std::nullopt}}, options);
  REQUIRE(plans.ok());
  auto summary = QuantizeModel(input, *plans, options);
  REQUIRE(summary.ok());
  return out.string();
}

TEST_CASE("BPE checkpoints convert and quantize exactly as llama.cpp", "[hf][bpe][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  for (const std::string model : {"Llama-3-synth", "synth-qwen3", "synth-qwen3moe"}) {
    INFO(model);
    const fs::path reference_dir = testdata / "reference/llama.cpp" / model;
    auto input = OpenModelInput((testdata / "models" / model).string());
    REQUIRE(input.ok());
    // The one warning the converter logs for Llama 3 (its log has it too).
    const std::vector<std::string> expected_warnings =
        model == "Llama-3-synth"
            ? std::vector<std::string>{"Unknown separator token '<|begin_of_text|>' in "
                                       "TemplateProcessing<pair>"}
            : std::vector<std::string>{};
    CHECK((*input)->warnings() == expected_warnings);
    // convert_hf_to_gguf.py --outtype bf16 / f32 / q8_0.
    for (const std::string type : {"BF16", "F32", "Q8_0"}) {
      std::string lower = type;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::string file = model + "-convert-" + lower + ".gguf";
      const auto out = Write(**input, tmp / file, type, false);
      CHECK(Diff(reference_dir, file, out) == "");
    }
    // The converted vocabulary, read back as llama.cpp reads it, encodes as Hugging Face
    // does: every golden for Llama 3; for Qwen3 all but the texts that NFC changes (llama.cpp
    // does not normalize; tests/tokenize/gguf_tokenizer_test.cc has the detail).
    if (model != "synth-qwen3moe") {
      Result<Tokenizer> tokenizer = OpenTokenizer((tmp / (model + "-convert-f32.gguf")).string());
      REQUIRE(tokenizer.ok());
      const std::string name = model == "Llama-3-synth" ? "llama3" : "qwen3";
      const auto goldens = nlohmann::json::parse(
          testing::ReadFileText(testdata / "tokenizers" / name / "goldens.json"));
      std::vector<std::string> different;
      for (const auto& golden : goldens.at("cases")) {
        Result<std::vector<int32_t>> ids =
            tokenizer->Encode(golden.at("text").get<std::string>(), true);
        REQUIRE(ids.ok());
        if (*ids != golden.at("ids_with_special").get<std::vector<int32_t>>()) {
          different.push_back(golden.at("source").get<std::string>() + " " +
                              golden.at("index").dump());
        }
      }
      CHECK(different == (name == "llama3"
                              ? std::vector<std::string>{}
                              : std::vector<std::string>{"ggml-vocab-inp 46", "ggml-vocab-inp 47",
                                                         "ggml-vocab-inp 48", "hard 35", "hard 36",
                                                         "hard 37", "hard 38", "hard 39"}));
    }
    // llama-quantize [--pure] of the F32 conversion.
    auto f32 = OpenModelInput((tmp / (model + "-convert-f32.gguf")).string());
    REQUIRE(f32.ok());
    for (const auto& [file_type, pure] :
         {std::pair{"Q8_0", true}, std::pair{"Q4_K_M", true}, std::pair{"Q4_K_M", false}}) {
      const std::string file = model + (pure ? "-pure-" : "-mix-") + file_type + ".gguf";
      const auto out = Write(**f32, tmp / file, file_type, pure);
      CHECK(Diff(reference_dir, file, out) == "");
    }
    // Straight from the checkpoint: the same mix file.
    const std::string mix = model + "-mix-Q4_K_M.gguf";
    const auto direct = Write(**input, tmp / ("direct-" + mix), "Q4_K_M", false);
    CHECK(Diff(reference_dir, mix, direct) == "");
  }
}

}  // namespace
}  // namespace qtk
