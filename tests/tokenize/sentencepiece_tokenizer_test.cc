// The SentencePiece encoder: stories260K against llama.cpp's ids, and the algorithm's corners
// (merge order, byte fallback, unknown characters, spaces, added tokens) on handmade models.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "qtk/format/gguf.h"
#include "qtk/tokenize/sentencepiece_model.h"
#include "qtk/tokenize/tokenizer.h"
#include "test_support.h"

namespace qtk {
namespace {

using Json = nlohmann::json;

const std::string kSpace = "\xE2\x96\x81";  // "▁"

// llama-perplexity's evaluation ids of text/stories260K-samples.txt: the whole file less one
// trailing newline, encoded once with BOS (add_special) and no special-token parsing; the
// first n_chunk × n_ctx ids are kept (the quality README).
struct EvalTokens {
  std::string text;
  std::vector<int32_t> ids;
};

EvalTokens ReadEvalTokens(const std::filesystem::path& testdata) {
  EvalTokens eval;
  eval.text = testing::ReadFileText(testdata / "text" / "stories260K-samples.txt");
  if (eval.text.ends_with('\n')) eval.text.pop_back();
  const Json json =
      Json::parse(testing::ReadFileText(testdata / "reference" / "llama.cpp" / "stories260K" /
                                        "quality" / "stories260K-eval-tokens.json"));
  eval.ids = json["tokens"].get<std::vector<int32_t>>();
  REQUIRE(eval.ids.size() == json["n_chunk"].get<size_t>() * json["n_ctx"].get<size_t>());
  return eval;
}

// How many of llama.cpp's ids `tokenizer` reproduces, from the start.
size_t MatchingPrefix(const Tokenizer& tokenizer, const EvalTokens& eval) {
  Result<std::vector<int32_t>> ids = tokenizer.Encode(eval.text, /*add_special=*/true);
  REQUIRE(ids.ok());
  REQUIRE(ids->size() >= eval.ids.size());
  size_t n = 0;
  while (n < eval.ids.size() && (*ids)[n] == eval.ids[n]) ++n;
  return n;
}

TEST_CASE("sentencepiece: stories260K's tokenizer.model gives llama.cpp's ids",
          "[tokenize][sentencepiece][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const EvalTokens eval = ReadEvalTokens(testdata);
  Result<Tokenizer> tokenizer = OpenTokenizer((testdata / "models" / "stories260K").string());
  REQUIRE(tokenizer.ok());
  CHECK(MatchingPrefix(*tokenizer, eval) == eval.ids.size());  // 16,256 ids
  CHECK(tokenizer->n_ids() == 512);
}

TEST_CASE("sentencepiece: the published stories260K.gguf gives the same ids",
          "[tokenize][sentencepiece][gguf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const EvalTokens eval = ReadEvalTokens(testdata);
  Result<Tokenizer> tokenizer = OpenTokenizer((testdata / "gguf" / "stories260K.gguf").string());
  REQUIRE(tokenizer.ok());
  CHECK(MatchingPrefix(*tokenizer, eval) == eval.ids.size());
  // And a converted reference file, as llama-perplexity read it.
  Result<Tokenizer> converted = OpenTokenizer(
      (testdata / "reference" / "llama.cpp" / "stories260K" / "stories260K-convert-f32.gguf")
          .string());
  REQUIRE(converted.ok());
  CHECK(MatchingPrefix(*converted, eval) == eval.ids.size());
}

// A handmade BPE model: <unk> <s> </s>, then `pieces` with their scores, then (with
// byte_fallback) the 256 byte pieces.
SentencePieceModel Model(const std::vector<std::pair<std::string, float>>& pieces,
                         bool byte_fallback) {
  SentencePieceModel model;
  model.pieces = {{"<unk>", 0, PieceType::kUnknown},
                  {"<s>", 0, PieceType::kControl},
                  {"</s>", 0, PieceType::kControl}};
  for (const auto& [piece, score] : pieces) model.pieces.push_back({piece, score});
  if (byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      model.pieces.push_back({name, 0, PieceType::kByte});
    }
  }
  model.trainer_spec.model_type = 2;
  model.trainer_spec.byte_fallback = byte_fallback;
  model.normalizer_spec.name = "identity";
  model.normalizer_spec.remove_extra_whitespaces = false;
  // Through the file format, so that the model is one SentencePiece's loader accepts.
  Result<SentencePieceModel> parsed =
      ParseSentencePieceModel(SerializeSentencePieceModel(model), "t.model");
  REQUIRE(parsed.ok());
  return *parsed;
}

std::vector<int32_t> Encode(const SentencePieceModel& model, std::string_view text,
                            bool add_special = false, SentencePieceOptions options = {}) {
  Result<Tokenizer> tokenizer = Tokenizer::FromSentencePiece(model, options, "t.model");
  REQUIRE(tokenizer.ok());
  Result<std::vector<int32_t>> ids = tokenizer->Encode(text, add_special);
  REQUIRE(ids.ok());
  return *ids;
}

TEST_CASE("sentencepiece: the highest score merges first, the leftmost among equals",
          "[tokenize][sentencepiece]") {
  // ids: 3 ▁, 4 a, 5 b, 6 c, 7 ab, 8 bc, 9 ▁a
  const auto model = [](float ab, float bc, float space_a) {
    return Model({{kSpace, -9},
                  {"a", -9},
                  {"b", -9},
                  {"c", -9},
                  {"ab", ab},
                  {"bc", bc},
                  {kSpace + "a", space_a}},
                 false);
  };
  // "▁abc": bc first leaves ▁ a to merge; ab first takes the a from ▁a.
  CHECK(Encode(model(-2, -1, -3), "abc") == std::vector<int32_t>{9, 8});
  CHECK(Encode(model(-1, -2, -3), "abc") == std::vector<int32_t>{3, 7, 6});
  CHECK(Encode(model(-1, -1, -3), "abc") == std::vector<int32_t>{3, 7, 6});  // tie: leftmost
  CHECK(Encode(model(-1, -1, -1), "abc") == std::vector<int32_t>{9, 8});     // ▁a is leftmost
}

TEST_CASE("sentencepiece: characters without a piece fall back to bytes, else unknown",
          "[tokenize][sentencepiece]") {
  const auto with_bytes = Model({{kSpace, -1}, {"a", -2}}, true);
  // "é" is C3 A9: pieces 3 + 3 + 0xC3 and 3 + 3 + 0xA9 (after <unk> <s> </s> ▁ a).
  CHECK(Encode(with_bytes, "a\xC3\xA9") == std::vector<int32_t>{3, 4, 5 + 0xC3, 5 + 0xA9});
  const auto without_bytes = Model({{kSpace, -1}, {"a", -2}}, false);
  // One unknown per character, as SentencePiece gives it (llama.cpp would throw here).
  CHECK(Encode(without_bytes,
               "a\xC3\xA9"
               "a") == std::vector<int32_t>{3, 4, 0, 4});
  // A character spelled by a one-byte piece of its own (llama.cpp's second byte fallback).
  const auto raw_byte = Model({{kSpace, -1}, {"\n", -2}}, false);
  CHECK(Encode(raw_byte, "\n") == std::vector<int32_t>{3, 4});
}

TEST_CASE("sentencepiece: empty text, leading and repeated spaces, the dummy prefix",
          "[tokenize][sentencepiece]") {
  // ids: 3 ▁, 4 a, 5 ▁a, 6 ▁▁
  const auto model =
      Model({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}, {kSpace + kSpace, -2}}, false);
  CHECK(Encode(model, "", false).empty());
  CHECK(Encode(model, "", true) == std::vector<int32_t>{1});
  CHECK(Encode(model, "a", true) == std::vector<int32_t>{1, 5});
  // "  a" is "▁▁▁a" with the dummy prefix: ▁a (-1) before ▁▁ (-2).
  CHECK(Encode(model, "  a") == std::vector<int32_t>{6, 5});
  CHECK(Encode(model, "a  a") == std::vector<int32_t>{5, 3, 5});
  CHECK(Encode(model, "a ") == std::vector<int32_t>{5, 3});
  SentencePieceModel no_prefix = model;
  no_prefix.normalizer_spec.add_dummy_prefix = false;
  CHECK(Encode(no_prefix, "a a") == std::vector<int32_t>{4, 5});
}

TEST_CASE("sentencepiece: control and user-defined pieces are cut out first, BOS and EOS",
          "[tokenize][sentencepiece]") {
  auto model = Model({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}}, false);
  model.pieces.push_back({"<x>", 0, PieceType::kUserDefined});  // id 6
  CHECK(Encode(model, "a</s>a<x>") == std::vector<int32_t>{5, 2, 5, 6});
  CHECK(Encode(model, "<s>a", true) == std::vector<int32_t>{1, 1, 5});
  CHECK(Encode(model, "a", true, {.add_bos = false, .add_eos = true}) ==
        std::vector<int32_t>{5, 2});
  Result<Tokenizer> tokenizer = Tokenizer::FromSentencePiece(model, {}, "t.model");
  REQUIRE(tokenizer.ok());
  CHECK(tokenizer->Piece(5) == kSpace + "a");
  CHECK(tokenizer->Piece(7).empty());
  CHECK(tokenizer->n_ids() == 7);
}

TEST_CASE("sentencepiece: models llama.cpp and SentencePiece disagree on are refused",
          "[tokenize][sentencepiece]") {
  const SentencePieceModel good = Model({{kSpace, -1}}, false);
  struct Case {
    const char* what;
    std::function<void(SentencePieceModel&)> edit;
    SentencePieceOptions options;
    Status::Code code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unigram",
       [](SentencePieceModel& m) { m.trainer_spec.model_type = 1; },
       {},
       Status::Code::kUnsupported,
       "t.model: trainer_spec.model_type is 1 (UNIGRAM): only BPE models are encoded"},
      {"normalizer",
       [](SentencePieceModel& m) { m.normalizer_spec.name = "nmt_nfkc"; },
       {},
       Status::Code::kUnsupported,
       "t.model: normalizer_spec.name is 'nmt_nfkc': only 'identity' is encoded (llama.cpp "
       "normalizes nothing)"},
      {"extra whitespace",
       [](SentencePieceModel& m) { m.normalizer_spec.remove_extra_whitespaces = true; },
       {},
       Status::Code::kUnsupported,
       "t.model: normalizer_spec.remove_extra_whitespaces is true: not encoded (llama.cpp keeps "
       "every space)"},
      {"no BOS",
       [](SentencePieceModel& m) { m.trainer_spec.bos_id = -1; },
       {},
       Status::Code::kCorruption,
       "t.model: trainer_spec.bos_id is -1, not one of the 4 pieces, but add_bos_token is true"},
      {"no EOS",
       [](SentencePieceModel& m) { m.trainer_spec.eos_id = 9; },
       {.add_bos = true, .add_eos = true},
       Status::Code::kCorruption,
       "t.model: trainer_spec.eos_id is 9, not one of the 4 pieces, but add_eos_token is true"},
      {"no pieces (a model built in memory, not parsed)",
       [](SentencePieceModel& m) { m.pieces.clear(); },
       {.add_bos = false},
       Status::Code::kCorruption,
       "t.model: pieces: no pieces"},
      {"a piece twice (a normal and a control piece may share text in SentencePiece)",
       [](SentencePieceModel& m) {
         m.pieces.push_back({"<s>", 0, PieceType::kNormal});
       },
       {},
       Status::Code::kCorruption,
       "t.model: pieces[4]: '<s>' is also piece 1"},
  };
  for (const Case& c : cases) {
    SentencePieceModel model = good;
    c.edit(model);
    Result<Tokenizer> tokenizer = Tokenizer::FromSentencePiece(model, c.options, "t.model");
    INFO(c.what);
    REQUIRE_FALSE(tokenizer.ok());
    CHECK(tokenizer.status().code() == c.code);
    CHECK(tokenizer.status().message() == c.message);
  }
  // Without BOS to add, a model without a BOS piece is fine.
  SentencePieceModel no_bos = good;
  no_bos.trainer_spec.bos_id = -1;
  CHECK(Tokenizer::FromSentencePiece(no_bos, {.add_bos = false}, "t.model").ok());
}

TEST_CASE("sentencepiece: OpenTokenizer reads tokenizer_config.json and refuses bad files",
          "[tokenize][sentencepiece]") {
  testing::TempDir dir;
  const SentencePieceModel model = Model({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}}, false);
  testing::WriteFileBytes(dir / "tokenizer.model", SerializeSentencePieceModel(model));
  CHECK(OpenTokenizer(dir.path().string())->Encode("a", true).value() ==
        std::vector<int32_t>{1, 5});
  const auto write_config = [&](const std::string& text) {
    testing::WriteFileBytes(dir / "tokenizer_config.json",
                            std::vector<uint8_t>(text.begin(), text.end()));
  };
  write_config(R"({"add_bos_token": false, "add_eos_token": true, "legacy": false})");
  CHECK(OpenTokenizer(dir.path().string())->Encode("a", true).value() ==
        std::vector<int32_t>{5, 2});
  write_config(R"({"add_bos_token": null})");
  CHECK(OpenTokenizer(dir.path().string())->Encode("a", true).value() ==
        std::vector<int32_t>{1, 5});
  write_config(R"({"add_bos_token": "yes"})");
  Result<Tokenizer> bad_config = OpenTokenizer(dir.path().string());
  REQUIRE_FALSE(bad_config.ok());
  CHECK(bad_config.status().message() == (dir / "tokenizer_config.json").string() +
                                             ": add_bos_token: expected true or false, got a "
                                             "string \"yes\"");
  // A tokenizer.model given as a file; then one cut short.
  std::filesystem::remove(dir / "tokenizer_config.json");
  CHECK(OpenTokenizer((dir / "tokenizer.model").string()).ok());
  std::vector<uint8_t> bytes = SerializeSentencePieceModel(model);
  bytes.resize(bytes.size() - 3);
  testing::WriteFileBytes(dir / "tokenizer.model", bytes);
  Result<Tokenizer> corrupt = OpenTokenizer(dir.path().string());
  REQUIRE_FALSE(corrupt.ok());
  CHECK(corrupt.status().code() == Status::Code::kCorruption);
  CHECK_THAT(corrupt.status().message(),
             Catch::StartsWith((dir / "tokenizer.model").string() + ": offset "));
}

TEST_CASE("sentencepiece: a tokenizer.json this encoder refuses gives way to tokenizer.model",
          "[tokenize][sentencepiece]") {
  testing::TempDir dir;
  const SentencePieceModel model = Model({{kSpace, -5}, {"a", -5}, {kSpace + "a", -1}}, false);
  testing::WriteFileBytes(dir / "tokenizer.model", SerializeSentencePieceModel(model));
  // Llama 2's tokenizer.json: BPE with byte_fallback, which the byte-level encoder refuses.
  const std::string json =
      R"({"model": {"type": "BPE", "byte_fallback": true, "vocab": {}, "merges": []}})";
  testing::WriteFileBytes(dir / "tokenizer.json", std::vector<uint8_t>(json.begin(), json.end()));
  CHECK(OpenTokenizer(dir.path().string())->Encode("a", true).value() ==
        std::vector<int32_t>{1, 5});
  // Without the tokenizer.model the refusal stands.
  std::filesystem::remove(dir / "tokenizer.model");
  Result<Tokenizer> refused = OpenTokenizer(dir.path().string());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kUnsupported);
}

}  // namespace
}  // namespace qtk
