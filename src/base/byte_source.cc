#include "qtk/base/byte_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <cstring>
#include <utility>

namespace qtk {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

class MappedFileSource final : public ByteSource {
 public:
  MappedFileSource(std::string path, int fd, const struct stat& info, void* address)
      : path_(std::move(path)),
        fd_(fd),
        mapped_info_(info),
        address_(address),
        n_bytes_(static_cast<size_t>(info.st_size)) {}
  ~MappedFileSource() override {
    if (address_ != nullptr) munmap(address_, n_bytes_);
    close(fd_);
  }
  MappedFileSource(const MappedFileSource&) = delete;
  MappedFileSource& operator=(const MappedFileSource&) = delete;

  std::span<const uint8_t> bytes() const override {
    return {static_cast<const uint8_t*>(address_), n_bytes_};
  }
  const std::string& name() const override { return path_; }

  Status CheckUnchanged() const override {
    struct stat now {};
    if (fstat(fd_, &now) != 0) {
      const int error = errno;
      return Status::IOError(path_ + ": cannot stat: " + ErrnoText(error));
    }
    if (now.st_size < mapped_info_.st_size) {
      return Status::IOError(path_ + ": changed while being read: shrank from " +
                             std::to_string(mapped_info_.st_size) + " to " +
                             std::to_string(now.st_size) + " bytes");
    }
    if (now.st_size != mapped_info_.st_size || !SameTime(now.st_mtim, mapped_info_.st_mtim)) {
      return Status::IOError(path_ + ": changed while being read: modified since it was opened");
    }
    return Status::Ok();
  }

  void AdviseSequential(uint64_t offset, uint64_t n_bytes) const override {
    Advise(offset, n_bytes, MADV_WILLNEED);
  }
  void AdviseDone(uint64_t offset, uint64_t n_bytes) const override {
    Advise(offset, n_bytes, MADV_DONTNEED);
  }

 private:
  void Advise(uint64_t offset, uint64_t n_bytes, int advice) const {
    if (address_ == nullptr || offset >= n_bytes_) return;
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const uint64_t begin = offset / page * page;
    const uint64_t end = std::min<uint64_t>(offset + n_bytes, n_bytes_);
    madvise(static_cast<uint8_t*>(address_) + begin, end - begin, advice);
  }

  std::string path_;
  int fd_;
  struct stat mapped_info_;
  void* address_;
  size_t n_bytes_;
};

class MemoryByteSource final : public ByteSource {
 public:
  MemoryByteSource(std::string name, std::vector<uint8_t> bytes)
      : name_(std::move(name)), bytes_(std::move(bytes)) {}
  std::span<const uint8_t> bytes() const override { return bytes_; }
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

Result<std::shared_ptr<const ByteSource>> MapFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": cannot open: " + ErrnoText(error));
  }
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    close(fd);
    return Status::IOError(path + ": cannot stat: " + ErrnoText(error));
  }
  if (S_ISDIR(info.st_mode)) {
    close(fd);
    return Status::InvalidArgument(path + ": is a directory, expected a file");
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return Status::InvalidArgument(path + ": not a regular file");
  }
  const auto n_bytes = static_cast<size_t>(info.st_size);
  void* address = nullptr;
  if (n_bytes > 0) {
    address = mmap(nullptr, n_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED) {
      const int error = errno;
      close(fd);
      return Status::IOError(path + ": cannot map: " + ErrnoText(error));
    }
  }
  return std::shared_ptr<const ByteSource>(
      std::make_shared<MappedFileSource>(path, fd, info, address));
}

std::shared_ptr<const ByteSource> MemorySource(std::string name, std::vector<uint8_t> bytes) {
  return std::make_shared<MemoryByteSource>(std::move(name), std::move(bytes));
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return text.str();
}

}  // namespace qtk
