// Faults on the Hugging Face path through the built CLI: `qtk quantize` of a model directory
// whose shards change, vanish or cannot be read while it works, whose config.json or
// tokenizer.model is corrupt, or that is interrupted. Exit codes, one-line errors, nothing
// left behind, the input untouched.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>

#include "hf_model_support.h"
#include "robustness_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::ListDirectory;
using testing::QtkProcess;
using testing::RunQtkChild;
using testing::TempDir;

// A 48-layer model directory in two shards (24 MiB of BF16 weights, 49 tensors): long enough
// to interrupt, even single-threaded. Outputs go to tmp/out.
struct BigModel {
  TempDir tmp;
  std::filesystem::path dir = tmp / "model";
  std::filesystem::path out_dir = tmp / "out";
  std::filesystem::path out = out_dir / "m.gguf";
  std::filesystem::path shard2 = dir / testing::ShardName(1, 2);

  BigModel() {
    SynthShape shape = testing::SmallLlamaShape(48);
    shape.hidden_size = 256;
    shape.intermediate_size = 1024;
    testing::WriteHfModel(dir, {shape, testing::UpProjTensors(shape), 2});
    std::filesystem::create_directory(out_dir);
  }

  std::vector<std::string> Hashes() const {
    std::vector<std::string> hashes;
    for (const std::string& name : ListDirectory(dir)) {
      hashes.push_back(name + " " + testing::FileSha256(dir / name));
    }
    return hashes;
  }

  // `qtk quantize` of the directory, one thread, stopped after the first tensor.
  std::unique_ptr<QtkProcess> StartQuantize() const {
    auto qtk = std::make_unique<QtkProcess>(std::vector<std::string>{
        "quantize", "-v", "--threads", "1", dir.string(), out.string(), "Q6_K"});
    REQUIRE(qtk->WaitForStderr("[   1/  49]"));
    return qtk;
  }
};

// The lines of `text` that start with `prefix`.
int CountLines(const std::string& text, const std::string& prefix) {
  int n = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (text.compare(start, prefix.size(), prefix) == 0) ++n;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return n;
}

TEST_CASE("a shard truncated while quantize reads a model directory is a clean error",
          "[robustness][safetensors][cli]") {
  BigModel m;
  auto qtk = m.StartQuantize();
  const auto size = std::filesystem::file_size(m.shard2);
  std::filesystem::resize_file(m.shard2, size / 3);
  const auto result = qtk->Wait();
  INFO(result.err);
  CHECK(result.exit_code == 1);
  CHECK(CountLines(result.err, "qtk: error: ") == 1);
  // The size check before the second shard's first tensor sees it (the first shard's 25
  // tensors are still being read); a truncation racing a read would be the SIGBUS line.
  const bool checked = result.err.ends_with(
      "qtk: error: " + m.shard2.string() + ": changed while being read: shrank from " +
      std::to_string(size) + " to " + std::to_string(size / 3) + " bytes\n");
  const bool bus_error =
      result.err.find("qtk: error: bus error reading a memory-mapped input") != std::string::npos;
  CHECK((checked || bus_error));
  CHECK(ListDirectory(m.out_dir).empty());
}

TEST_CASE("a shard rewritten while quantize reads a model directory is a clean error",
          "[robustness][safetensors][cli]") {
  BigModel m;
  auto qtk = m.StartQuantize();
  {
    std::fstream f(m.shard2, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.write("\xc0\x7f", 2);  // NaN in BF16
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};
  REQUIRE(utimensat(AT_FDCWD, m.shard2.c_str(), times, 0) == 0);
  const auto result = qtk->Wait();
  INFO(result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.err.ends_with("qtk: error: " + m.shard2.string() +
                             ": changed while being read: modified since it was opened\n"));
  CHECK(CountLines(result.err, "qtk: error: ") == 1);
  CHECK(ListDirectory(m.out_dir).empty());
}

void CheckInterrupted(int signal_number, int expected_exit) {
  BigModel m;
  const std::vector<std::string> before = m.Hashes();
  auto qtk = m.StartQuantize();
  qtk->Signal(signal_number);
  const auto result = qtk->Wait();
  INFO(result.err);
  CHECK(result.exit_code == expected_exit);
  CHECK(result.err.ends_with("qtk: interrupted; no output was written\n"));
  CHECK(result.err.find("[  49/  49]") == std::string::npos);  // it stopped early
  CHECK(ListDirectory(m.out_dir).empty());
  CHECK(m.Hashes() == before);
}

TEST_CASE("SIGINT during quantize of a model directory exits 130 and leaves nothing",
          "[robustness][safetensors][cli]") {
  CheckInterrupted(SIGINT, 130);
}

TEST_CASE("SIGTERM during quantize of a model directory exits 143 and leaves nothing",
          "[robustness][safetensors][cli]") {
  CheckInterrupted(SIGTERM, 143);
}

// A small two-shard model directory in tmp/model.
std::filesystem::path SmallModel(const TempDir& tmp) {
  return testing::WriteTwoShardModel(tmp / "model");
}

std::string EntryAt(const std::filesystem::path& index, const std::string& tensor) {
  return AtOffset(index.string(), testing::IndexEntryOffset(index, tensor));
}

TEST_CASE("a missing shard is a one-line error for inspect and quantize",
          "[robustness][safetensors][cli]") {
  TempDir tmp;
  const auto dir = SmallModel(tmp);
  std::filesystem::remove(dir / testing::ShardName(1, 2));
  const auto index = dir / "model.safetensors.index.json";
  const std::string expected = "qtk: error: " + EntryAt(index, "model.norm.weight") +
                               ": weight_map 'model.norm.weight': shard "
                               "'model-00002-of-00002.safetensors' does not exist\n";
  const auto inspect = RunQtkChild({"inspect", dir.string()});
  CHECK(inspect.exit_code == 1);
  CHECK(inspect.err == expected);
  const auto quantize = RunQtkChild({"quantize", dir.string(), (tmp / "o.gguf").string(), "Q8_0"});
  CHECK(quantize.exit_code == 1);
  CHECK(quantize.err == expected);
  CHECK_FALSE(std::filesystem::exists(tmp / "o.gguf"));
}

TEST_CASE("an unreadable shard is a one-line error", "[robustness][safetensors][cli]") {
  TempDir tmp;
  const auto dir = SmallModel(tmp);
  const auto shard = dir / testing::ShardName(1, 2);
  std::filesystem::permissions(shard, std::filesystem::perms::none);
  // Root reads anything: run qtk as 'nobody' then (the directories must let it in).
  std::function<void()> setup;
  if (geteuid() == 0) {
    std::filesystem::permissions(tmp.path(), std::filesystem::perms::all);
    std::filesystem::permissions(dir, std::filesystem::perms::all);
    std::filesystem::create_directory(tmp / "out");
    std::filesystem::permissions(tmp / "out", std::filesystem::perms::all);
    setup = [] {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(126);
    };
  }
  const auto result =
      RunQtkChild({"quantize", dir.string(), (tmp / "out" / "o.gguf").string(), "Q8_0"}, setup);
  if (result.exit_code == 126 || result.exit_code == 127) {
    WARN("skipped: cannot run qtk as another user here (exit " << result.exit_code << ")");
    return;
  }
  const auto index = dir / "model.safetensors.index.json";
  CHECK(result.exit_code == 1);
  CHECK(result.err == "qtk: error: " + EntryAt(index, "model.norm.weight") +
                          ": weight_map 'model.norm.weight': shard "
                          "'model-00002-of-00002.safetensors' cannot be read (" +
                          shard.string() + ": cannot open: Permission denied)\n");
  CHECK_FALSE(std::filesystem::exists(tmp / "out" / "o.gguf"));
}

TEST_CASE("a corrupt config.json or tokenizer.model is one line naming file and offset",
          "[robustness][safetensors][cli]") {
  TempDir tmp;
  const auto dir = SmallModel(tmp);
  const auto config = dir / "config.json";
  const std::vector<uint8_t> good_config = testing::ReadFileBytes(config);
  testing::WriteFileBytes(config, {good_config.begin(), good_config.begin() + 40});
  auto result = RunQtkChild({"quantize", dir.string(), (tmp / "o.gguf").string(), "Q8_0"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.starts_with("qtk: error: " + config.string() +
                               ": offset 40 (0x28): config: "
                               "invalid json: "));
  CHECK(CountLines(result.err, "") == 1);
  testing::WriteFileBytes(config, good_config);

  const auto tokenizer = dir / "tokenizer.model";
  const std::vector<uint8_t> good_tokenizer = testing::ReadFileBytes(tokenizer);
  testing::WriteFileBytes(tokenizer, {good_tokenizer.begin(), good_tokenizer.begin() + 1001});
  result = RunQtkChild({"quantize", dir.string(), (tmp / "o.gguf").string(), "Q8_0"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.starts_with("qtk: error: " + tokenizer.string() + ": offset "));
  CHECK(CountLines(result.err, "") == 1);
  CHECK_FALSE(std::filesystem::exists(tmp / "o.gguf"));
}

}  // namespace
}  // namespace qtk
