// Handcrafted tokenizer.model bytes shared by the tests of the model file
// (tests/tokenize/) and of the vocabulary llama.cpp makes of it (tests/convert/).
#ifndef QTK_TESTS_SENTENCEPIECE_SUPPORT_H_
#define QTK_TESTS_SENTENCEPIECE_SUPPORT_H_

#include <cstdint>
#include <string_view>

#include "base/protobuf_wire.h"
#include "qtk/tokenize/sentencepiece_model.h"

namespace qtk::testing {

// One ModelProto.pieces message.
inline WireWriter SentencePieceMessage(std::string_view text, PieceType type, float score = 0.0f) {
  WireWriter piece;
  piece.Bytes(1, text);
  piece.Float(2, score);
  piece.Varint(3, static_cast<uint64_t>(type));
  return piece;
}

// A valid model: <unk>, <s>, </s>, "a", "b" (no byte fallback).
inline WireWriter SmallSentencePieceModel() {
  WireWriter proto;
  proto.Message(1, SentencePieceMessage("<unk>", PieceType::kUnknown));
  proto.Message(1, SentencePieceMessage("<s>", PieceType::kControl));
  proto.Message(1, SentencePieceMessage("</s>", PieceType::kControl));
  proto.Message(1, SentencePieceMessage("a", PieceType::kNormal, -1.0f));
  proto.Message(1, SentencePieceMessage("b", PieceType::kUserDefined, -2.0f));
  return proto;
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_SENTENCEPIECE_SUPPORT_H_
