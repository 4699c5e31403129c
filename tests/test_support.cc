#include "test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace qtk::testing {

std::optional<std::filesystem::path> SharedTestdata() {
  if (const char* env = std::getenv("QTK_SHARED_TESTDATA")) {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  const std::filesystem::path path =
      std::filesystem::path(QTK_SOURCE_DIR).parent_path() / "shared" / "testdata";
  if (std::filesystem::is_directory(path)) return path;
  return std::nullopt;
}

namespace {
std::atomic<int> temp_dir_counter{0};
}

TempDir::TempDir() {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  if (const char* env = std::getenv("QTK_TEST_TMP")) base = env;
  std::filesystem::create_directories(base);
  path_ = base / ("qtk-test-" + std::to_string(getpid()) + "-" +
                  std::to_string(temp_dir_counter.fetch_add(1)));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteFileBytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string ReadFileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string CliPath() { return QTK_CLI_PATH; }

namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

CommandResult RunQtk(const std::vector<std::string>& args) {
  TempDir dir;
  std::string command = ShellQuote(CliPath());
  for (const std::string& arg : args) command += " " + ShellQuote(arg);
  command += " >" + ShellQuote((dir / "out").string()) + " 2>" +
             ShellQuote((dir / "err").string()) + " </dev/null";
  const int status = std::system(command.c_str());
  CommandResult result;
  if (status != -1 && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (status != -1 && WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  result.out = ReadFileText(dir / "out");
  result.err = ReadFileText(dir / "err");
  return result;
}

}  // namespace qtk::testing
