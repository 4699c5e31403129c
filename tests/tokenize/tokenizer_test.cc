// The BPE tokenizer against Hugging Face's `tokenizers` (goldens in
// ../shared/testdata/tokenizers/), and tokenizer.json's parser rule by rule.
#include "qtk/tokenize/tokenizer.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qtk/base/sha256.h"
#include "test_support.h"

namespace qtk {
namespace {

using Json = nlohmann::json;

// Python's str() of a list of ints: "[1, 2, 3]" (llama.cpp hashes it to name pre-tokenizers).
std::string PythonList(const std::vector<int32_t>& ids) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? ", " : "") << ids[i];
  out << ']';
  return out.str();
}

void CheckGoldens(const std::filesystem::path& testdata, const std::string& name) {
  const Json goldens =
      Json::parse(testing::ReadFileText(testdata / "tokenizers" / name / "goldens.json"));
  const std::filesystem::path json_path = testdata / goldens["tokenizer"].get<std::string>();
  Result<Tokenizer> tokenizer =
      Tokenizer::FromJson(testing::ReadFileText(json_path), json_path.string());
  REQUIRE(tokenizer.ok());
  int n_cases = 0;
  int n_wrong = 0;
  for (const Json& c : goldens["cases"]) {
    const std::string text = c["text"].get<std::string>();
    for (bool special : {true, false}) {
      Result<std::vector<int32_t>> ids = tokenizer->Encode(text, special);
      REQUIRE(ids.ok());
      const auto expected =
          c[special ? "ids_with_special" : "ids_without_special"].get<std::vector<int32_t>>();
      if (*ids != expected && ++n_wrong <= 5) {
        INFO(name << " " << c["source"] << " " << c["index"] << (special ? " with" : " without")
                  << " special: " << text);
        CHECK(PythonList(*ids) == PythonList(expected));
      }
      if (special && c["source"] == "chktxt") {
        const std::string list = PythonList(*ids);
        CHECK(Sha256Hex(std::span(reinterpret_cast<const uint8_t*>(list.data()), list.size())) ==
              goldens["chkhsh"].get<std::string>());
      }
    }
    ++n_cases;
  }
  CHECK(n_wrong == 0);
  CHECK(n_cases == goldens["count"].get<int>());
}

TEST_CASE("tokenizer: Llama 3 matches Hugging Face on every golden", "[tokenize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckGoldens(testdata, "llama3");
}

TEST_CASE("tokenizer: Qwen3 matches Hugging Face on every golden", "[tokenize][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckGoldens(testdata, "qwen3");
}

// A tiny byte-level tokenizer: the bytes of "ab c" and two merges.
Json TinyTokenizer() {
  return Json::parse(R"({
    "added_tokens": [{"id": 6, "content": "<s>", "special": true, "normalized": false}],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [6], "tokens": ["<s>"]}}},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "ignore_merges": false,
      "vocab": {"a": 0, "b": 1, "c": 2, "Ġ": 3, "ab": 4, "Ġc": 5},
      "merges": ["a b", ["Ġ", "c"]]}
  })");
}

Result<std::vector<int32_t>> EncodeWith(const Json& json, std::string_view text, bool special) {
  QTK_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::FromJson(json.dump(), "t.json"));
  return tokenizer.Encode(text, special);
}

TEST_CASE("tokenizer: merges in both forms, added tokens, the template", "[tokenize]") {
  const Json json = TinyTokenizer();
  CHECK(EncodeWith(json, "ab c", false).value() == std::vector<int32_t>{4, 5});
  CHECK(EncodeWith(json, "ab c", true).value() == std::vector<int32_t>{6, 4, 5});
  CHECK(EncodeWith(json, "a<s>b", false).value() == std::vector<int32_t>{0, 6, 1});
  CHECK(EncodeWith(json, "", true).value() == std::vector<int32_t>{6});
  Tokenizer tokenizer = Tokenizer::FromJson(json.dump(), "t.json").value();
  CHECK(tokenizer.Piece(5) == "Ġc");
  CHECK(tokenizer.Piece(6) == "<s>");
  CHECK(tokenizer.Piece(99).empty());
  CHECK(tokenizer.n_ids() == 7);
}

TEST_CASE("tokenizer: bad input is refused with the field named", "[tokenize]") {
  struct Case {
    const char* what;
    std::function<void(Json&)> edit;
    Status::Code code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not json", [](Json& j) { j = "x"; }, Status::Code::kCorruption,
       "t.json: top level is not an object"},
      {"wordpiece", [](Json& j) { j["model"]["type"] = "WordPiece"; }, Status::Code::kUnsupported,
       "t.json: model.type: \"WordPiece\" is not supported"},
      {"byte fallback", [](Json& j) { j["model"]["byte_fallback"] = true; },
       Status::Code::kUnsupported, "t.json: model.byte_fallback: true is not supported"},
      {"bad merge", [](Json& j) { j["model"]["merges"][0] = "a b c"; }, Status::Code::kCorruption,
       "t.json: model.merges[0]: expected two pieces separated by one space"},
      {"merge of unknown", [](Json& j) { j["model"]["merges"][0] = "a c"; },
       Status::Code::kCorruption,
       "t.json: model.merges[0]: merge 0 ('a' 'c'): 'ac' is not in the vocabulary"},
      {"duplicate id", [](Json& j) { j["model"]["vocab"]["x"] = 0; }, Status::Code::kCorruption,
       "t.json: model.vocab['x']: id 0 is taken twice"},
      {"negative id", [](Json& j) { j["model"]["vocab"]["x"] = -1; }, Status::Code::kCorruption,
       "t.json: model.vocab['x']: expected an id from 0 to 2^31-1"},
      {"lstrip", [](Json& j) { j["added_tokens"][0]["lstrip"] = true; }, Status::Code::kUnsupported,
       "t.json: added_tokens[0].lstrip: true is not supported"},
      {"added id clash", [](Json& j) { j["added_tokens"][0]["id"] = 0; }, Status::Code::kCorruption,
       "t.json: added_tokens[0]: id 0 is 'a' in the vocabulary"},
      {"normalizer",
       [](Json& j) {
         j["normalizer"] = {{"type", "Lowercase"}};
       },
       Status::Code::kUnsupported, "t.json: normalizer: {\"type\":\"Lowercase\"} is not supported"},
      {"split behaviour",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Split"},
                               {"pattern", {{"Regex", "a"}}},
                               {"behavior", "Removed"},
                               {"invert", false}};
       },
       Status::Code::kUnsupported, "t.json: pre_tokenizer.behavior: \"Removed\" is not supported"},
      {"bad regex",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Split"},
                               {"pattern", {{"Regex", "(a"}}},
                               {"behavior", "Isolated"},
                               {"invert", false}};
       },
       Status::Code::kCorruption,
       "t.json: pre_tokenizer: regex '(a': end pattern with unmatched parenthesis"},
      {"template without token",
       [](Json& j) { j["post_processor"]["special_tokens"] = Json::object(); },
       Status::Code::kCorruption,
       "t.json: post_processor.single[0]: expected a special token listed in special_tokens"},
  };
  for (const Case& c : cases) {
    Json json = TinyTokenizer();
    c.edit(json);
    Result<Tokenizer> tokenizer = Tokenizer::FromJson(json.dump(), "t.json");
    INFO(c.what);
    REQUIRE_FALSE(tokenizer.ok());
    CHECK(tokenizer.status().code() == c.code);
    CHECK(tokenizer.status().message() == c.message);
  }
  Result<Tokenizer> syntax = Tokenizer::FromJson("{\"model\": ", "t.json");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.status().message() == "t.json: offset 11: not valid json");
}

TEST_CASE("tokenizer: text that is not UTF-8 is refused", "[tokenize]") {
  Result<std::vector<int32_t>> ids = EncodeWith(TinyTokenizer(), "a\xff", false);
  REQUIRE_FALSE(ids.ok());
  CHECK(ids.status().message() == "text is not valid utf-8 (byte 1)");
}

}  // namespace
}  // namespace qtk
