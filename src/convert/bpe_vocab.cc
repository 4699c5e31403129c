// TextModel.get_vocab_base and _set_vocab_gpt2: the "gpt2" vocabulary of a tokenizer.json.
#include "qtk/convert/bpe_vocab.h"

#include "base/json_util.h"
#include "base/string_util.h"
#include "convert/hparams.h"
#include "convert/special_vocab.h"
#include "qtk/base/sha256.h"
#include "qtk/tokenize/tokenizer.h"

namespace qtk {
namespace {

// gguf.TokenType.
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kUnused = 5;

// self.hparams.get("vocab_size", len(tokenizer.vocab)).
Result<int64_t> VocabSize(const HfModelConfig& config, const Tokenizer& tokenizer) {
  QTK_ASSIGN_OR_RETURN(const Json hparams, LoadHparams(config.text, config.path));
  int64_t size = tokenizer.n_pieces();
  if (auto it = hparams.find("vocab_size"); it != hparams.end()) {
    const std::optional<int64_t> value = PythonInt(*it);
    if (!value || *value < 0) {
      return JsonTypeError(config.path, "vocab_size", "a non-negative integer", *it);
    }
    size = *value;
  }
  if (size > kMaxVocabSize) {
    return Status::Corruption(config.path + ": vocab_size is " + std::to_string(size) +
                              ", more tokens than qtk accepts (" + std::to_string(kMaxVocabSize) +
                              ")");
  }
  if (tokenizer.n_ids() > size) {
    return Status::Corruption(config.path + ": vocab_size " + std::to_string(size) +
                              " is smaller than the tokenizer's largest id " +
                              std::to_string(tokenizer.n_ids() - 1));
  }
  return size;
}

}  // namespace

std::string_view BpeCheckText() {
  return "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) "
         "😶\u200d🌫\ufe0f (multiple emojis concatenated) ✅ 🦙🦙 3 33 333 3333 33333 "
         "333333 3333333 33333333 3.3 3..3 3...3 "
         "ក\u17b6ន\u17cbត\u17c2ព\u17b7ស\u17c1សអ\u17b6ច😁 ?我想在apple工作1314151天～ "
         "------======= нещо на Български ''''''```````\"\"\"\"......!!!!!!?????? "
         "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D "
         "you like some tea? We'Ve a'lL";
}

std::string BpeCheckHash(std::span<const int32_t> ids) {
  std::string text = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(ids[i]);
  }
  text += "]";
  return Sha256Hex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Result<ModelMetadata> BuildBpeTokenizerMetadata(const HfModelConfig& config, VocabSources sources,
                                                const std::optional<std::string>& vocab_pre) {
  if (!sources.tokenizer_json) {
    return Status::InvalidArgument(sources.tokenizer_json_path + ": no tokenizer.json text given");
  }
  sources.config_json = config.text;
  sources.config_path = config.path;
  QTK_ASSIGN_OR_RETURN(const Tokenizer tokenizer,
                       Tokenizer::FromJson(*sources.tokenizer_json, sources.tokenizer_json_path));
  QTK_ASSIGN_OR_RETURN(const int64_t vocab_size, VocabSize(config, tokenizer));

  // get_vocab_base_pre.
  std::string pre;
  if (vocab_pre) {
    pre = *vocab_pre;
  } else {
    QTK_ASSIGN_OR_RETURN(const std::vector<int32_t> check,
                         tokenizer.Encode(BpeCheckText(), /*add_special=*/true));
    const std::string chkhsh = BpeCheckHash(check);
    const std::optional<std::string_view> name = BpePreTokenizerName(chkhsh);
    if (!name) {
      return Status::Unsupported(
          sources.tokenizer_json_path + ": the BPE pre-tokenizer was not recognized (chkhsh " +
          chkhsh +
          "), as convert_hf_to_gguf.py would refuse it; name it with --vocab-pre "
          "(llama-bpe, qwen2, ...) if you know it");
    }
    pre = std::string(*name);
  }

  // get_vocab_base.
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<size_t>(vocab_size));
  types.reserve(static_cast<size_t>(vocab_size));
  std::vector<TokenizerAddedToken> added = tokenizer.AddedTokens();
  size_t next_added = 0;
  for (int64_t id = 0; id < vocab_size; ++id) {
    while (next_added < added.size() && added[next_added].id < id) ++next_added;
    const std::string_view piece =
        id < tokenizer.n_ids() ? tokenizer.Piece(static_cast<int32_t>(id)) : std::string_view();
    if (piece.empty()) {
      tokens.push_back("[PAD" + std::to_string(id) + "]");
      types.push_back(kUnused);
      continue;
    }
    std::string token(piece);
    int32_t type = kNormal;
    if (next_added < added.size() && added[next_added].id == id) {
      const TokenizerAddedToken& info = added[next_added];
      if (info.special || DoesTokenLookSpecial(token)) {
        type = kControl;
      } else {
        token = PreNormalizeSpaces(std::move(token));
        type = kUserDefined;
      }
    }
    tokens.push_back(std::move(token));
    types.push_back(type);
  }

  ModelMetadata result;
  result.metadata.push_back({"tokenizer.ggml.model", GgufValue::String("gpt2")});
  result.metadata.push_back({"tokenizer.ggml.pre", GgufValue::String(pre)});
  result.metadata.push_back({"tokenizer.ggml.tokens", GgufValue::StringArray(tokens)});
  result.metadata.push_back(
      {"tokenizer.ggml.token_type",
       GgufValue::ArrayOf<int32_t>(GgufValueType::kInt32, std::span<const int32_t>(types))});
  QTK_ASSIGN_OR_RETURN(SpecialVocabResult special,
                       LoadSpecialVocab(sources, /*load_merges=*/true, std::nullopt));
  result.warnings = special.warnings;
  for (GgufKeyValue& kv : SpecialVocabMetadata(special.special, special.merges)) {
    result.metadata.push_back(std::move(kv));
  }
  return result;
}

}  // namespace qtk
