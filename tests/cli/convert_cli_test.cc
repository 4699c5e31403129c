// qtk quantize on Hugging Face directories the converter must refuse or be told about, driven
// as a user would: the exit code, one line on stderr, no output file.
#include <catch2/catch.hpp>

#include "hf_model_support.h"
#include "qtk/format/gguf.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

// A one-layer Qwen3 directory whose tokenizer.json has an unknown pre-tokenizer hash.
fs::path WriteQwen3Dir(const fs::path& dir, const std::string& architecture = "Qwen3ForCausalLM") {
  fs::create_directories(dir);
  testing::WriteFileBytes(dir / "config.json", [&architecture] {
    const std::string text = R"({"architectures": [")" + architecture + R"("],
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        "rms_norm_eps": 1e-06, "rope_theta": 1000000, "tie_word_embeddings": true,
        "vocab_size": 256})";
    return std::vector<uint8_t>(text.begin(), text.end());
  }());
  const std::string tokenizer = testing::ByteLevelTokenizerJson();
  testing::WriteFileBytes(dir / "tokenizer.json",
                          std::vector<uint8_t>(tokenizer.begin(), tokenizer.end()));
  testing::WriteSafetensorsFile(dir / "model.safetensors",
                                {{"model.embed_tokens.weight", "BF16", {256, 64}, {}},
                                 {"model.layers.0.mlp.up_proj.weight", "BF16", {128, 64}, {}},
                                 {"model.norm.weight", "BF16", {64}, {}}});
  return dir;
}

TEST_CASE("an unrecognized BPE pre-tokenizer is refused, and --vocab-pre names it",
          "[cli][convert]") {
  testing::TempDir tmp;
  const fs::path model = WriteQwen3Dir(tmp / "qwen3-custom");
  const fs::path out = tmp / "out.gguf";
  const testing::CommandResult refused =
      testing::RunQtk({"quantize", model.string(), out.string(), "Q8_0"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);
  CHECK(refused.err.find((model / "tokenizer.json").string() +
                         ": the BPE pre-tokenizer was not recognized (chkhsh ") !=
        std::string::npos);
  CHECK(refused.err.find("--vocab-pre") != std::string::npos);
  CHECK_FALSE(fs::exists(out));

  const testing::CommandResult named = testing::RunQtk(
      {"quantize", model.string(), out.string(), "Q8_0", "--vocab-pre", "qwen2", "-q"});
  INFO(named.err);
  REQUIRE(named.exit_code == 0);
  Result<GgufFile> file = ReadGgufFile(out.string());
  REQUIRE(file.ok());
  CHECK(*file->FindValue("general.architecture")->AsString() == "qwen3");
  CHECK(*file->FindValue("tokenizer.ggml.model")->AsString() == "gpt2");
  CHECK(*file->FindValue("tokenizer.ggml.pre")->AsString() == "qwen2");
  CHECK(file->FindTensor("blk.0.ffn_up.weight")->type == GgmlType::kQ8_0);
}

TEST_CASE("an unsupported architecture is refused naming it", "[cli][convert]") {
  testing::TempDir tmp;
  const fs::path model = WriteQwen3Dir(tmp / "gpt2", "GPT2LMHeadModel");
  const testing::CommandResult result =
      testing::RunQtk({"quantize", model.string(), (tmp / "out.gguf").string(), "Q8_0"});
  CHECK(result.exit_code == 1);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK(result.err.find("architecture 'GPT2LMHeadModel' is not supported (qtk converts ") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "out.gguf"));
}

}  // namespace
}  // namespace qtk
