// Tokenizers read from a GGUF vocabulary: "gpt2" (byte-level BPE) against Hugging Face's
// goldens, "llama" (SentencePiece) against llama.cpp's ids, and every refusal by its message.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "qtk/base/byte_source.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/tokenize/tokenizer.h"
#include "test_support.h"

namespace qtk {
namespace {

using Json = nlohmann::json;

// A GGUF file holding only `metadata`, parsed from memory as "v.gguf".
GgufFile GgufOf(const std::vector<GgufKeyValue>& metadata) {
  Result<GgufLayout> layout = LayOutGguf(metadata, {});
  REQUIRE(layout.ok());
  Result<GgufFile> file = ParseGguf(MemorySource("v.gguf", SerializeGgufHeader(metadata, *layout)));
  REQUIRE(file.ok());
  return std::move(file).value();
}

Result<Tokenizer> TokenizerOf(const std::vector<GgufKeyValue>& metadata) {
  return Tokenizer::FromGguf(GgufOf(metadata));
}

GgufValue Int32s(const std::vector<int32_t>& values) {
  return GgufValue::ArrayOf<int32_t>(GgufValueType::kInt32, std::span<const int32_t>(values));
}

GgufValue Floats(const std::vector<float>& values) {
  return GgufValue::ArrayOf<float>(GgufValueType::kFloat32, std::span<const float>(values));
}

// The tokenizer.* keys convert_hf_to_gguf.py writes for a byte-level BPE tokenizer.json:
// tokens by id (added tokens included, gaps filled with [PAD<id>] of type UNUSED), token
// types (added special CONTROL, other added USER_DEFINED, the rest NORMAL), merges as "a b".
std::vector<GgufKeyValue> Gpt2Vocab(const std::filesystem::path& tokenizer_json,
                                    const std::string& pre, bool add_bos, uint32_t bos_id) {
  const Json json = Json::parse(testing::ReadFileText(tokenizer_json));
  std::map<int32_t, std::pair<std::string, int32_t>> by_id;  // id -> (token, type)
  for (const auto& [piece, id] : json["model"]["vocab"].items()) {
    by_id[id.get<int32_t>()] = {piece, 1};
  }
  for (const Json& added : json["added_tokens"]) {
    by_id[added["id"].get<int32_t>()] = {added["content"].get<std::string>(),
                                         added["special"].get<bool>() ? 3 : 4};
  }
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int32_t id = 0; id <= by_id.rbegin()->first; ++id) {
    auto it = by_id.find(id);
    tokens.push_back(it == by_id.end() ? "[PAD" + std::to_string(id) + "]" : it->second.first);
    types.push_back(it == by_id.end() ? 5 : it->second.second);
  }
  std::vector<std::string> merges;
  for (const Json& merge : json["model"]["merges"]) {
    merges.push_back(merge.is_string()
                         ? merge.get<std::string>()
                         : merge[0].get<std::string>() + " " + merge[1].get<std::string>());
  }
  return {{"tokenizer.ggml.model", GgufValue::String("gpt2")},
          {"tokenizer.ggml.pre", GgufValue::String(pre)},
          {"tokenizer.ggml.tokens", GgufValue::StringArray(tokens)},
          {"tokenizer.ggml.token_type", Int32s(types)},
          {"tokenizer.ggml.merges", GgufValue::StringArray(merges)},
          {"tokenizer.ggml.bos_token_id", GgufValue::Uint32(bos_id)},
          {"tokenizer.ggml.add_bos_token", GgufValue::Bool(add_bos)}};
}

struct GoldenCount {
  int n_cases = 0;
  std::vector<std::string> different;  // "<source> <index>" of the cases whose ids differ
};

// Encodes every golden case with `gguf` and compares with Hugging Face's ids. Every case must
// also equal `reference`, the tokenizer.json tokenizer with the normalizer taken out: the one
// difference between llama.cpp's gpt2 encoding and Hugging Face's is that llama.cpp does not
// normalize.
GoldenCount CompareWithGoldens(const std::filesystem::path& testdata, const std::string& name,
                               const Tokenizer& gguf) {
  const Json goldens =
      Json::parse(testing::ReadFileText(testdata / "tokenizers" / name / "goldens.json"));
  Json json =
      Json::parse(testing::ReadFileText(testdata / goldens["tokenizer"].get<std::string>()));
  json["normalizer"] = nullptr;
  Result<Tokenizer> reference = Tokenizer::FromJson(json.dump(), "tokenizer.json");
  REQUIRE(reference.ok());
  GoldenCount count;
  for (const Json& c : goldens["cases"]) {
    const std::string text = c["text"].get<std::string>();
    bool differs = false;
    for (bool special : {true, false}) {
      Result<std::vector<int32_t>> ids = gguf.Encode(text, special);
      REQUIRE(ids.ok());
      INFO(name << " " << c["source"] << " " << c["index"] << ": " << text);
      CHECK(*ids == reference->Encode(text, special).value());
      const auto expected =
          c[special ? "ids_with_special" : "ids_without_special"].get<std::vector<int32_t>>();
      differs = differs || *ids != expected;
    }
    if (differs) {
      count.different.push_back(c["source"].get<std::string>() + " " + c["index"].dump());
    }
    ++count.n_cases;
  }
  CHECK(count.n_cases == goldens["count"].get<int>());
  return count;
}

TEST_CASE("gguf tokenizer: Llama 3 (llama-bpe) matches Hugging Face on every golden",
          "[tokenize][gguf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  Result<Tokenizer> tokenizer = TokenizerOf(Gpt2Vocab(
      testdata / "models" / "Llama-3-synth" / "tokenizer.json", "llama-bpe", true, 128000));
  REQUIRE(tokenizer.ok());
  const GoldenCount count = CompareWithGoldens(testdata, "llama3", *tokenizer);
  CHECK(count.n_cases == 301);
  CHECK(count.different.empty());
}

// Qwen's tokenizer.json normalizes to NFC; llama.cpp does not normalize, so on text that NFC
// changes its ids differ from Hugging Face's. The goldens hold eight such texts: "é" with a
// combining accent (ggml-vocab-inp 46, 47, 48: "é", "résumé", thirty "à"), and hard 35-39
// (decomposed é, U+212B ANGSTROM SIGN, U+2126 OHM SIGN and U+212A KELVIN SIGN, conjoining
// jamo, Zalgo text). Exactly those differ; CompareWithGoldens has checked that every case,
// those included, equals Hugging Face's encoding without the normalizer.
TEST_CASE("gguf tokenizer: Qwen3 (qwen2) matches Hugging Face but for NFC",
          "[tokenize][gguf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  Result<Tokenizer> tokenizer = TokenizerOf(
      Gpt2Vocab(testdata / "models" / "synth-qwen3" / "tokenizer.json", "qwen2", false, 151643));
  REQUIRE(tokenizer.ok());
  const GoldenCount count = CompareWithGoldens(testdata, "qwen3", *tokenizer);
  CHECK(count.n_cases == 301);
  CHECK(count.different == std::vector<std::string>{"ggml-vocab-inp 46", "ggml-vocab-inp 47",
                                                    "ggml-vocab-inp 48", "hard 35", "hard 36",
                                                    "hard 37", "hard 38", "hard 39"});
}

// A small "llama" vocabulary: <unk> <s> </s> ▁ a b ▁a ab.
std::vector<GgufKeyValue> LlamaVocab() {
  return {{"tokenizer.ggml.model", GgufValue::String("llama")},
          {"tokenizer.ggml.tokens",
           GgufValue::StringArray({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b",
                                   "\xE2\x96\x81"
                                   "a",
                                   "ab"})},
          {"tokenizer.ggml.scores", Floats({0, 0, 0, -3, -4, -5, -1, -2})},
          {"tokenizer.ggml.token_type", Int32s({2, 3, 3, 1, 1, 1, 1, 1})}};
}

// A small "gpt2" vocabulary: a b ab Ġ <|end|>, one merge.
std::vector<GgufKeyValue> Gpt2SmallVocab() {
  return {
      {"tokenizer.ggml.model", GgufValue::String("gpt2")},
      {"tokenizer.ggml.pre", GgufValue::String("qwen2")},
      {"tokenizer.ggml.tokens", GgufValue::StringArray({"a", "b", "ab", "\xC4\xA0", "<|end|>"})},
      {"tokenizer.ggml.token_type", Int32s({1, 1, 1, 1, 3})},
      {"tokenizer.ggml.merges", GgufValue::StringArray({"a b"})}};
}

void Set(std::vector<GgufKeyValue>& metadata, const std::string& key, GgufValue value) {
  for (GgufKeyValue& kv : metadata) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata.push_back({key, std::move(value)});
}

void Remove(std::vector<GgufKeyValue>& metadata, const std::string& key) {
  std::erase_if(metadata, [&](const GgufKeyValue& kv) { return kv.key == key; });
}

std::vector<int32_t> Ids(const Tokenizer& tokenizer, std::string_view text, bool special) {
  Result<std::vector<int32_t>> ids = tokenizer.Encode(text, special);
  REQUIRE(ids.ok());
  return *ids;
}

TEST_CASE("gguf tokenizer: a llama vocabulary merges by score, with llama.cpp's defaults",
          "[tokenize][gguf]") {
  std::vector<GgufKeyValue> metadata = LlamaVocab();
  Tokenizer tokenizer = TokenizerOf(metadata).value();
  // "▁ab▁a": ▁a (-1) merges twice before ab (-2) can, which then has no a left.
  CHECK(Ids(tokenizer, "ab a", true) == std::vector<int32_t>{1, 6, 5, 6});
  CHECK(Ids(tokenizer, "ab a", false) == std::vector<int32_t>{6, 5, 6});
  CHECK(Ids(tokenizer, "", true) == std::vector<int32_t>{1});
  // Control tokens are cut out first, and the text after them gets the dummy prefix again.
  CHECK(Ids(tokenizer, "a</s>a", false) == std::vector<int32_t>{6, 2, 6});
  CHECK(tokenizer.Piece(6) ==
        "\xE2\x96\x81"
        "a");
  CHECK(tokenizer.n_ids() == 8);
  // Integer scores are read too (llama.cpp accepts i32): ab (-1) now beats ▁a (-2).
  Set(metadata, "tokenizer.ggml.scores", Int32s({0, 0, 0, -3, -4, -5, -2, -1}));
  Set(metadata, "tokenizer.ggml.add_space_prefix", GgufValue::Bool(false));
  Set(metadata, "tokenizer.ggml.add_bos_token", GgufValue::Bool(false));
  Set(metadata, "tokenizer.ggml.add_eos_token", GgufValue::Bool(true));
  Tokenizer changed = TokenizerOf(metadata).value();
  CHECK(Ids(changed, "ab a", true) == std::vector<int32_t>{7, 6, 2});
}

TEST_CASE("gguf tokenizer: a gpt2 vocabulary splits, byte-encodes and merges", "[tokenize][gguf]") {
  Tokenizer tokenizer = TokenizerOf(Gpt2SmallVocab()).value();
  CHECK(Ids(tokenizer, "ab<|end|> a", true) == std::vector<int32_t>{2, 4, 3, 0});
  std::vector<GgufKeyValue> metadata = Gpt2SmallVocab();
  Set(metadata, "tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
  Set(metadata, "tokenizer.ggml.bos_token_id", GgufValue::Uint32(4));
  CHECK(Ids(TokenizerOf(metadata).value(), "ab", true) == std::vector<int32_t>{4, 2});
  CHECK(Ids(TokenizerOf(metadata).value(), "ab", false) == std::vector<int32_t>{2});
}

TEST_CASE("gguf tokenizer: bad vocabularies are refused in one line naming the key",
          "[tokenize][gguf]") {
  struct Case {
    const char* what;
    std::vector<GgufKeyValue> base;
    std::function<void(std::vector<GgufKeyValue>&)> edit;
    Status::Code code;
    std::string message;
  };
  using M = std::vector<GgufKeyValue>&;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases = {
      {"no model", LlamaVocab(), [](M m) { Remove(m, "tokenizer.ggml.model"); },
       Status::Code::kNotFound, "v.gguf: no vocabulary (tokenizer.ggml.model is absent)"},
      {"other model", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.model", GgufValue::String("bert")); },
       Status::Code::kUnsupported,
       "v.gguf: tokenizer.ggml.model is 'bert': qtk encodes 'llama' (SentencePiece) and 'gpt2' "
       "(BPE)"},
      {"model not a string", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.model", GgufValue::Uint32(1)); }, Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.model: expected a string, got a u32"},
      {"no tokens", LlamaVocab(), [](M m) { Remove(m, "tokenizer.ggml.tokens"); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.tokens: absent (the file has no token list)"},
      {"tokens not strings", LlamaVocab(),
       [](M m) {
         Set(m, "tokenizer.ggml.tokens", Int32s({1, 2}));
       },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.tokens: expected an array of str, got an array of i32"},
      {"no tokens at all", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.tokens", GgufValue::StringArray({})); },
       Status::Code::kCorruption, "v.gguf: tokenizer.ggml.tokens: empty"},
      {"duplicate token", LlamaVocab(),
       [](M m) {
         Set(m, "tokenizer.ggml.tokens",
             GgufValue::StringArray({"<unk>", "<s>", "</s>", "a", "b", "a", "c", "d"}));
       },
       Status::Code::kCorruption, "v.gguf: tokenizer.ggml.tokens[5]: 'a' is also token 3"},
      {"short scores", LlamaVocab(),
       [](M m) {
         Set(m, "tokenizer.ggml.scores", Floats({0, 0, 0}));
       },
       Status::Code::kCorruption, "v.gguf: tokenizer.ggml.scores: 3 entries for 8 tokens"},
      {"scores of the wrong type", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.scores", GgufValue::StringArray({"0"})); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.scores: expected an array of f32 or i32, got an array of str"},
      {"NaN score", LlamaVocab(),
       [nan](M m) {
         Set(m, "tokenizer.ggml.scores", Floats({0, 0, 0, nan, 0, 0, 0, 0}));
       },
       Status::Code::kCorruption, "v.gguf: tokenizer.ggml.tokens[3]: score is NaN"},
      {"short token types", LlamaVocab(),
       [](M m) {
         Set(m, "tokenizer.ggml.token_type", Int32s({2, 3}));
       },
       Status::Code::kCorruption, "v.gguf: tokenizer.ggml.token_type: 2 entries for 8 tokens"},
      {"token types of the wrong type", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.token_type", Floats({1})); }, Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.token_type: expected an array of i32, got an array of f32"},
      {"bos out of range", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.bos_token_id", GgufValue::Uint32(600)); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.bos_token_id: 600 is not a token id (the vocabulary has 8)"},
      {"unknown id not an integer", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.unknown_token_id", GgufValue::String("0")); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.unknown_token_id: expected a token id, got a str"},
      {"add_bos not a bool", LlamaVocab(),
       [](M m) { Set(m, "tokenizer.ggml.add_bos_token", GgufValue::Uint8(1)); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.add_bos_token: expected a bool, got a u8"},
      {"no merges", Gpt2SmallVocab(), [](M m) { Remove(m, "tokenizer.ggml.merges"); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.merges: absent (a gpt2 vocabulary needs its merges)"},
      {"merge of an unknown token", Gpt2SmallVocab(),
       [](M m) {
         Set(m, "tokenizer.ggml.merges", GgufValue::StringArray({"a b", "b c"}));
       },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.merges[1]: merge 1 ('b' 'c'): 'c' is not in the vocabulary"},
      {"merge without a space", Gpt2SmallVocab(),
       [](M m) { Set(m, "tokenizer.ggml.merges", GgufValue::StringArray({"ab"})); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.merges[0]: 'ab' is not two tokens separated by a space"},
      {"other pre-tokenizer", Gpt2SmallVocab(),
       [](M m) { Set(m, "tokenizer.ggml.pre", GgufValue::String("falcon")); },
       Status::Code::kUnsupported,
       "v.gguf: tokenizer.ggml.pre is 'falcon': qtk encodes 'llama-bpe' and 'qwen2'"},
      {"no pre-tokenizer", Gpt2SmallVocab(), [](M m) { Remove(m, "tokenizer.ggml.pre"); },
       Status::Code::kUnsupported,
       "v.gguf: tokenizer.ggml.pre is absent: qtk does not implement llama.cpp's fallback "
       "'default' pre-tokenizer"},
      {"BOS to add but none", Gpt2SmallVocab(),
       [](M m) { Set(m, "tokenizer.ggml.add_bos_token", GgufValue::Bool(true)); },
       Status::Code::kCorruption,
       "v.gguf: tokenizer.ggml.add_bos_token: true, but tokenizer.ggml.bos_token_id is absent "
       "and its default 11 is not a token id"},
  };
  for (const Case& c : cases) {
    std::vector<GgufKeyValue> metadata = c.base;
    c.edit(metadata);
    Result<Tokenizer> tokenizer = TokenizerOf(metadata);
    INFO(c.what);
    REQUIRE_FALSE(tokenizer.ok());
    CHECK(tokenizer.status().code() == c.code);
    CHECK(tokenizer.status().message() == c.message);
  }
}

}  // namespace
}  // namespace qtk
