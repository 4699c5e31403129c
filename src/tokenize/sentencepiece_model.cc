// tokenizer.model (sentencepiece.ModelProto): parsing, validation and writing.
#include "qtk/tokenize/sentencepiece_model.h"

#include <array>
#include <cstdio>
#include <optional>
#include <unordered_map>

#include "base/byte_cursor.h"
#include "base/protobuf_wire.h"
#include "base/string_util.h"
#include "qtk/base/byte_source.h"

namespace qtk {
namespace {

// Field numbers of sentencepiece_model.proto.
namespace field {
constexpr uint32_t kPieces = 1;
constexpr uint32_t kTrainerSpec = 2;
constexpr uint32_t kNormalizerSpec = 3;

constexpr uint32_t kPiece = 1;
constexpr uint32_t kScore = 2;
constexpr uint32_t kType = 3;

constexpr uint32_t kModelType = 3;
constexpr uint32_t kVocabSize = 4;
constexpr uint32_t kByteFallback = 35;
constexpr uint32_t kUnkId = 40;
constexpr uint32_t kBosId = 41;
constexpr uint32_t kEosId = 42;
constexpr uint32_t kPadId = 43;

constexpr uint32_t kName = 1;
constexpr uint32_t kAddDummyPrefix = 3;
constexpr uint32_t kRemoveExtraWhitespaces = 4;
constexpr uint32_t kEscapeWhitespaces = 5;
}  // namespace field

// Where things were, for validation messages.
struct PieceOffsets {
  std::vector<uint64_t> piece_offsets;
  uint64_t byte_fallback = 0;  // the trainer_spec field that set it
  uint64_t end = 0;            // the file's size
};

Status ExpectType(const WireReader& reader, const WireField& f, WireType type,
                  std::string_view name) {
  return f.type == type ? Status::Ok() : reader.WrongType(f, type, name);
}

// proto2 int32: the varint is a sign-extended 64-bit value; keep its low 32 bits.
int32_t ToInt32(uint64_t varint) { return static_cast<int32_t>(static_cast<uint32_t>(varint)); }

Result<SentencePiece> ParsePiece(const WireField& outer, std::string_view path, size_t index) {
  WireReader reader(outer.bytes, outer.payload_offset, path,
                    "pieces[" + std::to_string(index) + "]");
  SentencePiece piece;
  while (!reader.done()) {
    QTK_ASSIGN_OR_RETURN(const WireField f, reader.Next());
    if (f.number == field::kPiece) {
      QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kLengthDelimited, "piece"));
      piece.piece.assign(f.bytes.begin(), f.bytes.end());
      if (!IsValidUtf8(piece.piece)) {
        return reader.ErrorAt(f.payload_offset,
                              "piece '" + Printable(piece.piece) + "' is not valid UTF-8");
      }
    } else if (f.number == field::kScore) {
      QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kFixed32, "score"));
      piece.score = f.AsFloat();
    } else if (f.number == field::kType) {
      QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kVarint, "type"));
      if (f.varint < 1 || f.varint > 6) {
        return reader.ErrorAt(f.payload_offset, "type is " +
                                                    std::to_string(static_cast<int64_t>(f.varint)) +
                                                    ", must be 1..6 (NORMAL..BYTE)");
      }
      piece.type = static_cast<PieceType>(f.varint);
    }
  }
  return piece;
}

Status ParseTrainerSpec(const WireField& outer, std::string_view path,
                        SentencePieceTrainerSpec& spec, uint64_t& byte_fallback_offset) {
  WireReader reader(outer.bytes, outer.payload_offset, path, "trainer_spec");
  while (!reader.done()) {
    QTK_ASSIGN_OR_RETURN(const WireField f, reader.Next());
    int32_t* target = nullptr;
    std::string_view name;
    switch (f.number) {
      case field::kModelType:
        target = &spec.model_type;
        name = "model_type";
        break;
      case field::kVocabSize:
        target = &spec.vocab_size;
        name = "vocab_size";
        break;
      case field::kUnkId:
        target = &spec.unk_id;
        name = "unk_id";
        break;
      case field::kBosId:
        target = &spec.bos_id;
        name = "bos_id";
        break;
      case field::kEosId:
        target = &spec.eos_id;
        name = "eos_id";
        break;
      case field::kPadId:
        target = &spec.pad_id;
        name = "pad_id";
        break;
      case field::kByteFallback:
        QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kVarint, "byte_fallback"));
        spec.byte_fallback = f.varint != 0;
        byte_fallback_offset = f.tag_offset;
        continue;
      default:
        continue;  // fields qtk does not need
    }
    QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kVarint, name));
    *target = ToInt32(f.varint);
  }
  return Status::Ok();
}

Status ParseNormalizerSpec(const WireField& outer, std::string_view path,
                           SentencePieceNormalizerSpec& spec) {
  WireReader reader(outer.bytes, outer.payload_offset, path, "normalizer_spec");
  while (!reader.done()) {
    QTK_ASSIGN_OR_RETURN(const WireField f, reader.Next());
    bool* target = nullptr;
    std::string_view name;
    switch (f.number) {
      case field::kName:
        QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kLengthDelimited, "name"));
        spec.name.assign(f.bytes.begin(), f.bytes.end());
        continue;
      case field::kAddDummyPrefix:
        target = &spec.add_dummy_prefix;
        name = "add_dummy_prefix";
        break;
      case field::kRemoveExtraWhitespaces:
        target = &spec.remove_extra_whitespaces;
        name = "remove_extra_whitespaces";
        break;
      case field::kEscapeWhitespaces:
        target = &spec.escape_whitespaces;
        name = "escape_whitespaces";
        break;
      default:
        continue;
    }
    QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kVarint, name));
    *target = f.varint != 0;
  }
  return Status::Ok();
}

// The checks of SentencePiece's ModelInterface::InitializePieces.
Status ValidatePieces(const SentencePieceModel& model, const PieceOffsets& offsets,
                      std::string_view path) {
  std::unordered_map<std::string_view, size_t> normal_pieces;
  std::unordered_map<std::string_view, size_t> reserved_pieces;
  std::array<bool, 256> bytes_found{};
  std::optional<size_t> unk_index;
  auto error = [&](size_t i, const std::string& problem) {
    return Status::Corruption(AtOffset(path, offsets.piece_offsets[i]) + ": pieces[" +
                              std::to_string(i) + "]: " + problem);
  };
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    const SentencePiece& sp = model.pieces[i];
    if (sp.piece.empty()) return error(i, "piece is empty");
    const bool is_normal = sp.type == PieceType::kNormal || sp.type == PieceType::kUserDefined ||
                           sp.type == PieceType::kUnused;
    auto& map = is_normal ? normal_pieces : reserved_pieces;
    auto [it, inserted] = map.emplace(sp.piece, i);
    if (!inserted) {
      return error(i, "piece '" + Printable(sp.piece) + "' is already defined at index " +
                          std::to_string(it->second));
    }
    if (sp.type == PieceType::kUnknown) {
      if (unk_index) {
        return error(i,
                     "a second UNKNOWN piece, the first is at index " + std::to_string(*unk_index));
      }
      unk_index = i;
    }
    if (sp.type == PieceType::kByte) {
      if (!model.trainer_spec.byte_fallback) {
        return error(i, "BYTE piece '" + Printable(sp.piece) +
                            "' although trainer_spec.byte_fallback is false");
      }
      const int byte = BytePieceValue(sp.piece);
      if (byte < 0) {
        return error(i, "BYTE piece '" + Printable(sp.piece) + "' is not of the form <0xXX>");
      }
      bytes_found[static_cast<size_t>(byte)] = true;
    }
  }
  if (!unk_index) {
    return CorruptionAt(path, offsets.end, "ModelProto",
                        "ends without an UNKNOWN piece among its " +
                            std::to_string(model.pieces.size()) + " pieces");
  }
  if (model.trainer_spec.byte_fallback) {
    for (size_t b = 0; b < bytes_found.size(); ++b) {
      if (bytes_found[b]) continue;
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned>(b));
      return CorruptionAt(
          path, offsets.byte_fallback, "trainer_spec",
          "byte_fallback is true but BYTE piece " + std::string(name) + " is missing");
    }
  }
  return Status::Ok();
}

}  // namespace

int BytePieceValue(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int high = hex(piece[3]);
  const int low = hex(piece[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

Result<SentencePieceModel> ParseSentencePieceModel(std::span<const uint8_t> bytes,
                                                   std::string_view path) {
  WireReader reader(bytes, 0, path, "ModelProto");
  SentencePieceModel model;
  PieceOffsets offsets;
  offsets.end = bytes.size();
  while (!reader.done()) {
    QTK_ASSIGN_OR_RETURN(const WireField f, reader.Next());
    switch (f.number) {
      case field::kPieces: {
        QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kLengthDelimited, "pieces"));
        QTK_ASSIGN_OR_RETURN(SentencePiece piece, ParsePiece(f, path, model.pieces.size()));
        model.pieces.push_back(std::move(piece));
        offsets.piece_offsets.push_back(f.tag_offset);
        break;
      }
      case field::kTrainerSpec:
        QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kLengthDelimited, "trainer_spec"));
        QTK_RETURN_IF_ERROR(ParseTrainerSpec(f, path, model.trainer_spec, offsets.byte_fallback));
        break;
      case field::kNormalizerSpec:
        QTK_RETURN_IF_ERROR(ExpectType(reader, f, WireType::kLengthDelimited, "normalizer_spec"));
        QTK_RETURN_IF_ERROR(ParseNormalizerSpec(f, path, model.normalizer_spec));
        break;
      default:
        break;  // self_test_data, denormalizer_spec, extensions
    }
  }
  QTK_RETURN_IF_ERROR(ValidatePieces(model, offsets, path));
  return model;
}

Result<SentencePieceModel> ReadSentencePieceModel(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
  return ParseSentencePieceModel(source->bytes(), path);
}

std::vector<uint8_t> SerializeSentencePieceModel(const SentencePieceModel& model) {
  WireWriter proto;
  for (const SentencePiece& sp : model.pieces) {
    WireWriter piece;
    piece.Bytes(field::kPiece, sp.piece);
    piece.Float(field::kScore, sp.score);
    piece.Varint(field::kType, static_cast<uint64_t>(sp.type));
    proto.Message(field::kPieces, piece);
  }
  const SentencePieceTrainerSpec& t = model.trainer_spec;
  WireWriter trainer;
  trainer.Int32(field::kModelType, t.model_type);
  trainer.Int32(field::kVocabSize, t.vocab_size);
  trainer.Varint(field::kByteFallback, t.byte_fallback ? 1 : 0);
  trainer.Int32(field::kUnkId, t.unk_id);
  trainer.Int32(field::kBosId, t.bos_id);
  trainer.Int32(field::kEosId, t.eos_id);
  trainer.Int32(field::kPadId, t.pad_id);
  proto.Message(field::kTrainerSpec, trainer);
  const SentencePieceNormalizerSpec& n = model.normalizer_spec;
  WireWriter normalizer;
  normalizer.Bytes(field::kName, n.name);
  normalizer.Varint(field::kAddDummyPrefix, n.add_dummy_prefix ? 1 : 0);
  normalizer.Varint(field::kRemoveExtraWhitespaces, n.remove_extra_whitespaces ? 1 : 0);
  normalizer.Varint(field::kEscapeWhitespaces, n.escape_whitespaces ? 1 : 0);
  proto.Message(field::kNormalizerSpec, normalizer);
  return proto.bytes();
}

}  // namespace qtk
