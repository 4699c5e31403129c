// The "gpt2" vocabulary of a tokenizer.json: the pre-tokenizer check, token types, padding,
// merges and gguf.SpecialVocab's inferences, on handcrafted tokenizers and on the real ones.
#include "qtk/convert/bpe_vocab.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hf_model_support.h"
#include "qtk/base/sha256.h"
#include "qtk/tokenize/tokenizer.h"
#include "test_support.h"

namespace qtk {
namespace {

using Json = nlohmann::ordered_json;

// A byte-level tokenizer with all 256 byte pieces (ids 0..255), one merge and added tokens.
Json ByteTokenizer() {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[testing::ByteLevelChar(b)] = b;
  vocab["ab"] = 256;
  vocab["x y"] = 257;  // pieces with a space inside: the pair form of merges allows them
  vocab["x yz"] = 258;
  Json tokenizer = {
      {"added_tokens",
       Json::array(
           {{{"id", 259}, {"content", "<|bos|>"}, {"special", true}, {"normalized", false}},
            {{"id", 260}, {"content", "<|eos|>"}, {"special", true}, {"normalized", false}},
            {{"id", 261}, {"content", "<|tool|>"}, {"special", false}, {"normalized", false}},
            {{"id", 262},
             {"content", "my\xE2\x96\x81word"},
             {"special", false},
             {"normalized", false}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", Json::array({Json::array({"a", "b"}), Json::array({"x y", "z"})})}}},
  };
  return tokenizer;
}

HfModelConfig Config(const std::string& text) {
  Result<HfModelConfig> config = ParseHfModelConfig(text, "config.json");
  REQUIRE(config.ok());
  return std::move(*config);
}

const std::string kQwenConfig = R"({"architectures": ["Qwen3ForCausalLM"],
    "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 265, "eos_token_id": 260})";

Result<ModelMetadata> Build(const Json& tokenizer, const std::string& config,
                            std::optional<std::string> vocab_pre = "qwen2",
                            std::optional<std::string> tokenizer_config = std::nullopt) {
  const std::string text = tokenizer.dump();
  VocabSources sources;
  sources.tokenizer_json = text;
  if (tokenizer_config) sources.tokenizer_config_json = *tokenizer_config;
  return BuildBpeTokenizerMetadata(Config(config), sources, vocab_pre);
}

const GgufValue& ValueOf(const std::vector<GgufKeyValue>& metadata, std::string_view key) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) return kv.value;
  }
  FAIL("no key " << key);
  static const GgufValue kNone;
  return kNone;
}

std::vector<std::string> Keys(const std::vector<GgufKeyValue>& metadata) {
  std::vector<std::string> keys;
  for (const GgufKeyValue& kv : metadata) keys.push_back(kv.key);
  return keys;
}

TEST_CASE("the pre-tokenizer check hashes Python's str() of the ids", "[bpe_vocab]") {
  const auto sha = [](std::string_view text) {
    return Sha256Hex(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  };
  CHECK(BpeCheckHash({}) == sha("[]"));
  const std::vector<int32_t> ids = {1, 22, 333};
  CHECK(BpeCheckHash(ids) == sha("[1, 22, 333]"));
  CHECK(BpePreTokenizerName("0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5") ==
        "llama-bpe");
  CHECK(BpePreTokenizerName("e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea") ==
        "qwen2");
  // Listed twice by the script (mpt, then olmo): the later entry wins, as its ifs do.
  CHECK(BpePreTokenizerName("b6dc8df998e1cfbdc4eac8243701a65afe638679230920b50d6f17d81c098166") ==
        "olmo");
  CHECK_FALSE(BpePreTokenizerName("0000").has_value());
}

TEST_CASE("the real tokenizers hash to their llama.cpp names", "[bpe_vocab][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (const auto& [name, pre] : {std::pair{"llama3", "llama-bpe"}, std::pair{"qwen3", "qwen2"}}) {
    INFO(name);
    std::ifstream lines(testdata / "tokenizers" / name / "goldens.json");
    const auto goldens = nlohmann::json::parse(lines);
    Result<Tokenizer> tokenizer =
        OpenTokenizer((testdata / goldens.at("tokenizer").get<std::string>()).string());
    REQUIRE(tokenizer.ok());
    bool found = false;
    for (const auto& golden : goldens.at("cases")) {
      if (golden.at("source") != "chktxt") continue;
      CHECK(golden.at("text").get<std::string>() == BpeCheckText());
      found = true;
    }
    CHECK(found);
    Result<std::vector<int32_t>> ids = tokenizer->Encode(BpeCheckText(), true);
    REQUIRE(ids.ok());
    CHECK(BpeCheckHash(*ids) == goldens.at("chkhsh").get<std::string>());
    CHECK(BpePreTokenizerName(BpeCheckHash(*ids)) == pre);
  }
}

TEST_CASE("an unknown pre-tokenizer is refused with its hash unless named", "[bpe_vocab]") {
  Result<ModelMetadata> refused = Build(ByteTokenizer(), kQwenConfig, std::nullopt);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kUnsupported);
  CHECK(refused.status().message().find("the BPE pre-tokenizer was not recognized (chkhsh ") !=
        std::string::npos);
  CHECK(refused.status().message().find("--vocab-pre") != std::string::npos);
  Result<ModelMetadata> named = Build(ByteTokenizer(), kQwenConfig, "qwen2");
  REQUIRE(named.ok());
  CHECK(ValueOf(named->metadata, "tokenizer.ggml.pre") == GgufValue::String("qwen2"));
}

TEST_CASE("tokens, types, padding and merges as get_vocab_base writes them", "[bpe_vocab]") {
  Result<ModelMetadata> vocab = Build(ByteTokenizer(), kQwenConfig);
  REQUIRE(vocab.ok());
  CHECK(Keys(vocab->metadata) ==
        std::vector<std::string>{"tokenizer.ggml.model", "tokenizer.ggml.pre",
                                 "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                                 "tokenizer.ggml.merges", "tokenizer.ggml.eos_token_id"});
  CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.model") == GgufValue::String("gpt2"));
  const std::vector<std::string> tokens =
      ValueOf(vocab->metadata, "tokenizer.ggml.tokens").strings();
  REQUIRE(tokens.size() == 265);
  CHECK(tokens[0] == "Ā");
  CHECK(tokens[32] == "Ġ");
  CHECK(tokens[256] == "ab");
  CHECK(tokens[259] == "<|bos|>");
  CHECK(tokens[261] == "<|tool|>");
  CHECK(tokens[262] == "my word");  // a user-defined token's U+2581 pre-normalized to a space
  CHECK(tokens[263] == "[PAD263]");
  CHECK(tokens[264] == "[PAD264]");
  const GgufValue& types = ValueOf(vocab->metadata, "tokenizer.ggml.token_type");
  REQUIRE(types.array_size() == 265);
  CHECK(types.Element<int32_t>(0) == 1);    // NORMAL
  CHECK(types.Element<int32_t>(259) == 3);  // CONTROL: special
  CHECK(types.Element<int32_t>(261) == 3);  // CONTROL: not special, but looks it ("<|...|>")
  CHECK(types.Element<int32_t>(262) == 4);  // USER_DEFINED
  CHECK(types.Element<int32_t>(263) == 5);  // UNUSED padding
  // Pairs joined by a space; a space inside a part written as U+0120.
  CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.merges").strings() ==
        std::vector<std::string>{"a b", "xĠy z"});
  CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.eos_token_id") == GgufValue::Uint32(260));
}

TEST_CASE("a vocab_size below the tokenizer's ids is refused", "[bpe_vocab]") {
  Result<ModelMetadata> vocab = Build(ByteTokenizer(), R"({"architectures": ["Qwen3ForCausalLM"],
      "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 100})");
  REQUIRE_FALSE(vocab.ok());
  CHECK(vocab.status().message() ==
        "config.json: vocab_size 100 is smaller than the tokenizer's largest id 262");
}

TEST_CASE("SpecialVocab: tokenizer_config, the post-processor and config.json", "[bpe_vocab]") {
  const std::string no_ids = R"({"architectures": ["Qwen3ForCausalLM"],
      "num_hidden_layers": 1, "num_attention_heads": 1, "bos_token_id": 5})";
  SECTION("tokenizer_config's tokens are found among the added tokens; config.json fills in") {
    Result<ModelMetadata> vocab =
        Build(ByteTokenizer(), no_ids, "qwen2",
              R"({"eos_token": {"content": "<|eos|>"}, "pad_token": "<|bos|>",
                  "add_bos_token": false, "chat_template": "{{ x }}"})");
    REQUIRE(vocab.ok());
    const std::vector<std::string> keys = Keys(vocab->metadata);
    CHECK(std::vector<std::string>(keys.begin() + 5, keys.end()) ==
          std::vector<std::string>{"tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
                                   "tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token",
                                   "tokenizer.chat_template"});
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.bos_token_id") == GgufValue::Uint32(5));
    CHECK(ValueOf(vocab->metadata, "tokenizer.chat_template") == GgufValue::String("{{ x }}"));
  }
  SECTION(
      "TemplateProcessing: BOS added; a trailing token other than EOS becomes EOS, "
      "the old EOS EOT") {
    Json tokenizer = ByteTokenizer();
    tokenizer["post_processor"] = Json::parse(R"({"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "<|tool|>", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<|eos|>", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}},
                 {"SpecialToken": {"id": "<|tool|>", "type_id": 1}}],
        "special_tokens": {
          "<|bos|>": {"id": "<|bos|>", "ids": [259], "tokens": ["<|bos|>"]},
          "<|eos|>": {"id": "<|eos|>", "ids": [260], "tokens": ["<|eos|>"]},
          "<|tool|>": {"id": "<|tool|>", "ids": [261], "tokens": ["<|tool|>"]}}})");
    Result<ModelMetadata> vocab =
        Build(tokenizer, no_ids, "qwen2", R"({"bos_token": "<|bos|>", "eos_token": "<|eos|>"})");
    REQUIRE(vocab.ok());
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.bos_token_id") == GgufValue::Uint32(259));
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.eos_token_id") == GgufValue::Uint32(261));
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.eot_token_id") == GgufValue::Uint32(260));
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.add_bos_token") == GgufValue::Bool(true));
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.add_eos_token") == GgufValue::Bool(true));
    // The pair's separator is the old EOS, no longer the EOS: the script writes false.
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.add_sep_token") == GgufValue::Bool(false));
    CHECK(vocab->warnings == std::vector<std::string>{
                                 "Spaces in merges detected, encoding as 'Ġ'",
                                 "Unknown separator token '<|eos|>' in TemplateProcessing<pair>"});
  }
  SECTION("a list of named chat templates is refused") {
    Result<ModelMetadata> vocab = Build(ByteTokenizer(), no_ids, "qwen2",
                                        R"({"chat_template": [{"name": "a", "template": "x"}]})");
    REQUIRE_FALSE(vocab.ok());
    CHECK(vocab.status().code() == Status::Code::kUnsupported);
  }
  SECTION("a negative id is refused") {
    Result<ModelMetadata> vocab = Build(ByteTokenizer(), R"({"architectures": ["Qwen3ForCausalLM"],
        "num_hidden_layers": 1, "num_attention_heads": 1, "pad_token_id": -2})");
    REQUIRE_FALSE(vocab.ok());
    CHECK(vocab.status().message() == "config.json: pad_token_id is -2, must be >= 0");
  }
}

}  // namespace
}  // namespace qtk
