// Faults on the Hugging Face path at the library level: shards that change while being read,
// missing or unreadable shards, corrupt config.json and tokenizer.model. The same through the
// CLI are in robustness_safetensors_cli_test.cc; docs/robustness.md lists the guarantees.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "hf_model_support.h"
#include "qtk/model/model_input.h"
#include "qtk/pipeline/quantize_model.h"
#include "robustness_support.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::ListDirectory;
using testing::TempDir;

// A two-shard Llama directory of four BF16 up_proj weights, opened and planned to F16 into
// out/, so that a shard can be changed between opening and quantizing.
struct OpenedModel {
  TempDir tmp;
  std::filesystem::path dir = tmp / "model";
  std::filesystem::path shard1 = dir / testing::ShardName(0, 2);
  std::filesystem::path shard2 = dir / testing::ShardName(1, 2);
  std::unique_ptr<ModelInput> model;
  std::vector<OutputPlan> plans;
  QuantizeModelOptions options;

  OpenedModel() {
    const SynthShape shape = testing::SmallLlamaShape(4);
    testing::WriteHfModel(dir, {shape, testing::UpProjTensors(shape), 2});
    std::filesystem::create_directory(tmp / "out");
    auto opened = OpenModelInput(dir.string());
    REQUIRE(opened.ok());
    model = std::move(opened).value();
    options.sync = false;
    auto planned =
        PlanModel(*model, {{(tmp / "out" / "m.gguf").string(), FileType::kMostlyF16}}, options);
    REQUIRE(planned.ok());
    plans = std::move(planned).value();
  }
  Status Quantize() { return QuantizeModel(*model, plans, options).status(); }
};

TEST_CASE("a shard truncated after the model was opened is an error, not SIGBUS",
          "[robustness][safetensors]") {
  OpenedModel m;
  const auto size = std::filesystem::file_size(m.shard2);
  std::filesystem::resize_file(m.shard2, size / 2);
  const Status status = m.Quantize();
  CHECK(status.code() == Status::Code::kIOError);
  CHECK(status.message() == m.shard2.string() + ": changed while being read: shrank from " +
                                std::to_string(size) + " to " + std::to_string(size / 2) +
                                " bytes");
  CHECK(ListDirectory(m.tmp / "out").empty());
  // Reading checks the shard of the tensor read, and only that one: 2 of the 5 tensors are
  // in the second shard.
  int n_changed = 0;
  for (size_t i = 0; i < m.model->tensors().size(); ++i) {
    std::vector<float> values(static_cast<size_t>(m.model->tensors()[i].n_elements()));
    const Status check = m.model->CheckUnchanged(i);
    INFO(m.model->tensors()[i].name);
    CHECK(m.model->ReadF32(i, values, 1).code() == check.code());
    if (!check.ok()) ++n_changed;
  }
  CHECK(n_changed == 2);
}

TEST_CASE("a shard rewritten after the model was opened is an error", "[robustness][safetensors]") {
  OpenedModel m;
  {
    std::fstream f(m.shard1, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.write("\x80\x7f", 2);  // +inf in BF16
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};
  REQUIRE(utimensat(AT_FDCWD, m.shard1.c_str(), times, 0) == 0);
  CHECK(m.Quantize().message() ==
        m.shard1.string() + ": changed while being read: modified since it was opened");
  CHECK(ListDirectory(m.tmp / "out").empty());
}

TEST_CASE("a shard replaced by rename while being read is read as opened",
          "[robustness][safetensors]") {
  OpenedModel m;
  testing::WriteSafetensorsFile(m.tmp / "other.safetensors", {});
  std::filesystem::rename(m.tmp / "other.safetensors", m.shard2);
  REQUIRE(m.Quantize().ok());
  CHECK(ListDirectory(m.tmp / "out") == std::vector<std::string>{"m.gguf"});
}

// A two-shard model directory in tmp/model.
std::filesystem::path TwoShardModel(const TempDir& tmp) {
  return testing::WriteTwoShardModel(tmp / "model");
}

// Where the index names the second shard first: the offset of the entry's key.
uint64_t OffsetOfEntry(const std::filesystem::path& index, const std::string& tensor) {
  return testing::IndexEntryOffset(index, tensor);
}

TEST_CASE("a shard named in the index that is missing is an error naming the entry",
          "[robustness][safetensors]") {
  TempDir tmp;
  const auto dir = TwoShardModel(tmp);
  std::filesystem::remove(dir / testing::ShardName(1, 2));
  const auto index = dir / "model.safetensors.index.json";
  const Result<std::unique_ptr<ModelInput>> input = OpenModelInput(dir.string());
  CHECK(input.status().code() == Status::Code::kNotFound);
  const uint64_t offset = OffsetOfEntry(index, "model.norm.weight");
  CHECK(input.status().message() == AtOffset(index.string(), offset) +
                                        ": weight_map 'model.norm.weight': shard "
                                        "'model-00002-of-00002.safetensors' does not exist");
}

TEST_CASE("a shard that cannot be read is an error naming the entry and the reason",
          "[robustness][safetensors]") {
  TempDir tmp;
  const auto dir = TwoShardModel(tmp);
  // A directory where the shard should be: unreadable as a file even for root (the CLI test
  // runs qtk as another user for a file without read permission).
  const auto shard = dir / testing::ShardName(1, 2);
  std::filesystem::remove(shard);
  std::filesystem::create_directory(shard);
  const auto index = dir / "model.safetensors.index.json";
  const Result<std::unique_ptr<ModelInput>> input = OpenModelInput(dir.string());
  CHECK(input.status().code() == Status::Code::kCorruption);
  CHECK(input.status().message() ==
        AtOffset(index.string(), OffsetOfEntry(index, "model.norm.weight")) +
            ": weight_map 'model.norm.weight': shard "
            "'model-00002-of-00002.safetensors' cannot be read (" +
            shard.string() + ": is a directory, expected a file)");
}

TEST_CASE("a corrupt config.json names the file and the offset", "[robustness][safetensors]") {
  TempDir tmp;
  const auto dir = TwoShardModel(tmp);
  const auto config = dir / "config.json";
  const std::string text = testing::ReadFileText(config);
  // Cut in the middle of a key, a byte that is not UTF-8, a duplicate key.
  const size_t cut = text.find("\"hidden_size\"") + 5;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {text.substr(0, cut), "offset " + std::to_string(cut)},
      {text.substr(0, cut) + "\xff" + text.substr(cut + 1), "offset " + std::to_string(cut)},
      {"{\"a\": 1, \"a\": 2}", "offset 9 (0x9): config: duplicate key 'a'"},
  };
  for (const auto& [bytes, expected] : cases) {
    testing::WriteFileBytes(config, {bytes.begin(), bytes.end()});
    const Result<std::unique_ptr<ModelInput>> input = OpenModelInput(dir.string());
    INFO(input.status().message());
    CHECK(input.status().code() == Status::Code::kCorruption);
    CHECK(input.status().message().starts_with(config.string() + ": " + expected));
    CHECK(input.status().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("a corrupt tokenizer.model names the file and the offset", "[robustness][safetensors]") {
  TempDir tmp;
  const auto dir = TwoShardModel(tmp);
  const auto tokenizer = dir / "tokenizer.model";
  const std::vector<uint8_t> bytes = testing::ReadFileBytes(tokenizer);
  std::vector<uint8_t> flipped = bytes;
  flipped[2] = 0x1a;  // the first piece's own tag: field 3 (type) as a length-delimited field
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> cases = {
      {{bytes.begin(), bytes.begin() + 1001}, "offset "},
      {flipped, "offset 2 (0x2): pieces[0]: field 3 (type): wire type is 2"},
      {{}, "offset 0 (0x0): ModelProto: ends without an UNKNOWN piece among its 0 pieces"},
  };
  for (const auto& [contents, expected] : cases) {
    testing::WriteFileBytes(tokenizer, contents);
    const Result<std::unique_ptr<ModelInput>> input = OpenModelInput(dir.string());
    INFO(input.status().message());
    CHECK(input.status().code() == Status::Code::kCorruption);
    CHECK(input.status().message().starts_with(tokenizer.string() + ": " + expected));
  }
}

TEST_CASE("errors from a model directory's json files never echo raw control characters",
          "[robustness][safetensors]") {
  TempDir tmp;
  const auto dir = TwoShardModel(tmp);
  const std::string bad = "{\"chat_template\": \"\x1b[2J\x07\", }";
  testing::WriteFileBytes(dir / "tokenizer_config.json", {bad.begin(), bad.end()});
  const Result<std::unique_ptr<ModelInput>> input = OpenModelInput(dir.string());
  REQUIRE_FALSE(input.ok());
  const std::string message = input.status().message();
  INFO(message);
  CHECK(message.starts_with((dir / "tokenizer_config.json").string() + ": offset "));
  CHECK(std::none_of(message.begin(), message.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }));
}

}  // namespace
}  // namespace qtk
