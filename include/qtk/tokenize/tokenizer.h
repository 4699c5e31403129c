// Text to token ids, exactly as Hugging Face's `tokenizers` library encodes with a
// tokenizer.json: byte-level BPE, as Llama 3, Qwen2/2.5/3 and GPT-2 style models use it.
//
// Encoding, in the library's order:
//   1. added tokens (special or not) are cut out of the text first, leftmost-longest, those
//      with "normalized": false on the raw text, the others after normalization;
//   2. each remaining stretch is normalized (NFC, or nothing) and pre-tokenized: `Split` by a
//      regex (behaviour "Isolated": matches and the text between them are pieces), then
//      `ByteLevel` (each UTF-8 byte as one printable character; with use_regex, GPT-2's split
//      first; with add_prefix_space, a leading space);
//   3. each piece goes through BPE: whole if it is a vocabulary entry and ignore_merges is
//      set, otherwise its characters merged pair by pair, lowest merge rank first (leftmost
//      among equal ranks);
//   4. with add_special, the post-processor's TemplateProcessing adds its special tokens
//      (Llama 3's <|begin_of_text|>); ByteLevel post-processing changes only offsets.
// What tokenizer.json can say beyond this (WordPiece or Unigram models, other normalizers
// or pre-tokenizers, an added token's lstrip/rstrip/single_word) is refused when parsed,
// naming the field, so a tokenizer is either exact or not built.
//
// Regexes run on Oniguruma, the engine `tokenizers` itself uses, so \p{L}, \s and (?i:...)
// mean what they mean there. Implemented in tokenizer.cc (encoding), tokenizer_json.cc
// (parsing), regex_split.cc, byte_level.cc and bpe.cc.
#ifndef QTK_TOKENIZE_TOKENIZER_H_
#define QTK_TOKENIZE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

struct TokenizerData;

// One of tokenizer.json's added_tokens.
struct TokenizerAddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool normalized = false;  // matched after normalization
};

class Tokenizer {
 public:
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Parses the text of a tokenizer.json; `path` is for messages.
  // Errors: Corruption for malformed JSON or fields of the wrong kind; Unsupported for a
  // model, normalizer, pre-tokenizer or post-processor this encoder does not implement.
  static Result<Tokenizer> FromJson(std::string_view text, std::string_view path);

  // The ids of `text` (UTF-8). `add_special`: what the post-processor adds (BOS).
  // Call from one thread at a time (the regex engine keeps match state in the tokenizer).
  // Errors: InvalidArgument for text that is not UTF-8; Corruption if a piece has no id
  // (a vocabulary without the byte-level alphabet).
  Result<std::vector<int32_t>> Encode(std::string_view text, bool add_special) const;

  // The vocabulary entry of `id` as stored ("Ġthe"), or "" for an id not in it.
  std::string_view Piece(int32_t id) const;
  // One more than the largest id (vocabulary and added tokens).
  int64_t n_ids() const;
  // The number of ids that have a piece: len(tokenizer.get_vocab()) in transformers.
  int64_t n_pieces() const;
  // The added tokens, by id.
  std::vector<TokenizerAddedToken> AddedTokens() const;

 private:
  explicit Tokenizer(std::unique_ptr<TokenizerData> data);
  std::unique_ptr<TokenizerData> data_;
};

// The tokenizer of a model: `path` is a Hugging Face model directory (its tokenizer.json)
// or a tokenizer.json file.
// Errors: NotFound without a tokenizer.json; Unsupported for a directory with only a
// SentencePiece tokenizer.model or a GGUF file (their encoders are not built yet); the
// parser's errors.
Result<Tokenizer> OpenTokenizer(const std::string& path);

}  // namespace qtk

#endif  // QTK_TOKENIZE_TOKENIZER_H_
