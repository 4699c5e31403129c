// Helpers shared by the tests: where the shared test data lives, temporary directories,
// building handcrafted files, and running the built `qtk` binary.
#ifndef QTK_TESTS_TEST_SUPPORT_H_
#define QTK_TESTS_TEST_SUPPORT_H_

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qtk::testing {

// ../shared/testdata beside the project root, or nullopt (tests then skip with a message).
std::optional<std::filesystem::path> SharedTestdata();

// Skips the current test (with a WARN) when the shared test data are absent.
#define QTK_REQUIRE_TESTDATA(var)                                                 \
  auto var##_optional = ::qtk::testing::SharedTestdata();                         \
  if (!var##_optional) {                                                          \
    WARN("skipped: ../shared/testdata is absent (a fresh clone has no shared/)"); \
    return;                                                                       \
  }                                                                               \
  const std::filesystem::path var = *var##_optional

// A fresh empty directory for one test, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);
void WriteFileBytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
std::string ReadFileText(const std::filesystem::path& path);

// Appends little-endian values and strings to a byte vector: for handcrafted files.
class Bytes {
 public:
  template <typename T>
  Bytes& Put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& Raw(const std::string& s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& GgufString(const std::string& s) {
    Put<uint64_t>(s.size());
    return Raw(s);
  }
  Bytes& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  Bytes& PadTo(size_t alignment) {
    bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t>& mutable_bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// The result of running the built CLI.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `qtk <args>` (args are shell-quoted here) and captures everything.
CommandResult RunQtk(const std::vector<std::string>& args);
std::string CliPath();

}  // namespace qtk::testing

#endif  // QTK_TESTS_TEST_SUPPORT_H_
