// A small bounds-checked reader and writer for the protobuf wire format (internal).
//
// Wire format (https://protobuf.dev/programming-guides/encoding/):
//   message  = field*
//   field    = tag payload
//   tag      = varint: (field_number << 3) | wire_type, field_number >= 1
//   varint   = 1..10 bytes, 7 bits each, least significant group first, high bit = "more"
//   payload  = wire type 0: varint
//              wire type 1: 8 bytes little-endian (fixed64, double)
//              wire type 2: varint length + that many bytes (string, bytes, embedded message)
//              wire type 5: 4 bytes little-endian (fixed32, float)
//              wire types 3 and 4 (groups) are deprecated; 6 and 7 do not exist.
// Every read checks that it stays inside the message being read, so a nested message can
// never reach past its own length, and every error names the absolute file offset.
#ifndef QTK_BASE_PROTOBUF_WIRE_H_
#define QTK_BASE_PROTOBUF_WIRE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// "varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32".
std::string_view WireTypeName(WireType type);

// One field as read from the wire.
struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t tag_offset = 0;         // absolute file offset of the tag
  uint64_t payload_offset = 0;     // absolute file offset of the payload (after a length prefix)
  uint64_t varint = 0;             // wire type 0
  uint64_t fixed = 0;              // wire types 1 and 5 (fixed32 zero-extended)
  std::span<const uint8_t> bytes;  // wire type 2

  float AsFloat() const;
};

class WireReader {
 public:
  // Reads the message `bytes`, which starts at absolute `base_offset` in the file `path`.
  // `subject` names the message in error messages ("ModelProto", "pieces[3]").
  WireReader(std::span<const uint8_t> bytes, uint64_t base_offset, std::string_view path,
             std::string subject);

  bool done() const { return position_ >= bytes_.size(); }

  // The next field. Errors (Corruption): truncated or over-long varints, field number 0,
  // lengths past the end of the message, group or unknown wire types.
  Result<WireField> Next();

  // Corruption for `field` having the wrong wire type for `field_name`.
  Status WrongType(const WireField& field, WireType expected, std::string_view field_name) const;

  // Corruption at absolute `offset` about this message.
  Status ErrorAt(uint64_t offset, std::string_view problem) const;

  std::string_view path() const { return path_; }
  const std::string& subject() const { return subject_; }

 private:
  Result<uint64_t> ReadVarint(std::string_view what);

  std::span<const uint8_t> bytes_;
  uint64_t base_offset_;
  std::string_view path_;
  std::string subject_;
  uint64_t position_ = 0;
};

// Builds a message field by field (for writing files qtk generates).
class WireWriter {
 public:
  void Varint(uint32_t field, uint64_t value);
  // int32 fields: negative values are sign-extended to 64 bits, as protobuf does.
  void Int32(uint32_t field, int32_t value);
  void Fixed32(uint32_t field, uint32_t value);
  void Float(uint32_t field, float value);
  void Bytes(uint32_t field, std::string_view bytes);
  void Message(uint32_t field, const WireWriter& message);

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void Tag(uint32_t field, WireType type);
  void RawVarint(uint64_t value);

  std::vector<uint8_t> bytes_;
};

}  // namespace qtk

#endif  // QTK_BASE_PROTOBUF_WIRE_H_
