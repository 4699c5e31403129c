// SentencePiece `tokenizer.model` files, and the llama.cpp vocabulary made from them.
//
// A tokenizer.model is a serialized protobuf `sentencepiece.ModelProto` (proto2). The fields
// qtk reads and writes (every other field is skipped when reading):
//   ModelProto
//     1  pieces            repeated SentencePiece
//          1  piece        string (UTF-8, non-empty)
//          2  score        float
//          3  type         enum: 1 NORMAL (default), 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED,
//                                5 UNUSED, 6 BYTE
//     2  trainer_spec      TrainerSpec
//          3  model_type   enum: 1 UNIGRAM (default), 2 BPE, 3 WORD, 4 CHAR
//          4  vocab_size   int32 (default 8000)
//         35  byte_fallback bool (default false)
//         40  unk_id  41 bos_id  42 eos_id  43 pad_id   int32 (defaults 0, 1, 2, -1)
//     3  normalizer_spec   NormalizerSpec
//          1  name         string
//          3  add_dummy_prefix          bool (default true)
//          4  remove_extra_whitespaces  bool (default true)
//          5  escape_whitespaces        bool (default true)
// Validation follows SentencePiece's own loader (ModelInterface::InitializePieces): pieces are
// non-empty, unique (normal, user-defined and unused pieces in one namespace, the others in
// another), exactly one UNKNOWN piece, BYTE pieces only with byte_fallback, spelled <0xXX>
// (upper-case hex), and all 256 of them when byte_fallback is set. qtk is stricter in one
// place: a piece type outside 1..6 is an error (protobuf would silently read it as NORMAL).
//
// The vocabulary half reproduces llama.cpp's convert_hf_to_gguf.py
// (_create_vocab_sentencepiece, _set_vocab_sentencepiece and gguf.SpecialVocab) for a model
// directory holding tokenizer.model, config.json and optionally tokenizer_config.json,
// added_tokens.json, tokenizer.json and chat_template.jinja. Not reproduced (refused):
// lowercasing normalizers and chat templates given as lists; chat_template.json is not read.
//
// Implemented in sentencepiece.cc (the model file) and sentencepiece_vocab.cc (the
// vocabulary llama.cpp makes of it).
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

namespace qtk {

// SentencePiece piece types; the numbers are the protobuf enum values, which are also the
// token types llama.cpp stores in tokenizer.ggml.token_type.
enum class PieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SentencePiece {
  std::string piece;
  float score = 0.0f;
  PieceType type = PieceType::kNormal;
};

struct SentencePieceTrainerSpec {
  int32_t model_type = 1;  // 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR
  int32_t vocab_size = 8000;
  bool byte_fallback = false;
  int32_t unk_id = 0;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t pad_id = -1;
};

struct SentencePieceNormalizerSpec {
  std::string name;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// A parsed, validated tokenizer.model.
struct SentencePieceModel {
  std::vector<SentencePiece> pieces;
  SentencePieceTrainerSpec trainer_spec;
  SentencePieceNormalizerSpec normalizer_spec;
};

// Parses and validates a ModelProto. `path` names the file in error messages.
// Errors: Corruption "<path>: offset <n> (0x..): <message>: <problem>" for truncated varints,
// lengths past the end, wrong or unknown wire types, invalid UTF-8, and the loader rules above.
Result<SentencePieceModel> ParseSentencePieceModel(std::span<const uint8_t> bytes,
                                                   std::string_view path);

// MapFile(path) then ParseSentencePieceModel.
Result<SentencePieceModel> ReadSentencePieceModel(const std::string& path);

// The ModelProto bytes of `model` (the fields listed at the top, in field order).
std::vector<uint8_t> SerializeSentencePieceModel(const SentencePieceModel& model);

// --- The llama.cpp vocabulary -------------------------------------------------------------

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
