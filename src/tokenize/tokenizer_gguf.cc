// A tokenizer from a GGUF file's tokenizer.* metadata, read as llama.cpp's llama_vocab::load
// reads it (llama-vocab.cpp), for the two vocabulary types qtk encodes:
//   "llama": SentencePiece (tokens, scores, token_type; add_space_prefix, default true);
//            defaults bos 1, eos 2, unknown 0, add_bos true, add_eos false;
//   "gpt2":  byte-level BPE (tokens, merges "a b" by rank, token_type) pre-tokenized by the
//            regex of tokenizer.ggml.pre; defaults bos 11, eos 11, add_bos true for
//            "llama-bpe" and false for "qwen2", add_eos false.
// Tokens of type UNKNOWN, CONTROL and USER_DEFINED are matched in the text as added tokens.
// llama.cpp's rules kept: scores may be f32 or i32, and arrays longer than the token list
// are read only as far as it goes; an empty token is called "[EMPTY_<id>]"; a duplicate token
// is refused. Where llama.cpp only warns, qtk refuses: a special-token id out of range, a
// merge whose tokens are not in the vocabulary, a missing or unknown pre-tokenizer.
#include <initializer_list>
#include <limits>
#include <optional>
#include <unordered_map>

#include "base/string_util.h"
#include "tokenize/byte_level.h"
#include "tokenize/tokenizer_data.h"

namespace qtk {
namespace {

// A tokenizer.ggml.pre value qtk implements: the Split regex of the Hugging Face
// tokenizer.json of that family (llama.cpp's llm_tokenizer_bpe runs a hand-adapted copy of
// the same expression), and the settings llama.cpp gives it.
struct PreTokenizer {
  std::string_view name;
  std::string_view regex;
  bool ignore_merges;
  bool default_add_bos;
};

constexpr PreTokenizer kPreTokenizers[] = {
    // Llama 3, 3.1, 3.2, 3.3: digits in groups of up to three.
    {"llama-bpe",
     R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     true, true},
    // Qwen2, 2.5, 3: single digits.
    {"qwen2",
     R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     false, false},
};

// "an array of i32", "a str", for messages.
std::string Describe(const GgufValue& value) {
  if (value.is_array()) {
    return "an array of " + std::string(GgufValueTypeName(value.element_type()));
  }
  return "a " + std::string(GgufValueTypeName(value.type()));
}

// Reads the tokenizer.* keys of one file. Messages read "<path>: <key>: <problem>".
class GgufVocabReader {
 public:
  explicit GgufVocabReader(const GgufFile& file) : file_(file), path_(file.path()) {}

  Result<std::unique_ptr<TokenizerData>> Read() {
    const GgufValue* model = file_.FindValue("tokenizer.ggml.model");
    if (model == nullptr) {
      return Status::NotFound(path_ + ": no vocabulary (tokenizer.ggml.model is absent)");
    }
    if (model->AsString() == nullptr) {
      return Wrong("tokenizer.ggml.model", "a string", *model);
    }
    const std::string& kind = *model->AsString();
    if (kind != "llama" && kind != "gpt2") {
      return Status::Unsupported(path_ + ": tokenizer.ggml.model is '" + Printable(kind) +
                                 "': qtk encodes 'llama' (SentencePiece) and 'gpt2' (BPE)");
    }
    QTK_RETURN_IF_ERROR(ReadTokens());
    QTK_RETURN_IF_ERROR(ReadTokenTypes());
    return kind == "llama" ? ReadSentencePiece() : ReadByteLevelBpe();
  }

 private:
  Status Error(std::string_view key, const std::string& problem) const {
    return Status::Corruption(path_ + ": " + std::string(key) + ": " + problem);
  }
  Status Wrong(std::string_view key, std::string_view expected, const GgufValue& value) const {
    return Error(key, "expected " + std::string(expected) + ", got " + Describe(value));
  }
  // An array of at least n_tokens() elements of one of `types`; nullptr when absent.
  Result<const GgufValue*> TokenArray(std::string_view key,
                                      std::initializer_list<GgufValueType> types,
                                      std::string_view expected) const {
    const GgufValue* value = file_.FindValue(key);
    if (value == nullptr) return value;
    bool typed = false;
    for (GgufValueType type : types) typed = typed || value->element_type() == type;
    if (!value->is_array() || !typed) return Wrong(key, expected, *value);
    if (value->array_size() < n_tokens()) {
      return Error(key, std::to_string(value->array_size()) + " entries for " +
                            std::to_string(n_tokens()) + " tokens");
    }
    return value;
  }
  // A bool key, or `fallback` when absent.
  Result<bool> Flag(std::string_view key, bool fallback) const {
    const GgufValue* value = file_.FindValue(key);
    if (value == nullptr) return fallback;
    if (!value->AsBool()) return Wrong(key, "a bool", *value);
    return *value->AsBool();
  }
  // A token id key: absent → `fallback` (if it is a token id), present → must be one.
  Result<std::optional<int32_t>> TokenId(std::string_view key, int32_t fallback) const {
    const GgufValue* value = file_.FindValue(key);
    if (value == nullptr) {
      const bool in_range = fallback >= 0 && static_cast<size_t>(fallback) < n_tokens();
      return in_range ? std::optional<int32_t>(fallback) : std::nullopt;
    }
    const std::optional<uint64_t> id = value->AsUint();
    if (!id) return Wrong(key, "a token id", *value);
    if (*id >= n_tokens()) {
      return Error(key, std::to_string(*id) + " is not a token id (the vocabulary has " +
                            std::to_string(n_tokens()) + ")");
    }
    return std::optional<int32_t>(static_cast<int32_t>(*id));
  }
  // The id to add when `add_key` says so (llama.cpp's check_add_special_token).
  Result<std::optional<int32_t>> AddedId(std::string_view add_key, bool add_default,
                                         std::string_view id_key, int32_t id_default) const {
    QTK_ASSIGN_OR_RETURN(const bool add, Flag(add_key, add_default));
    QTK_ASSIGN_OR_RETURN(const std::optional<int32_t> id, TokenId(id_key, id_default));
    if (!add) return std::optional<int32_t>();
    if (!id) {
      return Error(add_key, "true, but " + std::string(id_key) + " is absent and its default " +
                                std::to_string(id_default) + " is not a token id");
    }
    return id;
  }

  size_t n_tokens() const { return tokens_.size(); }

  Status ReadTokens() {
    constexpr std::string_view kKey = "tokenizer.ggml.tokens";
    const GgufValue* value = file_.FindValue(kKey);
    if (value == nullptr) return Error(kKey, "absent (the file has no token list)");
    if (!value->is_array() || value->element_type() != GgufValueType::kString) {
      return Wrong(kKey, "an array of str", *value);
    }
    if (value->array_size() == 0) return Error(kKey, "empty");
    if (value->array_size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return Error(kKey, std::to_string(value->array_size()) + " tokens, more than ids hold");
    }
    tokens_ = value->strings();
    std::unordered_map<std::string_view, size_t> ids;
    for (size_t id = 0; id < tokens_.size(); ++id) {
      if (tokens_[id].empty()) tokens_[id] = "[EMPTY_" + std::to_string(id) + "]";
      const auto [it, added] = ids.emplace(tokens_[id], id);
      if (!added) {
        return Error(
            std::string(kKey) + "[" + std::to_string(id) + "]",
            "'" + Printable(tokens_[id]) + "' is also token " + std::to_string(it->second));
      }
    }
    return Status::Ok();
  }

  Status ReadTokenTypes() {
    QTK_ASSIGN_OR_RETURN(
        const GgufValue* value,
        TokenArray("tokenizer.ggml.token_type", {GgufValueType::kInt32}, "an array of i32"));
    types_.assign(n_tokens(), static_cast<int32_t>(PieceType::kNormal));
    if (value != nullptr) {
      for (size_t i = 0; i < n_tokens(); ++i) types_[i] = value->Element<int32_t>(i);
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<TokenizerData>> ReadSentencePiece() {
    QTK_ASSIGN_OR_RETURN(
        const GgufValue* scores,
        TokenArray("tokenizer.ggml.scores", {GgufValueType::kFloat32, GgufValueType::kInt32},
                   "an array of f32 or i32"));
    std::vector<float> score_values(n_tokens(), 0.0f);
    if (scores != nullptr) {
      for (size_t i = 0; i < n_tokens(); ++i) {
        score_values[i] = scores->element_type() == GgufValueType::kFloat32
                              ? scores->Element<float>(i)
                              : static_cast<float>(scores->Element<int32_t>(i));
      }
    }
    SpmVocabView vocab;
    vocab.pieces = tokens_;
    vocab.scores = score_values;
    vocab.types = types_;
    QTK_ASSIGN_OR_RETURN(const std::optional<int32_t> unknown,
                         TokenId("tokenizer.ggml.unknown_token_id", 0));
    vocab.unknown_id = unknown.value_or(0);
    QTK_ASSIGN_OR_RETURN(
        vocab.bos, AddedId("tokenizer.ggml.add_bos_token", true, "tokenizer.ggml.bos_token_id", 1));
    QTK_ASSIGN_OR_RETURN(vocab.eos, AddedId("tokenizer.ggml.add_eos_token", false,
                                            "tokenizer.ggml.eos_token_id", 2));
    QTK_ASSIGN_OR_RETURN(vocab.dummy_prefix, Flag("tokenizer.ggml.add_space_prefix", true));
    return BuildSentencePieceData(vocab, path_ + ": tokenizer.ggml.tokens");
  }

  Result<const PreTokenizer*> FindPreTokenizer() const {
    constexpr std::string_view kKey = "tokenizer.ggml.pre";
    const GgufValue* value = file_.FindValue(kKey);
    if (value == nullptr) {
      return Status::Unsupported(path_ + ": " + std::string(kKey) +
                                 " is absent: qtk does not implement llama.cpp's fallback "
                                 "'default' pre-tokenizer");
    }
    if (value->AsString() == nullptr) return Wrong(kKey, "a string", *value);
    for (const PreTokenizer& pre : kPreTokenizers) {
      if (pre.name == *value->AsString()) return &pre;
    }
    return Status::Unsupported(path_ + ": " + std::string(kKey) + " is '" +
                               Printable(*value->AsString()) +
                               "': qtk encodes 'llama-bpe' and 'qwen2'");
  }

  Status ReadMerges(BpeModel& bpe) const {
    constexpr std::string_view kKey = "tokenizer.ggml.merges";
    const GgufValue* value = file_.FindValue(kKey);
    if (value == nullptr) return Error(kKey, "absent (a gpt2 vocabulary needs its merges)");
    if (!value->is_array() || value->element_type() != GgufValueType::kString) {
      return Wrong(kKey, "an array of str", *value);
    }
    const std::vector<std::string>& merges = value->strings();
    if (merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return Error(kKey, "more merges than ranks hold");
    }
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      const std::string& merge = merges[rank];
      const std::string field = std::string(kKey) + "[" + std::to_string(rank) + "]";
      // As llama.cpp splits it: at the first space after the first byte.
      const size_t space = merge.empty() ? std::string::npos : merge.find(' ', 1);
      if (space == std::string::npos) {
        return Error(field, "'" + Printable(merge) + "' is not two tokens separated by a space");
      }
      Status added =
          bpe.AddMerge(std::string_view(merge).substr(0, space),
                       std::string_view(merge).substr(space + 1), static_cast<int32_t>(rank));
      if (!added.ok()) return Error(field, added.message());
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<TokenizerData>> ReadByteLevelBpe() {
    QTK_ASSIGN_OR_RETURN(const PreTokenizer* pre, FindPreTokenizer());
    auto data = std::make_unique<TokenizerData>();
    ByteLevelBpe& bpe = std::get<ByteLevelBpe>(data->encoder);
    for (size_t id = 0; id < n_tokens(); ++id) {
      bpe.model.AddPiece(tokens_[id], static_cast<int32_t>(id));  // unique: ReadTokens
      if (auto added = AddedTokenOf(tokens_[id], static_cast<int32_t>(id), types_[id])) {
        data->added.push_back(std::move(*added));
      }
    }
    QTK_RETURN_IF_ERROR(ReadMerges(bpe.model));
    bpe.model.set_ignore_merges(pre->ignore_merges);
    PreTokenizerStep split;
    split.kind = PreTokenizerStep::Kind::kSplit;
    QTK_ASSIGN_OR_RETURN(split.regex, RegexSplitter::Compile(pre->regex));
    bpe.pre_tokenizer.push_back(std::move(split));
    PreTokenizerStep byte_level;
    byte_level.kind = PreTokenizerStep::Kind::kByteLevel;
    bpe.pre_tokenizer.push_back(std::move(byte_level));
    QTK_ASSIGN_OR_RETURN(const std::optional<int32_t> bos,
                         AddedId("tokenizer.ggml.add_bos_token", pre->default_add_bos,
                                 "tokenizer.ggml.bos_token_id", 11));
    QTK_ASSIGN_OR_RETURN(
        const std::optional<int32_t> eos,
        AddedId("tokenizer.ggml.add_eos_token", false, "tokenizer.ggml.eos_token_id", 11));
    if (bos) data->special_prefix.push_back(*bos);
    if (eos) data->special_suffix.push_back(*eos);
    IndexAddedTokens(*data);
    return data;
  }

  const GgufFile& file_;
  std::string path_;
  std::vector<std::string> tokens_;
  std::vector<int32_t> types_;
};

}  // namespace

Result<std::unique_ptr<TokenizerData>> GgufTokenizerData(const GgufFile& file) {
  return GgufVocabReader(file).Read();
}

}  // namespace qtk
