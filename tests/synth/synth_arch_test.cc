// `qtk synth --arch`: each family's checkpoint converts as its real checkpoints do, the made-up
// BPE vocabularies' pre-tokenizer hashes are in the converter's table, determinism, the CLI.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "qtk/base/sha256.h"
#include "qtk/convert/bpe_vocab.h"
#include "qtk/model/model_input.h"
#include "qtk/synth/synth.h"
#include "qtk/tokenize/tokenizer.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

constexpr SynthPreset kPresets[] = {SynthPreset::kTiny, SynthPreset::kSmall, SynthPreset::k1B};
constexpr SynthArch kBpeArchs[] = {SynthArch::kLlama3, SynthArch::kQwen2, SynthArch::kQwen3,
                                   SynthArch::kQwen3Moe};

std::map<std::string, std::vector<uint8_t>> ReadDir(const fs::path& dir) {
  std::map<std::string, std::vector<uint8_t>> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files[entry.path().filename().string()] = testing::ReadFileBytes(entry.path());
  }
  return files;
}

void Write(const fs::path& dir, const SynthOptions& options) {
  Result<SynthResult> result = WriteSynthCheckpoint(dir.string(), options);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
}

const GgufValue* Find(const ModelInput& input, std::string_view key) {
  for (const GgufKeyValue& kv : input.metadata()) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

std::string StringOf(const ModelInput& input, std::string_view key) {
  const GgufValue* value = Find(input, key);
  INFO(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->AsString() != nullptr);
  return *value->AsString();
}

uint64_t UintOf(const ModelInput& input, std::string_view key) {
  const GgufValue* value = Find(input, key);
  INFO(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->AsUint().has_value());
  return *value->AsUint();
}

// GGUF name -> GGUF shape (row length first).
std::map<std::string, std::vector<int64_t>> TensorShapes(const ModelInput& input) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const InputTensor& tensor : input.tensors()) shapes[tensor.name] = tensor.shape;
  return shapes;
}

std::unique_ptr<ModelInput> Open(const fs::path& dir) {
  Result<std::unique_ptr<ModelInput>> input = OpenModelInput(dir.string());
  INFO(input.status().ToString());
  REQUIRE(input.ok());
  return std::move(*input);
}

TEST_CASE("arch names parse and print", "[synth]") {
  CHECK(SynthArchs().size() == 5);
  for (SynthArch arch : SynthArchs()) CHECK(ParseSynthArch(SynthArchName(arch)) == arch);
  CHECK(ParseSynthArch("Qwen3MoE") == SynthArch::kQwen3Moe);
  CHECK_FALSE(ParseSynthArch("mixtral").has_value());
  CHECK(SynthOptions{}.arch == SynthArch::kLlama);
}

// The converter identifies a BPE pre-tokenizer by hashing the ids of a check text; each made-up
// vocabulary's hash must be in src/convert/bpe_pre_hashes.cc's second table. Recomputed here
// from the tokenizer.json synth writes, for every preset, so the table cannot go stale.
TEST_CASE("every made-up BPE vocabulary's pre-tokenizer hash is known", "[synth]") {
  std::set<std::string> seen;  // the qwen families share their vocabulary: encode it once
  for (SynthArch arch : kBpeArchs) {
    for (SynthPreset preset : kPresets) {
      const SynthShape shape = PresetShape(preset, arch);
      INFO(SynthArchName(arch) << " " << SynthPresetName(preset));
      const std::string json = SynthTokenizerJson(shape);
      if (!seen.insert(json).second) continue;
      Result<Tokenizer> tokenizer = Tokenizer::FromJson(json, "tokenizer.json");
      INFO(tokenizer.status().ToString());
      REQUIRE(tokenizer.ok());
      // The ids fit the embedding: llama3 fills it, Qwen leaves 8 rows unused.
      CHECK(tokenizer->n_ids() == shape.vocab_size - (arch == SynthArch::kLlama3 ? 0 : 8));
      Result<std::vector<int32_t>> ids = tokenizer->Encode(BpeCheckText(), /*add_special=*/true);
      REQUIRE(ids.ok());
      const std::string chkhsh = BpeCheckHash(*ids);
      INFO("chkhsh " << chkhsh);
      const std::optional<std::string_view> pre = BpePreTokenizerName(chkhsh);
      REQUIRE(pre.has_value());
      CHECK(*pre == (arch == SynthArch::kLlama3 ? "llama-bpe" : "qwen2"));
    }
  }
}

TEST_CASE("the made-up vocabularies are byte-level BPE with the family's specials", "[synth]") {
  const SynthShape llama3 = PresetShape(SynthPreset::kTiny, SynthArch::kLlama3);
  Result<Tokenizer> tokenizer = Tokenizer::FromJson(SynthTokenizerJson(llama3), "tokenizer.json");
  REQUIRE(tokenizer.ok());
  CHECK(tokenizer->Piece(0) == "!");
  CHECK(tokenizer->Piece(188) == "\xC4\x80");  // byte 0x00: GPT-2's order, as real vocabularies
  CHECK(tokenizer->Piece(220) == "\xC4\xA0");  // "Ġ", the space
  CHECK(tokenizer->Piece(256) ==
        "\xC4\xA0"
        "e");
  CHECK(tokenizer->Piece(501) == "<|begin_of_text|>");
  CHECK(tokenizer->Piece(510) == "<|eot_id|>");
  // Llama 3 puts <|begin_of_text|> first; merged pieces: "Ġt" + "h" ... ; digits stay bytes.
  Result<std::vector<int32_t>> ids = tokenizer->Encode("a test 12", true);
  REQUIRE(ids.ok());
  CHECK(ids->front() == 501);
  CHECK(ids->size() < 9);

  const SynthShape qwen = PresetShape(SynthPreset::kTiny, SynthArch::kQwen3);
  tokenizer = Tokenizer::FromJson(SynthTokenizerJson(qwen), "tokenizer.json");
  REQUIRE(tokenizer.ok());
  CHECK(tokenizer->Piece(501) == "<|endoftext|>");
  CHECK(tokenizer->Piece(503) == "<|im_end|>");
  CHECK(tokenizer->Piece(504).empty());  // unused embedding rows
  ids = tokenizer->Encode("<|im_start|>user", true);
  REQUIRE(ids.ok());
  CHECK(ids->front() == 502);  // no BOS: Qwen's post-processor adds nothing

  const auto config = nlohmann::json::parse(SynthTokenizerConfigJson(qwen));
  CHECK(config["eos_token"] == "<|im_end|>");
  CHECK(config["bos_token"].is_null());
  CHECK(config["added_tokens_decoder"]["503"]["content"] == "<|im_end|>");
  CHECK(nlohmann::json::parse(SynthTokenizerConfigJson(llama3))["bos_token"] ==
        "<|begin_of_text|>");
}

TEST_CASE("each family's config.json is the family's", "[synth]") {
  const auto config = [](SynthArch arch) {
    return nlohmann::json::parse(
        SynthConfigJson(PresetShape(SynthPreset::kTiny, arch), SynthDtype::kBF16));
  };
  const auto llama3 = config(SynthArch::kLlama3);
  CHECK(llama3["architectures"][0] == "LlamaForCausalLM");
  CHECK(llama3["rope_scaling"] == nlohmann::json{{"factor", 8.0},
                                                 {"high_freq_factor", 4.0},
                                                 {"low_freq_factor", 1.0},
                                                 {"original_max_position_embeddings", 8192},
                                                 {"rope_type", "llama3"}});
  CHECK(llama3["rope_theta"] == 500000.0);
  CHECK(llama3["head_dim"] == 64);
  CHECK(llama3["tie_word_embeddings"] == false);
  CHECK(llama3["bos_token_id"] == 501);
  CHECK(llama3["eos_token_id"] == nlohmann::json{502, 509, 510});

  const auto qwen2 = config(SynthArch::kQwen2);
  CHECK(qwen2["architectures"][0] == "Qwen2ForCausalLM");
  CHECK(qwen2["tie_word_embeddings"] == true);
  CHECK_FALSE(qwen2.contains("head_dim"));
  CHECK(qwen2["eos_token_id"] == 503);

  const auto qwen3 = config(SynthArch::kQwen3);
  CHECK(qwen3["architectures"][0] == "Qwen3ForCausalLM");
  CHECK(qwen3["head_dim"] == 64);
  CHECK(qwen3["rms_norm_eps"] == 1e-6);

  const auto moe = config(SynthArch::kQwen3Moe);
  CHECK(moe["architectures"][0] == "Qwen3MoeForCausalLM");
  CHECK(moe["num_experts"] == 4);
  CHECK(moe["num_experts_per_tok"] == 2);
  CHECK(moe["moe_intermediate_size"] == 256);
  // transformers writes config.json with sorted keys; so does synth for these families.
  std::string previous;
  for (const auto& [key, value] : moe.items()) {
    CHECK(previous < key);
    previous = key;
  }
}

TEST_CASE("every preset of every family has about the advertised size", "[synth]") {
  const auto n_parameters = [](SynthPreset preset, SynthArch arch) {
    uint64_t n = 0;
    for (const SynthTensor& t : SynthTensors(PresetShape(preset, arch))) {
      uint64_t elements = 1;
      for (int64_t dim : t.shape) elements *= static_cast<uint64_t>(dim);
      n += elements;
    }
    return n;
  };
  CHECK(n_parameters(SynthPreset::kTiny, SynthArch::kLlama3) == 1836288);
  CHECK(n_parameters(SynthPreset::kTiny, SynthArch::kQwen2) == 1706240);
  CHECK(n_parameters(SynthPreset::kTiny, SynthArch::kQwen3) == 1705472);
  CHECK(n_parameters(SynthPreset::kTiny, SynthArch::kQwen3Moe) == 2100736);
  CHECK(n_parameters(SynthPreset::k1B, SynthArch::kQwen3Moe) == 1039208448);
  CHECK(PresetShape(SynthPreset::k1B, SynthArch::kQwen3Moe).n_experts == 16);
  CHECK(PresetShape(SynthPreset::k1B, SynthArch::kQwen3Moe).n_experts_used == 4);
  // The llama default is unchanged by the family parameter.
  CHECK(n_parameters(SynthPreset::kSmall, SynthArch::kLlama) == 33366528);
}

// What convert_hf_to_gguf.py makes of each family, as qtk's converter reproduces it.
TEST_CASE("each family's checkpoint converts to its GGUF architecture", "[synth]") {
  testing::TempDir dir;
  for (SynthArch arch : SynthArchs()) {
    const std::string name(SynthArchName(arch));
    INFO(name);
    Write(dir / name, {.arch = arch});
    const std::unique_ptr<ModelInput> input = Open(dir / name);
    const auto shapes = TensorShapes(*input);
    const SynthShape shape = PresetShape(SynthPreset::kTiny, arch);
    CHECK(Find(*input, "tokenizer.ggml.tokens")->array_size() ==
          static_cast<size_t>(shape.vocab_size));
    CHECK(shapes.at("token_embd.weight") == std::vector<int64_t>{256, 512});
    CHECK(shapes.at("blk.1.attn_k.weight") == std::vector<int64_t>{256, 128});
    // What the script logs for real Llama 3 tokenizers too (their pair template repeats BOS).
    const std::vector<std::string> expected_warnings =
        arch == SynthArch::kLlama3
            ? std::vector<std::string>{"Unknown separator token '<|begin_of_text|>' in "
                                       "TemplateProcessing<pair>"}
            : std::vector<std::string>{};
    CHECK(input->warnings() == expected_warnings);
    // Every tensor reads back (converted, permuted, stacked).
    for (size_t i = 0; i < input->tensors().size(); ++i) {
      std::vector<float> values(static_cast<size_t>(input->tensors()[i].n_elements()));
      INFO(input->tensors()[i].name);
      REQUIRE(input->ReadF32(i, values, 1).ok());
    }
    switch (arch) {
      case SynthArch::kLlama:
        CHECK(StringOf(*input, "general.architecture") == "llama");
        CHECK(StringOf(*input, "tokenizer.ggml.model") == "llama");
        CHECK_FALSE(shapes.contains("rope_freqs.weight"));
        break;
      case SynthArch::kLlama3:
        CHECK(StringOf(*input, "general.architecture") == "llama");
        CHECK(StringOf(*input, "tokenizer.ggml.model") == "gpt2");
        CHECK(StringOf(*input, "tokenizer.ggml.pre") == "llama-bpe");
        CHECK(shapes.at("rope_freqs.weight") == std::vector<int64_t>{32});
        CHECK(shapes.contains("output.weight"));
        CHECK(UintOf(*input, "llama.vocab_size") == 512);
        CHECK(UintOf(*input, "tokenizer.ggml.bos_token_id") == 501);
        CHECK(UintOf(*input, "tokenizer.ggml.eos_token_id") == 510);  // <|eot_id|>
        CHECK(*Find(*input, "tokenizer.ggml.add_bos_token")->AsBool());
        break;
      case SynthArch::kQwen2:
        CHECK(StringOf(*input, "general.architecture") == "qwen2");
        CHECK(StringOf(*input, "tokenizer.ggml.model") == "gpt2");
        CHECK(StringOf(*input, "tokenizer.ggml.pre") == "qwen2");
        CHECK(shapes.at("blk.0.attn_q.bias") == std::vector<int64_t>{256});
        CHECK(shapes.at("blk.0.attn_k.bias") == std::vector<int64_t>{128});
        CHECK(shapes.at("blk.0.attn_v.bias") == std::vector<int64_t>{128});
        CHECK_FALSE(shapes.contains("output.weight"));  // tied
        break;
      case SynthArch::kQwen3:
      case SynthArch::kQwen3Moe:
        CHECK(StringOf(*input, "tokenizer.ggml.model") == "gpt2");
        CHECK(StringOf(*input, "tokenizer.ggml.pre") == "qwen2");
        CHECK(shapes.at("blk.0.attn_q_norm.weight") == std::vector<int64_t>{64});
        CHECK(shapes.at("blk.1.attn_k_norm.weight") == std::vector<int64_t>{64});
        CHECK(UintOf(*input, "tokenizer.ggml.eos_token_id") == 503);  // <|im_end|>
        CHECK(Find(*input, "tokenizer.ggml.tokens")->strings()[504] == "[PAD504]");
        if (arch == SynthArch::kQwen3) {
          CHECK(StringOf(*input, "general.architecture") == "qwen3");
          CHECK(shapes.contains("blk.0.ffn_gate.weight"));
          break;
        }
        CHECK(StringOf(*input, "general.architecture") == "qwen3moe");
        CHECK(UintOf(*input, "qwen3moe.expert_count") == 4);
        CHECK(UintOf(*input, "qwen3moe.expert_used_count") == 2);
        CHECK(UintOf(*input, "qwen3moe.expert_feed_forward_length") == 256);
        CHECK(shapes.at("blk.0.ffn_gate_exps.weight") == std::vector<int64_t>{256, 256, 4});
        CHECK(shapes.at("blk.0.ffn_up_exps.weight") == std::vector<int64_t>{256, 256, 4});
        CHECK(shapes.at("blk.1.ffn_down_exps.weight") == std::vector<int64_t>{256, 256, 4});
        CHECK(shapes.at("blk.0.ffn_gate_inp.weight") == std::vector<int64_t>{256, 4});
        CHECK_FALSE(shapes.contains("blk.0.ffn_gate.weight"));
        break;
    }
  }
}

TEST_CASE("every family is byte-identical for a seed, whatever the threads", "[synth]") {
  testing::TempDir dir;
  for (SynthArch arch : kBpeArchs) {
    const std::string name(SynthArchName(arch));
    INFO(name);
    Write(dir / (name + "-a"), {.arch = arch, .n_threads = 1});
    Write(dir / (name + "-b"), {.arch = arch, .n_threads = 3});
    Write(dir / (name + "-c"), {.arch = arch, .seed = 1});
    const auto a = ReadDir(dir / (name + "-a"));
    CHECK(a.size() == 5);
    CHECK(a == ReadDir(dir / (name + "-b")));
    const auto c = ReadDir(dir / (name + "-c"));
    CHECK(c.at("model.safetensors") != a.at("model.safetensors"));
    for (const char* file :
         {"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
      CHECK(c.at(file) == a.at(file));
    }
  }
}

TEST_CASE("the pinned tiny f32 checkpoints of the families have not changed", "[synth]") {
  // As for llama in synth_test.cc: benchmarks and demos depend on these exact bytes.
  const std::map<SynthArch, std::string> pinned = {
      {SynthArch::kLlama3, "909569f99e101eae6016c8ff6141b9d85694a9304829710a8aed7e6e8040033c"},
      {SynthArch::kQwen2, "fc707285c6bc6186b16339d38ad0df5520a354da404dea0ddb28bde68932fb9f"},
      {SynthArch::kQwen3, "94f58217eda667875f4f84b251347cfa3c6332dea51d5213aef14c6882f029db"},
      {SynthArch::kQwen3Moe, "f1f4b3fb0fc036095597e9361bc01929055bd74b338d1bca44c0abde4f1afa85"},
  };
  testing::TempDir dir;
  for (const auto& [arch, sha256] : pinned) {
    const std::string name(SynthArchName(arch));
    INFO(name);
    Write(dir / name, {.arch = arch, .dtype = SynthDtype::kF32});
    CHECK(Sha256Hex(testing::ReadFileBytes(dir / name / "model.safetensors")) == sha256);
  }
}

TEST_CASE("a mixture of experts keeps the edge rows in expert 0", "[synth]") {
  const SynthShape shape = PresetShape(SynthPreset::kTiny, SynthArch::kQwen3Moe);
  for (const SynthTensor& tensor : SynthTensors(shape)) {
    if (tensor.name != "model.layers.0.mlp.experts.0.down_proj.weight") continue;
    std::vector<float> row(static_cast<size_t>(tensor.row_length()));
    GenerateSynthRows(shape, tensor, 0, 1, 2, row);
    CHECK(std::all_of(row.begin(), row.end(), [](float v) { return v == 0.0f; }));
    GenerateSynthRows(shape, tensor, 0, 0, 1, row);
    CHECK(std::any_of(row.begin(), row.end(), [](float v) { return v != 0.0f; }));
    return;
  }
  FAIL("no expert 0 down_proj");
}

TEST_CASE("qtk synth --arch on the command line", "[synth][cli]") {
  testing::TempDir dir;
  const testing::CommandResult ok =
      testing::RunQtk({"synth", "--arch", "qwen3moe", (dir / "moe").string(), "--seed", "2"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("qwen3moe, preset tiny, seed 2, bf16, 2100736 parameters"));
  CHECK_THAT(ok.out, Catch::Contains("tokenizer.json"));
  Write(dir / "lib", {.arch = SynthArch::kQwen3Moe, .seed = 2});
  CHECK(ReadDir(dir / "moe") == ReadDir(dir / "lib"));

  // The demo's next step: quantize the directory.
  const testing::CommandResult quantized = testing::RunQtk(
      {"quantize", (dir / "moe").string(), (dir / "moe-Q4_K_M.gguf").string(), "Q4_K_M"});
  INFO(quantized.err);
  CHECK(quantized.exit_code == 0);
  CHECK(fs::exists(dir / "moe-Q4_K_M.gguf"));

  const testing::CommandResult bad =
      testing::RunQtk({"synth", "--arch", "mixtral", (dir / "x").string()});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err,
             Catch::Contains("--arch: mixtral not in {llama,llama3,qwen2,qwen3,qwen3moe}"));
  CHECK_FALSE(fs::exists(dir / "x" / "config.json"));

  const testing::CommandResult help = testing::RunQtk({"synth", "--help"});
  CHECK_THAT(help.out, Catch::Contains("--arch"));
  CHECK_THAT(help.out, Catch::Contains("qwen3moe"));
}

}  // namespace
}  // namespace qtk
