// The llama.cpp vocabulary of a tokenizer.model, against llama.cpp's own output.
#include "qtk/convert/sentencepiece.h"

#include <catch2/catch.hpp>

#include "base/protobuf_wire.h"
#include "sentencepiece_support.h"
#include "test_support.h"

namespace qtk {
namespace {

const char* const kPath = "tok.model";

using testing::SentencePieceMessage;
using testing::SmallSentencePieceModel;

TEST_CASE("vocabulary padding, truncation and piece types", "[sentencepiece]") {
  Result<SentencePieceModel> model =
      ParseSentencePieceModel(SmallSentencePieceModel().bytes(), kPath);
  REQUIRE(model.ok());
  SECTION("config vocab_size larger than the model pads with [PAD<id>]") {
    Result<VocabResult> result =
        BuildSentencePieceVocab(*model, {.config_json = R"({"vocab_size": 7})"});
    REQUIRE(result.ok());
    const LlamaVocab& v = result->vocab;
    REQUIRE(v.tokens.size() == 7);
    CHECK(v.tokens[5] == "[PAD5]");
    CHECK(v.tokens[6] == "[PAD6]");
    CHECK(v.scores[6] == -10000.0f);
    CHECK(v.token_types[6] == 5);
    CHECK(v.token_types[4] == 1);  // USER_DEFINED becomes NORMAL
    CHECK(v.token_types[0] == 2);
    CHECK(v.token_types[1] == 3);
  }
  SECTION("config vocab_size smaller than the model drops pieces with a warning") {
    Result<VocabResult> result =
        BuildSentencePieceVocab(*model, {.config_json = R"({"vocab_size": 4})"});
    REQUIRE(result.ok());
    CHECK(result->vocab.tokens.size() == 4);
    REQUIRE(result->warnings.size() == 1);
    CHECK(result->warnings[0] == "ignore tokens from 4: id is out of range, max=3");
  }
  SECTION("no vocab_size: the model's size") {
    Result<VocabResult> result = BuildSentencePieceVocab(*model, {.config_json = "{}"});
    REQUIRE(result.ok());
    CHECK(result->vocab.tokens.size() == 5);
  }
}

TEST_CASE("added tokens, tokenizer_config and special ids", "[sentencepiece]") {
  Result<SentencePieceModel> model =
      ParseSentencePieceModel(SmallSentencePieceModel().bytes(), kPath);
  REQUIRE(model.ok());
  VocabSources sources;
  sources.config_json =
      R"({"vocab_size": 8, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 9,
          "unk_token_id": null, "sep_token_id": [1, 2]})";
  const std::string added = R"({"<extra>": 5, "<far>": 20})";
  const std::string tokenizer_config = R"({
    "add_bos_token": true, "add_eos_token": false, "add_unk_token": true,
    "chat_template": "{{ messages }}",
    "added_tokens_decoder": {
      "6": {"content": "<|im_start|>", "special": false},
      "7": {"content": "\u2581hello", "special": false},
      "2": {"content": "</s>", "special": true}
    }})";
  sources.added_tokens_json = added;
  sources.tokenizer_config_json = tokenizer_config;
  Result<VocabResult> result = BuildSentencePieceVocab(*model, sources);
  REQUIRE(result.ok());
  const LlamaVocab& v = result->vocab;
  CHECK(v.tokens[5] == "<extra>");
  CHECK(v.token_types[5] == 4);
  CHECK(v.scores[5] == -1000.0f);
  CHECK(v.tokens[6] == "<|im_start|>");
  CHECK(v.token_types[6] == 3);  // looks special
  CHECK(v.tokens[7] == " hello");
  CHECK(v.token_types[7] == 4);
  CHECK(v.token_types[2] == 3);
  CHECK(v.scores[2] == -1000.0f);
  const std::vector<std::pair<std::string, uint32_t>> ids = {{"bos", 1}, {"eos", 2}};
  CHECK(result->special.ids == ids);
  // add_unk_token is kept (the script's add_special_token has it) and warned about when written.
  const std::vector<std::pair<std::string, bool>> flags = {
      {"bos", true}, {"eos", false}, {"unk", true}};
  CHECK(result->special.add_flags == flags);
  CHECK(result->special.chat_template == "{{ messages }}");
  CHECK(result->warnings ==
        std::vector<std::string>{"ignore token 20: id is out of range, max=7",
                                 "Special token type pad, id 9 out of range, must be under 8 - "
                                 "skipping",
                                 "No handler for add_unk_token with value True - skipping"});
  const std::vector<GgufKeyValue> metadata = SentencePieceVocabMetadata(*result);
  std::vector<std::string> keys;
  for (const auto& kv : metadata) keys.push_back(kv.key);
  CHECK(keys ==
        std::vector<std::string>{"tokenizer.ggml.model", "tokenizer.ggml.pre",
                                 "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                 "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id",
                                 "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token",
                                 "tokenizer.ggml.add_eos_token", "tokenizer.chat_template"});
}

TEST_CASE("bad JSON and bad special ids are reported", "[sentencepiece]") {
  Result<SentencePieceModel> model =
      ParseSentencePieceModel(SmallSentencePieceModel().bytes(), kPath);
  REQUIRE(model.ok());
  Result<VocabResult> syntax = BuildSentencePieceVocab(*model, {.config_json = "{\"a\": }"});
  REQUIRE_FALSE(syntax.ok());
  CHECK_THAT(syntax.status().message(), Catch::StartsWith("config.json: offset 6 (0x6): json: "));
  Result<VocabResult> negative =
      BuildSentencePieceVocab(*model, {.config_json = R"({"bos_token_id": -1})"});
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.status().message() == "config.json: bos_token_id is -1, must be >= 0");
  Result<VocabResult> size =
      BuildSentencePieceVocab(*model, {.config_json = R"({"vocab_size": "x"})"});
  REQUIRE_FALSE(size.ok());
  CHECK(size.status().message() ==
        "config.json: vocab_size: expected a non-negative integer, got a string \"x\"");
  // Padding to a hostile size would take any amount of memory.
  Result<VocabResult> huge =
      BuildSentencePieceVocab(*model, {.config_json = R"({"vocab_size": 1000000000000})"});
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().message() ==
        "config.json: vocab_size is 1000000000000, more tokens than qtk accepts (16777216)");
}

// The tokenizer.* keys of a reference GGUF, in file order.
std::vector<GgufKeyValue> TokenizerKeys(const GgufFile& file) {
  std::vector<GgufKeyValue> keys;
  for (const GgufKeyValue& kv : file.metadata()) {
    if (kv.key.starts_with("tokenizer.")) keys.push_back(kv);
  }
  return keys;
}

TEST_CASE("tokenizer metadata equals llama.cpp's convert output", "[sentencepiece][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (std::string name : {"synth-a", "stories260K", "stories260K-bf16-sharded"}) {
    INFO(name);
    const auto dir = testdata / "models" / name;
    Result<SentencePieceModel> model = ReadSentencePieceModel((dir / "tokenizer.model").string());
    REQUIRE(model.ok());
    CHECK(model->pieces.size() == 512);
    CHECK(model->trainer_spec.model_type == 2);
    CHECK(model->trainer_spec.byte_fallback);
    const std::string config = testing::ReadFileText(dir / "config.json");
    Result<VocabResult> vocab = BuildSentencePieceVocab(*model, {.config_json = config});
    REQUIRE(vocab.ok());
    CHECK(vocab->warnings.empty());
    const std::vector<GgufKeyValue> ours = SentencePieceVocabMetadata(*vocab);

    const std::string reference_model = name == "synth-a" ? "synth-a" : "stories260K";
    for (std::string type : {"f32", "bf16"}) {
      Result<GgufFile> reference =
          ReadGgufFile((testdata / "reference" / "llama.cpp" / reference_model /
                        (reference_model + "-convert-" + type + ".gguf"))
                           .string());
      REQUIRE(reference.ok());
      const std::vector<GgufKeyValue> theirs = TokenizerKeys(*reference);
      REQUIRE(ours.size() == theirs.size());
      for (size_t i = 0; i < ours.size(); ++i) {
        INFO(theirs[i].key);
        CHECK(ours[i].key == theirs[i].key);
        CHECK(ours[i].value == theirs[i].value);
      }
    }
  }
}

TEST_CASE("tokens, scores and types equal the published stories260K.gguf",
          "[sentencepiece][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  Result<SentencePieceModel> model =
      ReadSentencePieceModel((testdata / "models" / "stories260K" / "tokenizer.model").string());
  REQUIRE(model.ok());
  Result<VocabResult> vocab = BuildSentencePieceVocab(*model, {.config_json = "{}"});
  REQUIRE(vocab.ok());
  Result<GgufFile> published = ReadGgufFile((testdata / "gguf" / "stories260K.gguf").string());
  REQUIRE(published.ok());
  const std::vector<GgufKeyValue> ours = SentencePieceVocabMetadata(*vocab);
  for (std::string key :
       {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    INFO(key);
    const GgufValue* theirs = published->FindValue(key);
    REQUIRE(theirs != nullptr);
    auto it = std::find_if(ours.begin(), ours.end(),
                           [&](const GgufKeyValue& kv) { return kv.key == key; });
    REQUIRE(it != ours.end());
    CHECK(it->value == *theirs);
  }
}

}  // namespace
}  // namespace qtk
