// Status and Result<T>: how every fallible qtk call reports failure.
//
// Library code never throws across the public API and never logs; it returns a Status
// (or a Result<T> holding either a value or a non-ok Status) whose message is one
// lowercase line that says where and what, e.g.
//   model.gguf: offset 4128 (0x1020): tensor 'blk.0.attn_q.weight': n_dims is 7, max is 4
// The front-end prints the message once and maps the code to an exit status.
#ifndef QTK_BASE_STATUS_H_
#define QTK_BASE_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace qtk {

class Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,  // the caller asked for something impossible (bad option, bad type)
    kCorruption,       // a file's bytes are not what its format requires
    kIOError,          // the operating system refused a read or write
    kNotFound,         // a named file, tensor or key does not exist
    kUnsupported,      // valid, but qtk cannot do it (yet)
    kCancelled,        // the caller asked to stop
  };

  // An ok status.
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, std::move(message));
  }
  static Status IOError(std::string message) { return Status(Code::kIOError, std::move(message)); }
  static Status NotFound(std::string message) {
    return Status(Code::kNotFound, std::move(message));
  }
  static Status Unsupported(std::string message) {
    return Status(Code::kUnsupported, std::move(message));
  }
  static Status Cancelled(std::string message) {
    return Status(Code::kCancelled, std::move(message));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same status with "prefix: " in front of the message (ok stays ok).
  Status WithPrefix(std::string_view prefix) const;

  // "corruption: <message>" style text, for logs and test failures.
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// "<path>: offset <n> (0x<hex>)", the prefix of every message about a byte position.
std::string AtOffset(std::string_view path, uint64_t offset);

// Either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok()
  Result(Status status) : value_(std::move(status)) {}  // NOLINT: implicit by design
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(value_); }

  // The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(value_); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace qtk

#define QTK_STATUS_CONCAT_INNER_(a, b) a##b
#define QTK_STATUS_CONCAT_(a, b) QTK_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (a Status) is not ok.
#define QTK_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::qtk::Status qtk_status_ = (expr);        \
    if (!qtk_status_.ok()) return qtk_status_; \
  } while (false)

// `lhs = value of expr` (a Result<T>), or returns its Status from the current function.
#define QTK_ASSIGN_OR_RETURN(lhs, expr) \
  QTK_ASSIGN_OR_RETURN_IMPL_(QTK_STATUS_CONCAT_(qtk_result_, __LINE__), lhs, expr)
#define QTK_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                               \
  if (!result.ok()) return result.status();           \
  lhs = std::move(result).value()

#endif  // QTK_BASE_STATUS_H_
