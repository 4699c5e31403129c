#include "qtk/base/status.h"

#include <cinttypes>
#include <cstdio>

namespace qtk {

Status Status::WithPrefix(std::string_view prefix) const {
  if (ok()) return *this;
  std::string message(prefix);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument: " + message_;
    case Code::kCorruption:
      return "corruption: " + message_;
    case Code::kIOError:
      return "io error: " + message_;
    case Code::kNotFound:
      return "not found: " + message_;
    case Code::kUnsupported:
      return "unsupported: " + message_;
    case Code::kCancelled:
      return "cancelled: " + message_;
  }
  return message_;
}

std::string AtOffset(std::string_view path, uint64_t offset) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), ": offset %" PRIu64 " (0x%" PRIx64 ")", offset, offset);
  return std::string(path) + buffer;
}

}  // namespace qtk
