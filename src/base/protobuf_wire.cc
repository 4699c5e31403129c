#include "base/protobuf_wire.h"

#include <bit>
#include <cstring>

namespace qtk {

std::string_view WireTypeName(WireType type) {
  switch (type) {
    case WireType::kVarint:
      return "varint";
    case WireType::kFixed64:
      return "fixed64";
    case WireType::kLengthDelimited:
      return "length-delimited";
    case WireType::kStartGroup:
      return "start-group";
    case WireType::kEndGroup:
      return "end-group";
    case WireType::kFixed32:
      return "fixed32";
  }
  return "?";
}

float WireField::AsFloat() const { return std::bit_cast<float>(static_cast<uint32_t>(fixed)); }

WireReader::WireReader(std::span<const uint8_t> bytes, uint64_t base_offset, std::string_view path,
                       std::string subject)
    : bytes_(bytes), base_offset_(base_offset), path_(path), subject_(std::move(subject)) {}

Status WireReader::ErrorAt(uint64_t offset, std::string_view problem) const {
  std::string message = AtOffset(path_, offset);
  message += ": ";
  message += subject_;
  message += ": ";
  message += problem;
  return Status::Corruption(std::move(message));
}

Status WireReader::WrongType(const WireField& field, WireType expected,
                             std::string_view field_name) const {
  return ErrorAt(field.tag_offset, "field " + std::to_string(field.number) + " (" +
                                       std::string(field_name) + "): wire type is " +
                                       std::to_string(static_cast<int>(field.type)) + " (" +
                                       std::string(WireTypeName(field.type)) + "), expected " +
                                       std::to_string(static_cast<int>(expected)) + " (" +
                                       std::string(WireTypeName(expected)) + ")");
}

Result<uint64_t> WireReader::ReadVarint(std::string_view what) {
  constexpr int kMaxVarintBytes = 10;
  const uint64_t start = position_;
  uint64_t value = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    if (position_ >= bytes_.size()) {
      return ErrorAt(base_offset_ + start, std::string(what) +
                                               ": varint is truncated, the message ends after " +
                                               std::to_string(bytes_.size() - start) + " bytes");
    }
    const uint8_t byte = bytes_[position_++];
    value |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) return value;
  }
  return ErrorAt(base_offset_ + start, std::string(what) + ": varint is longer than " +
                                           std::to_string(kMaxVarintBytes) + " bytes");
}

Result<WireField> WireReader::Next() {
  WireField field;
  field.tag_offset = base_offset_ + position_;
  QTK_ASSIGN_OR_RETURN(const uint64_t tag, ReadVarint("tag"));
  const uint64_t number = tag >> 3;
  const auto type = static_cast<uint8_t>(tag & 7);
  if (number == 0 || number > 0x1FFFFFFF) {
    return ErrorAt(field.tag_offset, "field number is " + std::to_string(number) + ", must be 1.." +
                                         std::to_string(0x1FFFFFFF));
  }
  field.number = static_cast<uint32_t>(number);
  const std::string what = "field " + std::to_string(number);
  switch (type) {
    case 0: {
      field.type = WireType::kVarint;
      field.payload_offset = base_offset_ + position_;
      QTK_ASSIGN_OR_RETURN(field.varint, ReadVarint(what));
      return field;
    }
    case 1:
    case 5: {
      field.type = type == 1 ? WireType::kFixed64 : WireType::kFixed32;
      const size_t n_bytes = type == 1 ? 8 : 4;
      field.payload_offset = base_offset_ + position_;
      if (bytes_.size() - position_ < n_bytes) {
        return ErrorAt(field.payload_offset, what + ": " + std::string(WireTypeName(field.type)) +
                                                 " needs " + std::to_string(n_bytes) +
                                                 " bytes, the message ends after " +
                                                 std::to_string(bytes_.size() - position_));
      }
      uint64_t value = 0;
      std::memcpy(&value, bytes_.data() + position_, n_bytes);  // little-endian host
      field.fixed = value;
      position_ += n_bytes;
      return field;
    }
    case 2: {
      field.type = WireType::kLengthDelimited;
      const uint64_t length_offset = base_offset_ + position_;
      QTK_ASSIGN_OR_RETURN(const uint64_t length, ReadVarint(what + " length"));
      const uint64_t left = bytes_.size() - position_;
      if (length > left) {
        return ErrorAt(length_offset, what + ": length is " + std::to_string(length) +
                                          ", the message has only " + std::to_string(left) +
                                          " bytes left");
      }
      field.payload_offset = base_offset_ + position_;
      field.bytes = bytes_.subspan(position_, length);
      position_ += length;
      return field;
    }
    case 3:
    case 4:
      return ErrorAt(field.tag_offset,
                     what + ": wire type " + std::to_string(type) + " (group) is not supported");
    default:
      return ErrorAt(field.tag_offset,
                     what + ": wire type is " + std::to_string(type) + ", must be 0, 1, 2 or 5");
  }
}

void WireWriter::RawVarint(uint64_t value) {
  while (value >= 0x80) {
    bytes_.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  bytes_.push_back(static_cast<uint8_t>(value));
}

void WireWriter::Tag(uint32_t field, WireType type) {
  RawVarint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(type));
}

void WireWriter::Varint(uint32_t field, uint64_t value) {
  Tag(field, WireType::kVarint);
  RawVarint(value);
}

void WireWriter::Int32(uint32_t field, int32_t value) {
  Varint(field, static_cast<uint64_t>(static_cast<int64_t>(value)));
}

void WireWriter::Fixed32(uint32_t field, uint32_t value) {
  Tag(field, WireType::kFixed32);
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void WireWriter::Float(uint32_t field, float value) {
  Fixed32(field, std::bit_cast<uint32_t>(value));
}

void WireWriter::Bytes(uint32_t field, std::string_view bytes) {
  Tag(field, WireType::kLengthDelimited);
  RawVarint(bytes.size());
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void WireWriter::Message(uint32_t field, const WireWriter& message) {
  Tag(field, WireType::kLengthDelimited);
  RawVarint(message.bytes_.size());
  bytes_.insert(bytes_.end(), message.bytes_.begin(), message.bytes_.end());
}

}  // namespace qtk
