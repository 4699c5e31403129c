// Faults and hostile values at the library level: write errors and full disks, inputs that
// change while being read, values the formats cannot hold. The same faults through the CLI
// are in robustness_cli_test.cc; docs/robustness.md lists what each test guarantees.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <limits>

#include "qtk/format/imatrix.h"
#include "qtk/format/output_file.h"
#include "qtk/model/model_input.h"
#include "qtk/pipeline/quantize_model.h"
#include "qtk/quant/quantize.h"
#include "robustness_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::ListDirectory;
using testing::TempDir;

// Runs `body` in a forked child and returns what it returned (through a pipe): for faults
// that must not touch the test process (resource limits, mount namespaces).
std::string InChild(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    const std::string result = body();
    (void)!write(fds[1], result.data(), result.size());
    _exit(0);
  }
  close(fds[1]);
  std::string result;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0)
    result.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  return result;
}

// Writes 1 MiB through an OutputFile and commits; returns the first error, "ok", and what
// is left in the directory.
std::string WriteMebibyte(const std::filesystem::path& dir, bool anonymous_temp) {
  OutputFileOptions options;
  options.anonymous_temp = anonymous_temp;
  options.buffer_bytes = 64 << 10;
  Result<std::unique_ptr<OutputFile>> file =
      OutputFile::Create((dir / "out.gguf").string(), options);
  if (!file.ok()) return "create: " + file.status().message();
  const std::vector<uint8_t> chunk(100000, 7);
  Status status;
  for (int i = 0; i < 11 && status.ok(); ++i) status = (*file)->Write(chunk);
  if (status.ok()) status = (*file)->Commit();
  file->reset();
  std::string left;
  for (const std::string& name : ListDirectory(dir)) left += " " + name;
  return (status.ok() ? "ok" : status.message()) + " | left:" + left;
}

TEST_CASE("a write past the file size limit fails cleanly and leaves nothing", "[robustness]") {
  for (bool anonymous : {true, false}) {
    TempDir tmp;
    const std::string result = InChild([&] {
      signal(SIGXFSZ, SIG_IGN);  // as the CLI does: the write then fails with EFBIG
      struct rlimit limit {
        256 << 10, 256 << 10
      };
      setrlimit(RLIMIT_FSIZE, &limit);
      return WriteMebibyte(tmp.path(), anonymous);
    });
    INFO("anonymous temp: " << anonymous);
    CHECK(result == (tmp / "out.gguf").string() + ": write failed: File too large | left:");
  }
}

TEST_CASE("a full disk fails cleanly and leaves nothing", "[robustness]") {
  TempDir tmp;
  // A 256 KiB tmpfs, mounted in a private mount namespace of a child (needs root).
  const std::string result = InChild([&] {
    if (unshare(CLONE_NEWNS) != 0) return std::string("skip: unshare: ") + std::strerror(errno);
    if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", tmp.path().c_str(), "tmpfs", 0, "size=256k") != 0) {
      return std::string("skip: mount: ") + std::strerror(errno);
    }
    return WriteMebibyte(tmp.path(), true) + " / " + WriteMebibyte(tmp.path(), false);
  });
  if (result.starts_with("skip")) {
    WARN("skipped: cannot mount a small tmpfs here (" << result << ")");
    return;
  }
  const std::string expected =
      (tmp / "out.gguf").string() + ": write failed: No space left on device | left:";
  CHECK(result == expected + " / " + expected);
}

TEST_CASE("an output that appears meanwhile is not replaced", "[robustness]") {
  for (bool anonymous : {true, false}) {
    TempDir tmp;
    OutputFileOptions options;
    options.anonymous_temp = anonymous;
    auto file = OutputFile::Create((tmp / "out").string(), options);
    REQUIRE(file.ok());
    CHECK((*file)->temp_path().empty() == anonymous);
    REQUIRE((*file)->Write(std::vector<uint8_t>{1, 2, 3}).ok());
    testing::WriteFileBytes(tmp / "out", {9});
    const Status status = (*file)->Commit();
    CHECK(status.message() == (tmp / "out").string() + ": already exists");
    file->reset();
    CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"out"});
    CHECK(testing::ReadFileBytes(tmp / "out") == std::vector<uint8_t>{9});
  }
}

TEST_CASE("overwriting replaces the file whole, with either kind of temp file", "[robustness]") {
  for (bool anonymous : {true, false}) {
    TempDir tmp;
    testing::WriteFileBytes(tmp / "out", {9, 9, 9, 9});
    OutputFileOptions options;
    options.anonymous_temp = anonymous;
    options.overwrite = true;
    auto file = OutputFile::Create((tmp / "out").string(), options);
    REQUIRE(file.ok());
    REQUIRE((*file)->Write(std::vector<uint8_t>{1, 2}).ok());
    REQUIRE((*file)->Commit().ok());
    file->reset();
    CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"out"});
    CHECK(testing::ReadFileBytes(tmp / "out") == std::vector<uint8_t>{1, 2});
  }
}

// A model of four F32 tensors, opened and planned to F16, then `change` applied to the file.
struct ChangedInput {
  TempDir tmp;
  std::filesystem::path input = tmp / "model.gguf";
  std::unique_ptr<ModelInput> model;
  std::vector<OutputPlan> plans;
  QuantizeModelOptions options;

  ChangedInput() {
    testing::WriteF32Gguf(input, testing::LlamaMetadata(), testing::RampTensors(4, 256, 64));
    auto opened = OpenGgufInput(input.string());
    REQUIRE(opened.ok());
    model = std::move(opened).value();
    options.sync = false;
    auto planned =
        PlanModel(*model, {{(tmp / "out.gguf").string(), FileType::kMostlyF16}}, options);
    REQUIRE(planned.ok());
    plans = std::move(planned).value();
  }
  Status Quantize() { return QuantizeModel(*model, plans, options).status(); }
};

TEST_CASE("an input truncated after it was opened is an error, not SIGBUS", "[robustness]") {
  ChangedInput c;
  const auto size = std::filesystem::file_size(c.input);
  std::filesystem::resize_file(c.input, size / 2);
  const Status status = c.Quantize();
  CHECK(status.code() == Status::Code::kIOError);
  CHECK(status.message() == c.input.string() + ": changed while being read: shrank from " +
                                std::to_string(size) + " to " + std::to_string(size / 2) +
                                " bytes");
  CHECK(ListDirectory(c.tmp.path()) == std::vector<std::string>{"model.gguf"});
  std::vector<float> values(256 * 64);
  CHECK(c.model->ReadF32(3, values, 1).code() == Status::Code::kIOError);
}

TEST_CASE("an input rewritten after it was opened is an error", "[robustness]") {
  ChangedInput c;
  {
    std::fstream f(c.input, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-4, std::ios::end);
    f.write("\x00\x00\x80\x7f", 4);  // +inf
  }
  // Set the time explicitly: the clock may not have ticked since the file was written.
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};
  REQUIRE(utimensat(AT_FDCWD, c.input.c_str(), times, 0) == 0);
  const Status status = c.Quantize();
  CHECK(status.message() ==
        c.input.string() + ": changed while being read: modified since it was opened");
  CHECK(ListDirectory(c.tmp.path()) == std::vector<std::string>{"model.gguf"});
}

TEST_CASE("an input replaced by rename while being read is read as opened", "[robustness]") {
  ChangedInput c;
  testing::WriteF32Gguf(c.tmp / "other.gguf", {}, {});
  std::filesystem::rename(c.tmp / "other.gguf", c.input);  // the open file lives on
  REQUIRE(c.Quantize().ok());
  CHECK(std::filesystem::file_size(c.tmp / "out.gguf") > 4 * 256 * 64 * 2);
}

// Quantizes one F32 tensor of `values` (row of `row_length`) with `file_type`.
Status QuantizeValues(const std::vector<float>& values, int64_t row_length, FileType file_type,
                      NanPolicy policy, TempDir& tmp) {
  const auto n_rows = static_cast<int64_t>(values.size()) / row_length;
  testing::WriteF32Gguf(tmp / "in.gguf", testing::LlamaMetadata(),
                        {{"blk.0.ffn_up.weight", {row_length, n_rows}, values}});
  auto input = OpenGgufInput((tmp / "in.gguf").string());
  REQUIRE(input.ok());
  QuantizeModelOptions options;
  options.sync = false;
  options.nan_policy = policy;
  options.plan.pure = true;
  auto plans = PlanModel(**input, {{(tmp / "out.gguf").string(), file_type}}, options);
  REQUIRE(plans.ok());
  return QuantizeModel(**input, *plans, options).status();
}

TEST_CASE("values a type cannot hold are refused after quantizing", "[robustness]") {
  TempDir tmp;
  std::vector<float> values(64, 0.5f);
  values[3] = 1e5f;  // above F16's 65504
  Status status = QuantizeValues(values, 32, FileType::kMostlyF16, NanPolicy::kRefuse, tmp);
  CHECK(status.code() == Status::Code::kUnsupported);
  CHECK(status.message() == (tmp / "in.gguf").string() +
                                ": tensor 'blk.0.ffn_up.weight': element 3 (row 0, column 3) "
                                "becomes inf in F16 (the row's largest magnitude is 100000): the "
                                "values (or importance weights) are too large for it");
  CHECK(ListDirectory(tmp.path()) == std::vector<std::string>{"in.gguf"});

  values[3] = 1e38f;  // Q8_0's scale 1e38 / 127 overflows its F16 field
  status = QuantizeValues(values, 32, FileType::kMostlyQ8_0, NanPolicy::kZero, tmp);
  INFO(status.message());
  CHECK(status.message().find(": tensor 'blk.0.ffn_up.weight': element 0 (row 0, column 0) "
                              "becomes nan in Q8_0 (the row's largest magnitude is 1e+38)") !=
        std::string::npos);

  // --nan-policy keep writes what comes out.
  values[3] = 1e5f;
  REQUIRE(QuantizeValues(values, 32, FileType::kMostlyF16, NanPolicy::kKeep, tmp).ok());
  CHECK(std::isinf(testing::ReadTensorAsF32(tmp / "out.gguf", "blk.0.ffn_up.weight")[3]));
}

TEST_CASE("kernels stay defined on infinity kept by --nan-policy keep", "[robustness]") {
  // MXFP4 took the exponent of an infinite maximum: an undefined float-to-int conversion.
  std::vector<float> row(32, 1.0f);
  row[0] = std::numeric_limits<float>::infinity();
  std::vector<uint8_t> out(GgmlRowBytes(GgmlType::kMXFP4, 32));
  QuantizeOptions options;
  options.check_finite = false;
  REQUIRE(QuantizeRows(GgmlType::kMXFP4, row, 32, out, options).ok());
  CHECK(out[0] == 0);  // what x86-64's conversion gives the reference: exponent byte 0
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K,
                        GgmlType::kIQ4_XS, GgmlType::kIQ4_NL, GgmlType::kTQ2_0, GgmlType::kF16}) {
    const int64_t n = std::max<int64_t>(GgmlBlockSize(type) * 2, 64);
    std::vector<float> values(static_cast<size_t>(n), 0.25f);
    values[1] = std::numeric_limits<float>::quiet_NaN();
    values[5] = -std::numeric_limits<float>::infinity();
    std::vector<uint8_t> bytes(GgmlRowBytes(type, n));
    INFO(GgmlTypeName(type));
    CHECK(QuantizeRows(type, values, n, bytes, options).ok());
  }
}

TEST_CASE("an importance count below one that overflows a weight is refused", "[robustness]") {
  // From the imatrix fuzzer: 1e30 / 1e-10 is inf, which the quantizers must never see.
  const std::filesystem::path path = std::filesystem::path(QTK_SOURCE_DIR) / "tests" /
                                     "fuzz_corpus" / "imatrix" / "count-below-one-overflows";
  const Result<ImportanceMatrix> matrix = ReadImportanceMatrixFile(path.string());
  CHECK(matrix.status().code() == Status::Code::kCorruption);
  CHECK(matrix.status().message() ==
        path.string() +
            ": offset 320 (0x140): tensor 'blk.0.ffn_down.weight.in_sum2': value 0 "
            "(1e+30) divided by its count 1e-10 is inf");
}

}  // namespace
}  // namespace qtk
