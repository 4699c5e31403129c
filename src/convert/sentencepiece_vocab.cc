// The llama.cpp vocabulary made from a SentencePiece model, as convert_hf_to_gguf.py makes it.
#include <algorithm>
#include <array>
#include <charconv>

#include "base/json_util.h"
#include "base/string_util.h"
#include "convert/hparams.h"
#include "convert/special_vocab.h"
#include "qtk/convert/sentencepiece.h"

namespace qtk {
namespace {

constexpr float kPadScore = -10000.0f;
constexpr float kAddedTokenScore = -1000.0f;

// find_hparam(["vocab_size_per_layer_input", "vocab_size"], optional=True) or n_pieces, at
// most kMaxVocabSize.

Result<size_t> VocabSize(const Json& config, const VocabSources& sources, size_t n_pieces) {
  for (std::string_view key : {"vocab_size_per_layer_input", "vocab_size"}) {
    auto it = config.find(std::string(key));
    if (it == config.end()) continue;
    if (it->is_null()) return n_pieces;
    const std::optional<int64_t> value = PythonInt(*it);
    if (!value || *value < 0) {
      return JsonTypeError(sources.config_path, key, "a non-negative integer", *it);
    }
    if (*value > kMaxVocabSize) {
      return Status::Corruption(sources.config_path + ": " + std::string(key) + " is " +
                                std::to_string(*value) + ", more tokens than qtk accepts (" +
                                std::to_string(kMaxVocabSize) + ")");
    }
    return *value == 0 ? n_pieces : static_cast<size_t>(*value);
  }
  return n_pieces;
}

void FillFromPieces(const SentencePieceModel& model, LlamaVocab& vocab,
                    std::vector<std::string>& warnings) {
  const size_t n = vocab.tokens.size();
  for (size_t id = 0; id < model.pieces.size(); ++id) {
    if (id >= n) {
      warnings.push_back("ignore tokens from " + std::to_string(id) +
                         ": id is out of range, max=" + std::to_string(n - 1));
      break;
    }
    const SentencePiece& sp = model.pieces[id];
    // IsUnknown / IsControl / IsUnused / IsByte; everything else (USER_DEFINED too) is NORMAL.
    PieceType type = PieceType::kNormal;
    if (sp.type == PieceType::kUnknown || sp.type == PieceType::kControl ||
        sp.type == PieceType::kUnused || sp.type == PieceType::kByte) {
      type = sp.type;
    }
    vocab.tokens[id] = sp.piece;
    vocab.scores[id] = sp.score;
    vocab.token_types[id] = static_cast<int32_t>(type);
  }
}

Result<size_t> TokenId(const Json& value, std::string_view path, std::string_view key) {
  const std::optional<int64_t> id = PythonInt(value);
  if (!id || *id < 0) return JsonTypeError(path, key, "a non-negative token id", value);
  return static_cast<size_t>(*id);
}

Status ApplyAddedTokens(const VocabSources& sources, LlamaVocab& vocab,
                        std::vector<std::string>& warnings) {
  if (!sources.added_tokens_json) return Status::Ok();
  QTK_ASSIGN_OR_RETURN(const Json added,
                       ParseJsonObject(*sources.added_tokens_json, sources.added_tokens_path));
  for (const auto& [token, value] : added.items()) {
    QTK_ASSIGN_OR_RETURN(const size_t id, TokenId(value, sources.added_tokens_path, token));
    if (id >= vocab.tokens.size()) {
      warnings.push_back("ignore token " + std::to_string(id) +
                         ": id is out of range, max=" + std::to_string(vocab.tokens.size() - 1));
      continue;
    }
    vocab.tokens[id] = token;
    vocab.scores[id] = kAddedTokenScore;
    vocab.token_types[id] = static_cast<int32_t>(PieceType::kUserDefined);
  }
  return Status::Ok();
}

Status ApplyAddedTokensDecoder(const Json& tokenizer_config, std::string_view path,
                               LlamaVocab& vocab, std::vector<std::string>& warnings) {
  const Json* decoder = FindNonNull(tokenizer_config, "added_tokens_decoder");
  if (decoder == nullptr) return Status::Ok();
  if (!decoder->is_object()) {
    return JsonTypeError(path, "added_tokens_decoder", "an object", *decoder);
  }
  for (const auto& [key, data] : decoder->items()) {
    size_t id = 0;
    const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (error != std::errc() || end != key.data() + key.size()) {
      return Status::Corruption(std::string(path) + ": added_tokens_decoder: key '" +
                                Printable(key) + "' is not a token id");
    }
    const std::string subject = "added_tokens_decoder." + key;
    const Json* content = FindNonNull(data, "content");
    if (content == nullptr || !content->is_string()) {
      return JsonTypeError(path, subject + ".content", "a string",
                           content == nullptr ? Json() : *content);
    }
    if (id >= vocab.tokens.size()) {
      warnings.push_back("ignore token " + std::to_string(id) +
                         ": id is out of range, max=" + std::to_string(vocab.tokens.size() - 1));
      continue;
    }
    std::string token = content->get<std::string>();
    if (vocab.token_types[id] != static_cast<int32_t>(PieceType::kUnused) &&
        vocab.tokens[id] != token) {
      warnings.push_back("replacing token " + std::to_string(id) + ": '" +
                         Printable(vocab.tokens[id]) + "' -> '" + Printable(token) + "'");
    }
    const Json* special = FindNonNull(data, "special");
    const bool is_special = special != nullptr && special->is_boolean() && special->get<bool>();
    if (is_special || DoesTokenLookSpecial(token)) {
      vocab.token_types[id] = static_cast<int32_t>(PieceType::kControl);
    } else {
      token = PreNormalizeSpaces(std::move(token));
      vocab.token_types[id] = static_cast<int32_t>(PieceType::kUserDefined);
    }
    vocab.scores[id] = kAddedTokenScore;
    vocab.tokens[id] = std::move(token);
  }
  return Status::Ok();
}

}  // namespace

std::string SpecialTokenIdKey(std::string_view type) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kKeys = {{
      {"bos", "tokenizer.ggml.bos_token_id"},
      {"eos", "tokenizer.ggml.eos_token_id"},
      {"unk", "tokenizer.ggml.unknown_token_id"},
      {"sep", "tokenizer.ggml.seperator_token_id"},  // sic: llama.cpp's spelling
      {"pad", "tokenizer.ggml.padding_token_id"},
      {"cls", "tokenizer.ggml.cls_token_id"},
      {"mask", "tokenizer.ggml.mask_token_id"},
      {"prefix", "tokenizer.ggml.prefix_token_id"},
      {"suffix", "tokenizer.ggml.suffix_token_id"},
      {"middle", "tokenizer.ggml.middle_token_id"},
      {"eot", "tokenizer.ggml.eot_token_id"},
      {"eom", "tokenizer.ggml.eom_token_id"},
  }};
  for (const auto& [name, key] : kKeys) {
    if (name == type) return std::string(key);
  }
  return {};
}

Result<VocabResult> BuildSentencePieceVocab(const SentencePieceModel& model,
                                            const VocabSources& sources) {
  QTK_ASSIGN_OR_RETURN(const Json config,
                       ParseJsonObject(sources.config_json, sources.config_path));
  VocabResult result;
  QTK_ASSIGN_OR_RETURN(const size_t vocab_size, VocabSize(config, sources, model.pieces.size()));
  LlamaVocab& vocab = result.vocab;
  vocab.tokens.reserve(vocab_size);
  for (size_t i = 0; i < vocab_size; ++i) vocab.tokens.push_back("[PAD" + std::to_string(i) + "]");
  vocab.scores.assign(vocab_size, kPadScore);
  vocab.token_types.assign(vocab_size, static_cast<int32_t>(PieceType::kUnused));
  FillFromPieces(model, vocab, result.warnings);
  QTK_RETURN_IF_ERROR(ApplyAddedTokens(sources, vocab, result.warnings));

  if (sources.tokenizer_config_json) {
    QTK_ASSIGN_OR_RETURN(
        const Json tokenizer_config,
        ParseJsonObject(*sources.tokenizer_config_json, sources.tokenizer_config_path));
    QTK_RETURN_IF_ERROR(ApplyAddedTokensDecoder(tokenizer_config, sources.tokenizer_config_path,
                                                vocab, result.warnings));
  }
  QTK_ASSIGN_OR_RETURN(SpecialVocabResult special,
                       LoadSpecialVocab(sources, /*load_merges=*/false, vocab.tokens.size()));
  result.warnings.insert(result.warnings.end(), special.warnings.begin(), special.warnings.end());
  result.special = std::move(special.special);
  return result;
}

std::vector<GgufKeyValue> SentencePieceVocabMetadata(const VocabResult& result) {
  std::vector<GgufKeyValue> metadata;
  metadata.push_back({"tokenizer.ggml.model", GgufValue::String("llama")});
  metadata.push_back({"tokenizer.ggml.pre", GgufValue::String("default")});
  metadata.push_back({"tokenizer.ggml.tokens", GgufValue::StringArray(result.vocab.tokens)});
  metadata.push_back({"tokenizer.ggml.scores",
                      GgufValue::ArrayOf<float>(GgufValueType::kFloat32,
                                                std::span<const float>(result.vocab.scores))});
  metadata.push_back(
      {"tokenizer.ggml.token_type",
       GgufValue::ArrayOf<int32_t>(GgufValueType::kInt32,
                                   std::span<const int32_t>(result.vocab.token_types))});
  for (GgufKeyValue& kv : SpecialVocabMetadata(result.special)) metadata.push_back(std::move(kv));
  return metadata;
}

}  // namespace qtk
