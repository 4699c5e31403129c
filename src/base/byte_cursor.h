// A bounds-checked little-endian reader over a byte span (internal).
//
// Every read names what it reads, so a truncated file reports
//   <path>: offset <n> (0x..): <what>: needs 8 bytes, file ends after 3
#ifndef QTK_BASE_BYTE_CURSOR_H_
#define QTK_BASE_BYTE_CURSOR_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "qtk/base/status.h"

namespace qtk {

// Corruption: "<path>: offset <n> (0x..): <subject>: <problem>" (no subject: "...: <problem>").
inline Status CorruptionAt(std::string_view path, uint64_t offset, std::string_view subject,
                           std::string_view problem) {
  std::string message = AtOffset(path, offset);
  message += ": ";
  if (!subject.empty()) {
    message += subject;
    message += ": ";
  }
  message += problem;
  return Status::Corruption(std::move(message));
}

class ByteCursor {
 public:
  ByteCursor(std::span<const uint8_t> bytes, std::string_view path) : bytes_(bytes), path_(path) {}

  uint64_t position() const { return position_; }
  uint64_t remaining() const { return bytes_.size() - position_; }
  uint64_t size() const { return bytes_.size(); }
  std::string_view path() const { return path_; }

  // A Corruption status for a problem with the field at `offset`.
  Status ErrorAt(uint64_t offset, std::string_view subject, std::string_view problem) const {
    return CorruptionAt(path_, offset, subject, problem);
  }

  template <typename T>
  Result<T> Read(std::string_view what) {
    T value;
    QTK_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(&value, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }

  // A view of the next n bytes.
  Result<std::span<const uint8_t>> ReadBytes(uint64_t n, std::string_view what) {
    QTK_RETURN_IF_ERROR(Need(n, what));
    auto view = bytes_.subspan(position_, n);
    position_ += n;
    return view;
  }

  Status Need(uint64_t n, std::string_view what) const {
    if (n <= remaining()) return Status::Ok();
    return ErrorAt(
        position_, what,
        "needs " + std::to_string(n) + " bytes, file ends after " + std::to_string(remaining()));
  }

  void Seek(uint64_t position) { position_ = position; }

 private:
  std::span<const uint8_t> bytes_;
  std::string_view path_;
  uint64_t position_ = 0;
};

}  // namespace qtk

#endif  // QTK_BASE_BYTE_CURSOR_H_
