#include "qtk/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace qtk {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// Distinguishes temporary files of several outputs written by one process.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

Result<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path,
                                                        const OutputFileOptions& options) {
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      return Status::InvalidArgument(path + ": is a directory, expected an output file path");
    }
    if (!options.overwrite) {
      return Status::InvalidArgument(path + ": already exists (use --force to overwrite)");
    }
  }
  const std::string temp_path = path + ".qtk-tmp-" + std::to_string(getpid()) + "-" +
                                std::to_string(temp_counter.fetch_add(1));
  const int fd = open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    return Status::IOError(path + ": cannot create output: " + ErrnoText(error));
  }
  return std::unique_ptr<OutputFile>(new OutputFile(path, temp_path, fd, options));
}

OutputFile::OutputFile(std::string path, std::string temp_path, int fd, OutputFileOptions options)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd), options_(options) {
  buffer_.reserve(options_.buffer_bytes);
}

OutputFile::~OutputFile() { Abort(); }

void OutputFile::Abort() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!committed_ && !temp_path_.empty()) {
    unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

Status OutputFile::Write(std::span<const uint8_t> bytes) {
  return WriteAt(position_, bytes);
}

Status OutputFile::WriteAt(uint64_t offset, std::span<const uint8_t> bytes) {
  if (fd_ < 0) return Status::IOError(path_ + ": write after the output was closed");
  position_ = std::max<uint64_t>(position_, offset + bytes.size());
  const bool contiguous = offset == buffer_offset_ + buffer_.size();
  if (contiguous && buffer_.size() + bytes.size() <= options_.buffer_bytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return Status::Ok();
  }
  QTK_RETURN_IF_ERROR(Flush());
  if (bytes.size() < options_.buffer_bytes) {
    buffer_offset_ = offset;
    buffer_.assign(bytes.begin(), bytes.end());
    return Status::Ok();
  }
  // Large writes go straight to the file.
  return WriteFully(offset, bytes);
}

Status OutputFile::WriteFully(uint64_t offset, std::span<const uint8_t> bytes) {
  const uint8_t* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = pwrite(fd_, data, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      return Status::IOError(path_ + ": write failed: " + ErrnoText(error));
    }
    data += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status OutputFile::Flush() {
  QTK_RETURN_IF_ERROR(WriteFully(buffer_offset_, buffer_));
  buffer_offset_ += buffer_.size();
  buffer_.clear();
  return Status::Ok();
}

Status OutputFile::Commit() {
  if (fd_ < 0) return Status::IOError(path_ + ": commit after the output was closed");
  QTK_RETURN_IF_ERROR(Flush());
  // Positional writes may leave the end unwritten only if the caller skipped bytes at the end.
  if (ftruncate(fd_, static_cast<off_t>(position_)) != 0) {
    const int error = errno;
    return Status::IOError(path_ + ": cannot set the output size: " + ErrnoText(error));
  }
  if (options_.sync && fsync(fd_) != 0) {
    const int error = errno;
    return Status::IOError(path_ + ": fsync failed: " + ErrnoText(error));
  }
  if (close(fd_) != 0) {
    const int error = errno;
    fd_ = -1;
    return Status::IOError(path_ + ": close failed: " + ErrnoText(error));
  }
  fd_ = -1;
  if (!options_.overwrite) {
    // Refuse to replace a file that appeared while we were writing.
    if (link(temp_path_.c_str(), path_.c_str()) != 0) {
      const int error = errno;
      if (error == EEXIST) return Status::InvalidArgument(path_ + ": already exists");
      if (error != EPERM && error != ENOTSUP && error != EXDEV) {
        return Status::IOError(path_ + ": cannot move output into place: " + ErrnoText(error));
      }
      // Filesystems without hard links: fall back to rename.
      if (rename(temp_path_.c_str(), path_.c_str()) != 0) {
        const int rename_error = errno;
        return Status::IOError(path_ + ": cannot move output into place: " +
                               ErrnoText(rename_error));
      }
    } else {
      unlink(temp_path_.c_str());
    }
  } else if (rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    return Status::IOError(path_ + ": cannot move output into place: " + ErrnoText(error));
  }
  committed_ = true;
  return Status::Ok();
}

}  // namespace qtk
