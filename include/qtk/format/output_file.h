// Byte sinks for writers: an output file that appears only when complete, or memory.
//
// OutputFile writes to a temporary file in the destination's directory and moves it into
// place on Commit(). Where the filesystem supports it (Linux O_TMPFILE: ext4, xfs, btrfs,
// tmpfs) the temporary file has no name until Commit() links it, so nothing, not even a
// crash or SIGKILL, leaves a half-written output behind. Elsewhere it is
// "<path>.qtk-tmp-<pid>-<n>", and destroying an uncommitted OutputFile removes it, so an
// error, an exception or a handled signal leaves nothing behind.
#ifndef QTK_FORMAT_OUTPUT_FILE_H_
#define QTK_FORMAT_OUTPUT_FILE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Appends `bytes` at position().
  virtual Status Write(std::span<const uint8_t> bytes) = 0;
  // Writes `bytes` at `offset` (any order; gaps read back as zeros). position() becomes
  // the largest end written so far.
  virtual Status WriteAt(uint64_t offset, std::span<const uint8_t> bytes) = 0;
  // Makes everything written durable and visible. No writes after Commit().
  virtual Status Commit() = 0;
  // The end of the bytes written so far.
  virtual uint64_t position() const = 0;
};

struct OutputFileOptions {
  // Replace an existing file at the destination. Default: refuse.
  bool overwrite = false;
  // fsync the file before the rename. Default: on.
  bool sync = true;
  // Size of the write buffer. Default: 4 MiB.
  size_t buffer_bytes = size_t{4} << 20;
  // Use an anonymous (O_TMPFILE) temporary file where possible. Default: on; tests turn it
  // off to exercise the named fallback.
  bool anonymous_temp = true;
};

class OutputFile final : public ByteSink {
 public:
  // Creates the temporary file. Errors: InvalidArgument if `path` exists and !overwrite,
  // IOError if the directory is not writable.
  static Result<std::unique_ptr<OutputFile>> Create(const std::string& path,
                                                    const OutputFileOptions& options = {});
  ~OutputFile() override;  // removes the temporary file unless committed

  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  Status Write(std::span<const uint8_t> bytes) override;
  Status WriteAt(uint64_t offset, std::span<const uint8_t> bytes) override;
  Status Commit() override;
  uint64_t position() const override { return position_; }

  const std::string& path() const { return path_; }
  // The named temporary file, or "" when it is anonymous (or gone).
  const std::string& temp_path() const { return temp_path_; }

  // Removes the temporary file now (idempotent). Commit() after Abort() fails.
  void Abort();

 private:
  OutputFile(std::string path, std::string temp_path, int fd, OutputFileOptions options);
  Status Flush();
  Status WriteFully(uint64_t offset, std::span<const uint8_t> bytes);
  Status PlaceAnonymous();
  Status PlaceNamed();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  OutputFileOptions options_;
  std::vector<uint8_t> buffer_;  // bytes for [buffer_offset_, buffer_offset_ + size)
  uint64_t buffer_offset_ = 0;
  uint64_t position_ = 0;
  bool committed_ = false;
};

// Collects bytes in memory (tests, size computations).
class MemorySink final : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> bytes) override {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return Status::Ok();
  }
  Status WriteAt(uint64_t offset, std::span<const uint8_t> bytes) override {
    if (offset + bytes.size() > bytes_.size()) bytes_.resize(offset + bytes.size(), 0);
    std::copy(bytes.begin(), bytes.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(offset));
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  uint64_t position() const override { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace qtk

#endif  // QTK_FORMAT_OUTPUT_FILE_H_
