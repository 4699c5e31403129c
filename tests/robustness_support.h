// Helpers for the robustness tests: GGUF files built in the test, and the CLI run as a child
// process that the test can limit (RLIMIT_FSIZE, another user), signal, and measure.
// Header-only: the test library's file list (tests/CMakeLists.txt) stays as it is.
#ifndef QTK_TESTS_ROBUSTNESS_SUPPORT_H_
#define QTK_TESTS_ROBUSTNESS_SUPPORT_H_

#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "qtk/base/sha256.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/format/output_file.h"
#include "qtk/quant/quantize.h"
#include "test_support.h"

namespace qtk::testing {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;  // F32 data; empty: zeros
};

// The metadata of a small llama model, enough for llama-quantize's mixes.
inline std::vector<GgufKeyValue> LlamaMetadata(int n_layers = 2) {
  return {{"general.architecture", GgufValue::String("llama")},
          {"general.name", GgufValue::String("robustness")},
          {"llama.block_count", GgufValue::Uint32(static_cast<uint32_t>(n_layers))},
          {"llama.attention.head_count", GgufValue::Uint32(4)},
          {"llama.attention.head_count_kv", GgufValue::Uint32(2)}};
}

// Writes a GGUF file of F32 tensors. REQUIRES: values empty or one per element.
inline void WriteF32Gguf(const std::filesystem::path& path,
                         const std::vector<GgufKeyValue>& metadata,
                         const std::vector<TensorSpec>& tensors) {
  std::vector<GgufTensorInfo> infos;
  for (const TensorSpec& t : tensors) infos.push_back({t.name, GgmlType::kF32, t.shape, 0, 0});
  OutputFileOptions options;
  options.overwrite = true;
  options.sync = false;
  Result<std::unique_ptr<OutputFile>> file = OutputFile::Create(path.string(), options);
  if (!file.ok()) throw std::runtime_error(file.status().message());
  Result<GgufWriter> writer = GgufWriter::Start(**file, metadata, infos);
  if (!writer.ok()) throw std::runtime_error(writer.status().message());
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::vector<uint8_t> data(writer->layout().tensors[i].n_bytes, 0);
    if (!tensors[i].values.empty()) {
      if (tensors[i].values.size() * 4 != data.size()) throw std::runtime_error("bad values");
      std::memcpy(data.data(), tensors[i].values.data(), data.size());
    }
    Status status = writer->WriteTensor(data);
    if (!status.ok()) throw std::runtime_error(status.message());
  }
  Status status = writer->Finish();
  if (!status.ok()) throw std::runtime_error(status.message());
}

// `n_tensors` F32 tensors of n_rows x row_length smooth values, named like a llama model's
// ffn_up weights ("blk.<i>.ffn_up.weight"), so that every one is quantized.
inline std::vector<TensorSpec> RampTensors(int n_tensors, int64_t row_length, int64_t n_rows) {
  std::vector<TensorSpec> tensors;
  for (int t = 0; t < n_tensors; ++t) {
    TensorSpec spec{"blk." + std::to_string(t) + ".ffn_up.weight", {row_length, n_rows}, {}};
    spec.values.resize(static_cast<size_t>(row_length * n_rows));
    for (size_t i = 0; i < spec.values.size(); ++i) {
      spec.values[i] =
          static_cast<float>(static_cast<int>((i * 7919 + static_cast<size_t>(t)) % 2001) - 1000) /
          1000.0f;
    }
    tensors.push_back(std::move(spec));
  }
  return tensors;
}

// The F32 values of tensor `name` in the GGUF file at `path`, decoded from any type.
inline std::vector<float> ReadTensorAsF32(const std::filesystem::path& path,
                                          const std::string& name) {
  Result<GgufFile> file = ReadGgufFile(path.string());
  if (!file.ok()) throw std::runtime_error(file.status().message());
  const GgufTensorInfo* info = file->FindTensor(name);
  if (info == nullptr) throw std::runtime_error("no tensor " + name);
  std::vector<float> values(static_cast<size_t>(info->n_elements()));
  if (values.empty()) return values;
  Status status = DequantizeRows(info->type, file->TensorData(*info), info->row_length(), values);
  if (!status.ok()) throw std::runtime_error(status.message());
  return values;
}

// Names in `dir`, sorted: to check that no temporary file was left behind.
inline std::vector<std::string> ListDirectory(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string FileSha256(const std::filesystem::path& path) {
  return Sha256Hex(ReadFileBytes(path));
}

// `qtk <args>` as a child process, stdout and stderr to files.
class QtkProcess {
 public:
  struct Outcome {
    int exit_code = -1;  // 128 + signal number if it died of a signal
    std::string out;
    std::string err;
    int64_t peak_rss_kib = -1;  // with measure_memory: VmHWM just before exit
  };

  // `setup` runs in the child between fork and exec (set limits, change user); it should
  // only make system calls. With `measure_memory` the child is traced so that its peak
  // resident memory can be read as it exits (ru_maxrss would include the test process it
  // was forked from).
  explicit QtkProcess(const std::vector<std::string>& args, const std::function<void()>& setup = {},
                      bool measure_memory = false) {
    const std::string out = (dir_.path() / "out").string();
    const std::string err = (dir_.path() / "err").string();
    const std::string cli = CliPath();
    std::vector<std::string> argv_strings = {cli};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int in_fd = open("/dev/null", O_RDONLY);
      const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      dup2(in_fd, STDIN_FILENO);
      dup2(out_fd, STDOUT_FILENO);
      dup2(err_fd, STDERR_FILENO);
      if (setup) setup();
      if (measure_memory) ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      execv(cli.c_str(), argv.data());
      _exit(127);
    }
    if (measure_memory) {
      // Stopped at exec; if tracing is not allowed here, the child simply ran to the end.
      if (waitpid(pid_, &early_status_, 0) == pid_ && !WIFSTOPPED(early_status_)) {
        waited_ = true;
        return;
      }
      ptrace(PTRACE_SETOPTIONS, pid_, nullptr, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
      ptrace(PTRACE_CONT, pid_, nullptr, nullptr);
    }
  }
  ~QtkProcess() {
    if (!waited_ && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  QtkProcess(const QtkProcess&) = delete;
  QtkProcess& operator=(const QtkProcess&) = delete;

  // Waits until stderr contains `text`; false if the process exited first or time ran out.
  bool WaitForStderr(std::string_view text,
                     std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadFileText(dir_.path() / "err").find(text) != std::string::npos) return true;
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid_) {
        return ReadFileText(dir_.path() / "err").find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  void Signal(int signal_number) const { kill(pid_, signal_number); }

  // VmHWM from /proc/<pid>/status, in KiB (-1 if unreadable).
  int64_t PeakRssKib() const {
    const std::string status = ReadFileText("/proc/" + std::to_string(pid_) + "/status");
    const size_t at = status.find("VmHWM:");
    if (at == std::string::npos) return -1;
    return std::stoll(status.substr(at + 6));
  }

  Outcome Wait() {
    Outcome outcome;
    int status = early_status_;
    bool reaped = waited_;
    while (!reaped && waitpid(pid_, &status, 0) == pid_) {
      if (WIFSTOPPED(status)) {
        // A traced child stops at exit (read its peak memory) and for every signal it gets.
        const bool exiting = status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8));
        if (exiting) outcome.peak_rss_kib = PeakRssKib();
        const int forward = exiting || WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
        ptrace(PTRACE_CONT, pid_, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(forward)));
        continue;
      }
      reaped = true;
    }
    waited_ = reaped;
    if (reaped && WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (reaped && WIFSIGNALED(status)) outcome.exit_code = 128 + WTERMSIG(status);
    outcome.out = ReadFileText(dir_.path() / "out");
    outcome.err = ReadFileText(dir_.path() / "err");
    return outcome;
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int early_status_ = 0;
  bool waited_ = false;
};

// Runs `qtk <args>` to completion with `setup` applied in the child.
inline QtkProcess::Outcome RunQtkChild(const std::vector<std::string>& args,
                                       const std::function<void()>& setup = {}) {
  QtkProcess process(args, setup);
  return process.Wait();
}

// Sanitizers multiply memory use (and LeakSanitizer cannot run under a tracer), so peak
// memory is measured only in plain builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kMeasureMemory = false;
#else
inline constexpr bool kMeasureMemory = true;
#endif

// Runs `qtk <args>` to completion and measures its peak resident memory (if kMeasureMemory).
inline QtkProcess::Outcome RunQtkMeasured(const std::vector<std::string>& args) {
  QtkProcess process(args, {}, kMeasureMemory);
  return process.Wait();
}

// A child setup: writes past `n_bytes` fail (SIGXFSZ, or EFBIG where it is ignored).
inline std::function<void()> LimitFileSize(rlim_t n_bytes) {
  return [n_bytes] {
    struct rlimit limit {
      n_bytes, n_bytes
    };
    setrlimit(RLIMIT_FSIZE, &limit);
  };
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_ROBUSTNESS_SUPPORT_H_
