// Text to token ids, exactly as the model's own tokenizer gives them. Two kinds:
//
// Byte-level BPE, as Hugging Face's `tokenizers` library encodes with a tokenizer.json
// (Llama 3, Qwen2/2.5/3 and GPT-2 style models), in the library's order:
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
// naming the field, so a tokenizer is either exact or not built. Regexes run on Oniguruma,
// the engine `tokenizers` itself uses, so \p{L}, \s and (?i:...) mean what they mean there.
//
// SentencePiece BPE, as llama.cpp's SPM tokenizer encodes (and Hugging Face's
// LlamaTokenizer, for the models qtk accepts): Llama 2, TinyLlama, stories260K tokenizer.model
// files and GGUF "llama" vocabularies.
//   1. UNKNOWN, CONTROL and USER_DEFINED pieces (<unk>, <s>, </s>) are cut out of the text
//      first, leftmost-longest (llama.cpp with parse_special);
//   2. each remaining stretch gets a leading space when it starts the text or follows such a
//      token (the dummy prefix), spaces become "▁", and the pieces merge by score
//      (tokenize/spm.h has the algorithm and its byte fallback);
//   3. with add_special, BOS before (add_bos_token) and EOS after (add_eos_token).
// A GGUF "gpt2" vocabulary is byte-level BPE as above, with the pre-tokenizer regex of its
// tokenizer.ggml.pre and no normalizer (llama.cpp does none).
//
// Implemented in tokenizer.cc (encoding), open_tokenizer.cc (OpenTokenizer),
// tokenizer_json.cc, tokenizer_sentencepiece.cc and tokenizer_gguf.cc (building from each
// kind of file), regex_split.cc, byte_level.cc, bpe.cc and spm.cc.
#ifndef QTK_TOKENIZE_TOKENIZER_H_
#define QTK_TOKENIZE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

class GgufFile;
struct SentencePieceModel;
struct TokenizerData;

// One of tokenizer.json's added_tokens (for a SentencePiece tokenizer, one of the pieces
// matched as added tokens: UNKNOWN, CONTROL and USER_DEFINED).
struct TokenizerAddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool normalized = false;  // matched after normalization
};

// What tokenizer_config.json adds to a tokenizer.model; the defaults are LlamaTokenizer's.
struct SentencePieceOptions {
  bool add_bos = true;   // add_bos_token
  bool add_eos = false;  // add_eos_token
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

  // A tokenizer.model's encoder; `path` is for messages. BOS and EOS are the trainer_spec's
  // bos_id and eos_id; the dummy prefix is normalizer_spec.add_dummy_prefix.
  // Errors: Unsupported for a model that is not BPE or whose normalizer does more than
  // escape spaces (llama.cpp and SentencePiece would disagree on it); Corruption for a BOS or
  // EOS to add that is no piece, or a piece listed twice.
  static Result<Tokenizer> FromSentencePiece(const SentencePieceModel& model,
                                             const SentencePieceOptions& options,
                                             std::string_view path);

  // The tokenizer of a GGUF file's vocabulary, read as llama.cpp reads it: tokenizer.ggml.model
  // "llama" (SentencePiece: tokens, scores, token_type, add_space_prefix) or "gpt2" (byte-level
  // BPE: tokens, merges, token_type, and pre "llama-bpe" or "qwen2"); bos/eos/unknown ids and
  // add_bos_token/add_eos_token with llama.cpp's defaults.
  // Errors: NotFound for a file without tokenizer.ggml.model; Unsupported for another model
  // or pre value (named); Corruption, naming the key, for a missing or mistyped array, arrays
  // shorter than the tokens, a merge of unknown tokens, a token id out of range.
  static Result<Tokenizer> FromGguf(const GgufFile& file);

  // The ids of `text` (UTF-8). `add_special`: what the post-processor adds (BOS).
  // Call from one thread at a time (the regex engine keeps match state in the tokenizer).
  // Errors: InvalidArgument for text that is not UTF-8; Corruption if a piece has no id
  // (a byte-level vocabulary without the byte-level alphabet).
  Result<std::vector<int32_t>> Encode(std::string_view text, bool add_special) const;

  // The vocabulary entry of `id` as stored ("Ġthe", "▁the"), or "" for an id not in it.
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

// The tokenizer of a model. `path` is
//   - a Hugging Face model directory: its tokenizer.json; or its tokenizer.model (with
//     tokenizer_config.json's add_bos_token/add_eos_token) when there is no tokenizer.json or
//     when the tokenizer.json is one this encoder refuses (Llama 2's, with byte_fallback);
//   - a tokenizer.json file, a SentencePiece *.model file, or a GGUF file (by its magic).
// Errors: NotFound for a directory with neither file; the readers' and builders' errors.
Result<Tokenizer> OpenTokenizer(const std::string& path);

}  // namespace qtk

#endif  // QTK_TOKENIZE_TOKENIZER_H_
