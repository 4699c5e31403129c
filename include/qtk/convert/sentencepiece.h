// The llama.cpp vocabulary made from a SentencePiece `tokenizer.model` (the file itself is read
// by qtk/tokenize/sentencepiece_model.h, which this includes).
//
// It reproduces llama.cpp's convert_hf_to_gguf.py
// (_create_vocab_sentencepiece, _set_vocab_sentencepiece and gguf.SpecialVocab) for a model
// directory holding tokenizer.model, config.json and optionally tokenizer_config.json,
// added_tokens.json, tokenizer.json and chat_template.jinja. Not reproduced (refused):
// lowercasing normalizers and chat templates given as lists; chat_template.json is not read.
//
// Implemented in sentencepiece_vocab.cc.
#ifndef QTK_CONVERT_SENTENCEPIECE_H_
#define QTK_CONVERT_SENTENCEPIECE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/gguf.h"
#include "qtk/tokenize/sentencepiece_model.h"

namespace qtk {

// tokenizer.ggml.tokens / scores / token_type, exactly as _create_vocab_sentencepiece makes
// them: vocab_size entries (config.json's vocab_size, else the number of pieces); ids the
// model does not fill are "[PAD<id>]", score -10000, UNUSED; USER_DEFINED pieces become
// NORMAL (the script has no IsUserDefined check); pieces past vocab_size are dropped with a
// warning.
struct LlamaVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> token_types;  // PieceType values
};

// The small JSON files of a model directory the vocabulary depends on. Absent files are
// nullopt; the paths name them in error messages.
struct VocabSources {
  std::string_view config_json = {};
  std::string config_path = "config.json";
  std::optional<std::string_view> tokenizer_config_json = std::nullopt;
  std::string tokenizer_config_path = "tokenizer_config.json";
  std::optional<std::string_view> added_tokens_json = std::nullopt;
  std::string added_tokens_path = "added_tokens.json";
  std::optional<std::string_view> tokenizer_json = std::nullopt;
  std::string tokenizer_json_path = "tokenizer.json";
  std::optional<std::string_view> chat_template_jinja = std::nullopt;  // chat_template.jinja
};

// gguf.SpecialVocab for these files (see src/convert/special_vocab.h): token ids (bos, eos,
// unk, sep, pad, cls, mask, in that order, then eot/eom; ids >= n_vocab skipped with a warning,
// negative ids rejected), add_<type>_token flags and the chat template.
struct SpecialTokens {
  std::vector<std::pair<std::string, uint32_t>> ids;    // ("bos", 1), in writing order
  std::vector<std::pair<std::string, bool>> add_flags;  // ("bos", true), in writing order
  std::optional<std::string> chat_template;
};

struct VocabResult {
  LlamaVocab vocab;
  SpecialTokens special;
  std::vector<std::string> warnings;  // what the script would log as warnings
};

// Builds the vocabulary and special tokens. Errors: Corruption for malformed JSON or values
// of the wrong type, with the file path (and byte offset for JSON syntax errors).
Result<VocabResult> BuildSentencePieceVocab(const SentencePieceModel& model,
                                            const VocabSources& sources);

// The tokenizer.* metadata _set_vocab_sentencepiece writes, in its order:
// tokenizer.ggml.model "llama", tokenizer.ggml.pre "default", tokens, scores, token_type,
// the special token ids, the add_*_token flags, tokenizer.chat_template.
std::vector<GgufKeyValue> SentencePieceVocabMetadata(const VocabResult& result);

// The GGUF key for special token type `type` ("bos" -> "tokenizer.ggml.bos_token_id");
// empty for a type the gguf writer has no handler for.
std::string SpecialTokenIdKey(std::string_view type);

}  // namespace qtk

#endif  // QTK_CONVERT_SENTENCEPIECE_H_
