// SentencePiece `tokenizer.model` files: parsing, validation and writing.
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
// The file lives here, below tokenize/'s encoder (tokenizer.h) and above convert/, which
// makes llama.cpp's vocabulary of it (qtk/convert/sentencepiece.h). Implemented in
// sentencepiece_model.cc.
#ifndef QTK_TOKENIZE_SENTENCEPIECE_MODEL_H_
#define QTK_TOKENIZE_SENTENCEPIECE_MODEL_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"

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

// The byte a BYTE piece stands for: "<0x00>" .. "<0xFF>", upper-case hex as SentencePiece
// spells them; -1 for any other piece.
int BytePieceValue(std::string_view piece);

// The ModelProto bytes of `model` (the fields listed at the top, in field order).
std::vector<uint8_t> SerializeSentencePieceModel(const SentencePieceModel& model);

}  // namespace qtk

#endif  // QTK_TOKENIZE_SENTENCEPIECE_MODEL_H_
