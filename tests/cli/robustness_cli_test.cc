// Faults and hostile files through the built CLI, as a user (or a CI job) meets them: exit
// codes, one-line errors, no output or temporary file left behind, the input untouched.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <limits>

#include "robustness_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::ListDirectory;
using testing::QtkProcess;
using testing::RunQtkChild;
using testing::TempDir;

// ~48 MiB of F32 in 48 tensors: long enough to interrupt, even single-threaded.
void WriteBigModel(const std::filesystem::path& path) {
  testing::WriteF32Gguf(path, testing::LlamaMetadata(48), testing::RampTensors(48, 1024, 256));
}

TEST_CASE("quantize on a full disk exits 1 and leaves nothing", "[robustness][cli]") {
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(), testing::RampTensors(4, 1024, 64));
  const auto out = tmp / "out.gguf";
  // RLIMIT_FSIZE: the write that crosses 100 kB fails (qtk ignores SIGXFSZ to see EFBIG).
  const auto result = RunQtkChild({"quantize", "-q", input.string(), out.string(), "F16"},
                                  testing::LimitFileSize(100000));
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + out.string() + ": write failed: File too large\n");
  CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"model.gguf"});
}

TEST_CASE("quantize onto a small tmpfs exits 1 and leaves nothing", "[robustness][cli]") {
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(), testing::RampTensors(4, 1024, 64));
  std::filesystem::create_directory(tmp / "small");
  const auto out = tmp / "small" / "out.gguf";
  // The tmpfs lives in a private mount namespace of a child, which runs qtk and reports.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string report;
    if (unshare(CLONE_NEWNS) != 0 ||
        mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", (tmp / "small").c_str(), "tmpfs", 0, "size=128k") != 0) {
      report = std::string("skip: ") + std::strerror(errno);
    } else {
      const auto result = RunQtkChild({"quantize", "-q", input.string(), out.string(), "F16"});
      report = std::to_string(result.exit_code) + "|" + result.err + "|";
      for (const std::string& name : ListDirectory(tmp / "small")) report += name + " ";
    }
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0)
    report.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  if (report.starts_with("skip")) {
    WARN("skipped: cannot mount a small tmpfs here (" << report << ")");
    return;
  }
  CHECK(report == "1|qtk: error: " + out.string() + ": write failed: No space left on device\n|");
}

void CheckInterrupted(int signal_number, int expected_exit) {
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  WriteBigModel(input);
  const std::string before = testing::FileSha256(input);
  const auto out = tmp / "out.gguf";
  QtkProcess qtk({"quantize", "-v", "--threads", "1", input.string(), out.string(), "Q6_K"});
  REQUIRE(qtk.WaitForStderr("[   1/  48]"));
  qtk.Signal(signal_number);
  const auto result = qtk.Wait();
  INFO(result.err);
  CHECK(result.exit_code == expected_exit);
  CHECK(result.err.find("qtk: interrupted; no output was written\n") != std::string::npos);
  CHECK(result.err.find("[  48/  48]") == std::string::npos);  // it stopped early
  CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"model.gguf"});
  CHECK(testing::FileSha256(input) == before);
}

TEST_CASE("SIGINT during quantize exits 130 and leaves nothing", "[robustness][cli]") {
  CheckInterrupted(SIGINT, 130);
}

TEST_CASE("SIGTERM during quantize exits 143 and leaves nothing", "[robustness][cli]") {
  CheckInterrupted(SIGTERM, 143);
}

// True if `dir` can hold anonymous (O_TMPFILE) files, which no death of qtk leaves behind.
bool SupportsAnonymousFiles(const std::filesystem::path& dir) {
  const int probe = open(dir.c_str(), O_TMPFILE | O_WRONLY, 0600);
  if (probe < 0) return false;
  close(probe);
  return true;
}

TEST_CASE("SIGKILL or a second SIGINT during quantize leaves no file", "[robustness][cli]") {
  TempDir tmp;
  if (!SupportsAnonymousFiles(tmp.path())) {
    WARN("skipped: no O_TMPFILE here, so a killed qtk leaves its named temporary file");
    return;
  }
  const auto input = tmp / "model.gguf";
  WriteBigModel(input);
  for (const std::vector<int>& signals : {std::vector<int>{SIGKILL}, {SIGINT, SIGINT}}) {
    QtkProcess qtk(
        {"quantize", "-v", "--threads", "1", input.string(), (tmp / "out.gguf").string(), "Q6_K"});
    REQUIRE(qtk.WaitForStderr("[   1/  48]"));
    for (int signal_number : signals) qtk.Signal(signal_number);
    const auto result = qtk.Wait();
    CHECK(result.exit_code == 128 + signals.front());
    CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"model.gguf"});
  }
}

TEST_CASE("an input truncated while quantize reads it is a clean error", "[robustness][cli]") {
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  WriteBigModel(input);
  const auto out = tmp / "out.gguf";
  QtkProcess qtk({"quantize", "-v", "--threads", "1", input.string(), out.string(), "Q6_K"});
  REQUIRE(qtk.WaitForStderr("[   1/  48]"));
  std::filesystem::resize_file(input, std::filesystem::file_size(input) / 3);
  const auto result = qtk.Wait();
  INFO(result.err);
  CHECK(result.exit_code == 1);
  // Usually the size check before the next tensor sees it; if the truncation lands while a
  // tensor is being read, the SIGBUS handler reports it instead.
  const bool checked =
      result.err.find("qtk: error: " + input.string() +
                      ": changed while being read: shrank from") != std::string::npos;
  const bool bus_error =
      result.err.find("qtk: error: bus error reading a memory-mapped input") != std::string::npos;
  CHECK((checked || bus_error));
  CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"model.gguf"});
}

TEST_CASE("a bus error (truncation between check and read) exits 1 and leaves nothing",
          "[robustness][cli]") {
  // The race the size checks cannot close, made deterministic: deliver the SIGBUS directly.
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  WriteBigModel(input);
  QtkProcess qtk(
      {"quantize", "-v", "--threads", "1", input.string(), (tmp / "out.gguf").string(), "Q6_K"});
  REQUIRE(qtk.WaitForStderr("[   1/  48]"));
  qtk.Signal(SIGBUS);
  const auto result = qtk.Wait();
  CHECK(result.exit_code == 1);
  CHECK(result.err.ends_with(
      "qtk: error: bus error reading a memory-mapped input: the file was truncated while being "
      "read; no output was written\n"));
  // Only an anonymous temporary file vanishes with a process that exits from a handler.
  if (!SupportsAnonymousFiles(tmp.path())) {
    WARN("no O_TMPFILE on this filesystem: a named temporary file may be left behind");
    return;
  }
  CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"model.gguf"});
}

TEST_CASE("quantize refuses an output that is a hard link to the input", "[robustness][cli]") {
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(), testing::RampTensors(2, 256, 4));
  std::filesystem::create_hard_link(input, tmp / "alias.gguf");
  const std::string before = testing::FileSha256(input);
  const auto result =
      RunQtkChild({"quantize", "--force", input.string(), (tmp / "alias.gguf").string(), "F16"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "qtk: error: " + (tmp / "alias.gguf").string() + ": is the input file " +
                          input.string() + "; refusing to overwrite the input\n");
  CHECK(testing::FileSha256(input) == before);
  CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"alias.gguf", "model.gguf"});
}

TEST_CASE("an unreadable input is a one-line error", "[robustness][cli]") {
  TempDir tmp;
  const auto input = tmp / "model.gguf";
  testing::WriteF32Gguf(input, testing::LlamaMetadata(), testing::RampTensors(1, 256, 4));
  std::filesystem::permissions(input, std::filesystem::perms::none);
  // Root reads anything: run qtk as 'nobody' then (the test directory must let it in).
  std::function<void()> setup;
  if (geteuid() == 0) {
    std::filesystem::permissions(tmp.path(), std::filesystem::perms::all);
    setup = [] {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(126);
    };
  }
  const auto result = RunQtkChild({"inspect", input.string()}, setup);
  if (result.exit_code == 126 || result.exit_code == 127) {
    WARN("skipped: cannot run qtk as another user here (exit " << result.exit_code << ")");
    return;
  }
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + input.string() + ": cannot open: Permission denied\n");
  const auto quantize = RunQtkChild({"quantize", input.string(), "F16"}, setup);
  CHECK(quantize.exit_code == 1);
  CHECK(quantize.err == result.err);
}

}  // namespace
}  // namespace qtk
