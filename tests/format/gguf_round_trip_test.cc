// Every GGUF in the shared test data, read and written back, gives the identical bytes.
#include <catch2/catch.hpp>
#include <filesystem>

#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "test_support.h"

namespace qtk {
namespace {

std::vector<std::filesystem::path> AllGgufFiles(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".gguf") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("every shared gguf file round-trips byte for byte", "[gguf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto files = AllGgufFiles(testdata);
  REQUIRE(files.size() >= 40);
  for (const auto& path : files) {
    INFO(path.string());
    Result<GgufFile> file = ReadGgufFile(path.string());
    REQUIRE(file.ok());
    MemorySink sink;
    REQUIRE(CopyGguf(*file, sink).ok());
    const std::vector<uint8_t> original = testing::ReadFileBytes(path);
    CHECK(sink.bytes().size() == original.size());
    CHECK(sink.bytes() == original);
  }
}

}  // namespace
}  // namespace qtk
