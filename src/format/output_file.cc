#include "qtk/format/output_file.h"

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

// Where a temporary file for `path` goes: the same directory, so the final link or rename
// never crosses a filesystem.
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// An anonymous file in `directory`, or -1 with errno set. It can only be given a name later
// through /proc/self/fd, so without /proc it is not used.
int OpenAnonymous(const std::string& directory) {
  if (access("/proc/self/fd", X_OK) != 0) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
}

// The filesystem (or kernel) cannot make anonymous files: use a named one instead.
bool AnonymousUnsupported(int error) {
  return error == EOPNOTSUPP || error == EISDIR || error == EINVAL || error == ENOTSUP;
}

std::string TempName(const std::string& path) {
  return path + ".qtk-tmp-" + std::to_string(getpid()) + "-" +
         std::to_string(temp_counter.fetch_add(1));
}

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
  if (options.anonymous_temp) {
    const int fd = OpenAnonymous(DirectoryOf(path));
    if (fd >= 0) return std::unique_ptr<OutputFile>(new OutputFile(path, "", fd, options));
    const int error = errno;
    if (!AnonymousUnsupported(error)) {
      return Status::IOError(path + ": cannot create output: " + ErrnoText(error));
    }
  }
  const std::string temp_path = TempName(path);
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

Status OutputFile::Write(std::span<const uint8_t> bytes) { return WriteAt(position_, bytes); }

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
  QTK_RETURN_IF_ERROR(temp_path_.empty() ? PlaceAnonymous() : PlaceNamed());
  committed_ = true;
  return Status::Ok();
}

// Gives the anonymous file its name. Without overwrite, link() refuses a file that appeared
// meanwhile; with it, the file is linked under a temporary name and renamed over the old one.
Status OutputFile::PlaceAnonymous() {
  const std::string self = "/proc/self/fd/" + std::to_string(fd_);
  const std::string target = options_.overwrite ? TempName(path_) : path_;
  if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    const int error = errno;
    if (error == EEXIST) return Status::InvalidArgument(path_ + ": already exists");
    return Status::IOError(path_ + ": cannot move output into place: " + ErrnoText(error));
  }
  if (close(fd_) != 0) {
    const int error = errno;
    fd_ = -1;
    unlink(target.c_str());
    return Status::IOError(path_ + ": close failed: " + ErrnoText(error));
  }
  fd_ = -1;
  if (options_.overwrite && rename(target.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    unlink(target.c_str());
    return Status::IOError(path_ + ": cannot move output into place: " + ErrnoText(error));
  }
  return Status::Ok();
}

Status OutputFile::PlaceNamed() {
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
        return Status::IOError(path_ +
                               ": cannot move output into place: " + ErrnoText(rename_error));
      }
    } else {
      unlink(temp_path_.c_str());
    }
  } else if (rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    return Status::IOError(path_ + ": cannot move output into place: " + ErrnoText(error));
  }
  temp_path_.clear();
  return Status::Ok();
}

}  // namespace qtk
