// Replays the committed fuzz corpus (tests/fuzz_corpus/<target>/: crashers the fuzzers and
// reviews found, minimized or handcrafted) through the same bodies the fuzz targets run, in
// the normal suite and under its sanitizers. A file that crashed once must now parse cleanly
// or fail with a located one-line error.
#include <catch2/catch.hpp>
#include <filesystem>

#include "fuzz_bodies.h"
#include "fuzz_bodies_hf.h"
#include "fuzz_bodies_tokenize.h"
#include "test_support.h"

namespace qtk {
namespace {

std::vector<std::filesystem::path> CorpusFiles(const std::string& target) {
  const std::filesystem::path dir =
      std::filesystem::path(QTK_SOURCE_DIR) / "tests" / "fuzz_corpus" / target;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// An error from a reader names the input and the byte offset: "fuzz.gguf: offset 12 (0xc): ".
void CheckLocated(const Status& status, const std::string& name) {
  if (status.ok()) return;
  CHECK(status.message().starts_with(name + ": offset "));
}

TEST_CASE("the gguf fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("gguf");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    CheckLocated(testing::FuzzGguf(testing::ReadFileBytes(path)), "fuzz.gguf");
  }
}

TEST_CASE("the imatrix fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("imatrix");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    CheckLocated(testing::FuzzImportanceMatrix(testing::ReadFileBytes(path)), "fuzz.imatrix");
  }
}

TEST_CASE("the row-kernel fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("quantize_rows");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    testing::FuzzQuantizeRows(testing::ReadFileBytes(path));
  }
}

TEST_CASE("the safetensors fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("safetensors");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    CheckLocated(testing::FuzzSafetensors(testing::ReadFileBytes(path)), "fuzz.safetensors");
  }
}

TEST_CASE("the shard index fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("safetensors_index");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    CheckLocated(testing::FuzzSafetensorsIndex(testing::ReadFileBytes(path)), "fuzz.index.json");
  }
}

TEST_CASE("the config.json fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("config");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    CheckLocated(testing::FuzzModelConfig(testing::ReadFileBytes(path)), "config.json");
  }
}

TEST_CASE("the tokenizer.model fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("sentencepiece");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    CheckLocated(testing::FuzzSentencePiece(testing::ReadFileBytes(path)), "fuzz.model");
  }
}

TEST_CASE("the tokenizer fuzz corpus replays cleanly", "[robustness][fuzz]") {
  const auto files = CorpusFiles("tokenizer");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO(path.filename().string());
    testing::FuzzTokenizer(testing::ReadFileBytes(path));  // aborts on a broken invariant
  }
}

}  // namespace
}  // namespace qtk
