// What a tokenizer is made of, whichever file it was read from (internal): tokenizer_json.cc,
// tokenizer_sentencepiece.cc and tokenizer_gguf.cc fill it, tokenizer.cc encodes with it.
#ifndef QTK_TOKENIZE_TOKENIZER_DATA_H_
#define QTK_TOKENIZE_TOKENIZER_DATA_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qtk/format/gguf.h"
#include "qtk/tokenize/sentencepiece_model.h"
#include "qtk/tokenize/tokenizer.h"
#include "tokenize/bpe.h"
#include "tokenize/regex_split.h"
#include "tokenize/spm.h"

namespace qtk {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool normalized = false;  // matched after normalization rather than on the raw text
};

enum class NormalizerKind { kNone, kNfc };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel };
  Kind kind = Kind::kSplit;
  std::unique_ptr<RegexSplitter> regex;  // kSplit, or kByteLevel with use_regex
  bool add_prefix_space = false;         // kByteLevel
};

// tokenizer.json's byte-level BPE, and llama.cpp's "gpt2" vocabularies.
struct ByteLevelBpe {
  NormalizerKind normalizer = NormalizerKind::kNone;
  std::vector<PreTokenizerStep> pre_tokenizer;
  BpeModel model;
};

// tokenizer.model, and llama.cpp's "llama" vocabularies.
struct SentencePieceBpe {
  SpmModel model;
  bool dummy_prefix = true;  // "▁" before the text and after each added token
};

struct TokenizerData {
  std::variant<ByteLevelBpe, SentencePieceBpe> encoder;
  std::vector<AddedToken> added;  // longest content first
  // Indices into `added` by the first byte of their content (longest first within each), so
  // that the split looks only at the tokens that can start where it stands.
  std::array<std::vector<uint32_t>, 256> added_by_first_byte;
  std::vector<int32_t> special_prefix;  // what add_special puts before the text (BOS)
  std::vector<int32_t> special_suffix;  // ... and after it (EOS)
};

// The added token a piece of type `type` (a PieceType value) makes, if it makes one: UNKNOWN,
// CONTROL and USER_DEFINED pieces are matched in the text before anything else, as llama.cpp
// matches them with parse_special (tokenize/tokenizer.cc).
std::optional<AddedToken> AddedTokenOf(std::string_view piece, int32_t id, int32_t type);

// Orders `data.added` longest first and fills added_by_first_byte (tokenizer.cc).
void IndexAddedTokens(TokenizerData& data);

// Parses tokenizer.json (tokenizer_json.cc).
Result<std::unique_ptr<TokenizerData>> ParseTokenizerJson(std::string_view text,
                                                          std::string_view path);

// A SentencePiece vocabulary by id, wherever it was read from.
struct SpmVocabView {
  std::span<const std::string> pieces;
  std::span<const float> scores;
  std::span<const int32_t> types;  // PieceType values; others count as normal
  int32_t unknown_id = 0;
  std::optional<int32_t> bos;  // added by add_special when set
  std::optional<int32_t> eos;
  bool dummy_prefix = true;
};

// The tokenizer of `vocab`: UNKNOWN, CONTROL and USER_DEFINED pieces are added tokens.
// `where` names the piece list in messages ("<path>: pieces").
// Errors: Corruption for a piece listed twice or a NaN score (tokenizer_sentencepiece.cc).
Result<std::unique_ptr<TokenizerData>> BuildSentencePieceData(const SpmVocabView& vocab,
                                                              std::string_view where);

// A tokenizer.model (tokenizer_sentencepiece.cc). Errors: Unsupported for what llama.cpp and
// SentencePiece would encode differently; Corruption for a BOS/EOS id that is no piece.
Result<std::unique_ptr<TokenizerData>> SentencePieceData(const SentencePieceModel& model,
                                                         const SentencePieceOptions& options,
                                                         std::string_view path);

// The tokenizer.* metadata of a GGUF file (tokenizer_gguf.cc).
Result<std::unique_ptr<TokenizerData>> GgufTokenizerData(const GgufFile& file);

}  // namespace qtk

#endif  // QTK_TOKENIZE_TOKENIZER_DATA_H_
