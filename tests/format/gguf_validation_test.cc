// GGUF validation, rule by rule (ggml's rules, see qtk/format/gguf.h): every handcrafted bad file
// gives its exact message and offset; truncation anywhere and byte flips in a real file give
// clean errors, never a crash.
#include <catch2/catch.hpp>
#include <cstring>

#include "bad_files.h"
#include "qtk/format/gguf.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::Borrow;
using testing::Bytes;
using testing::PutTensorInfo;

// A valid v3 file with one value of every type, both kinds of array and three tensors.
std::vector<uint8_t> EveryFieldGguf() {
  Bytes b = testing::GgufHead(3, 3, 15);
  auto key = [&](const std::string& name, GgufValueType type) -> Bytes& {
    return b.GgufString(name).Put<uint32_t>(static_cast<uint32_t>(type));
  };
  key("u8", GgufValueType::kUint8).Put<uint8_t>(200);
  key("i8", GgufValueType::kInt8).Put<int8_t>(-100);
  key("u16", GgufValueType::kUint16).Put<uint16_t>(60000);
  key("i16", GgufValueType::kInt16).Put<int16_t>(-30000);
  key("u32", GgufValueType::kUint32).Put<uint32_t>(4000000000u);
  key("i32", GgufValueType::kInt32).Put<int32_t>(-2000000000);
  key("f32", GgufValueType::kFloat32).Put<float>(1e-5f);
  key("bool", GgufValueType::kBool).Put<uint8_t>(1);
  key("str", GgufValueType::kString).GgufString("llama \xc3\xa9");
  key("u64", GgufValueType::kUint64).Put<uint64_t>(uint64_t{1} << 40);
  key("i64", GgufValueType::kInt64).Put<int64_t>(-(int64_t{1} << 40));
  key("f64", GgufValueType::kFloat64).Put<double>(0.125);
  key("arr_i32", GgufValueType::kArray)
      .Put<uint32_t>(5)
      .Put<uint64_t>(3)
      .Put<int32_t>(-1)
      .Put<int32_t>(0)
      .Put<int32_t>(7);
  key("arr_str", GgufValueType::kArray)
      .Put<uint32_t>(8)
      .Put<uint64_t>(2)
      .GgufString("a")
      .GgufString("");
  key("general.alignment", GgufValueType::kUint32).Put<uint32_t>(64);
  PutTensorInfo(b, "f32", {3, 2}, 0, 0);  // 24 bytes, padded to 64
  PutTensorInfo(b, "q4_0", {64}, 2, 64);  // 2 blocks of 18 bytes, padded to 64
  PutTensorInfo(b, "empty", {0, 5}, 0, 128);
  b.PadTo(64);
  for (int i = 0; i < 6; ++i) b.Put<float>(static_cast<float>(i));
  b.PadTo(64).Zeros(36).PadTo(64);
  return b.bytes();
}

TEST_CASE("gguf: every handcrafted bad file is rejected with its exact message", "[gguf]") {
  const auto files = testing::BadGgufFiles();
  REQUIRE(files.size() >= 30);
  for (const testing::BadFile& bad : files) {
    INFO(bad.name);
    Result<GgufFile> file = ParseGguf(MemorySource(bad.name, bad.bytes));
    REQUIRE_FALSE(file.ok());
    CHECK(file.status().code() == Status::Code::kCorruption);
    CHECK(file.status().message() == bad.name + ": " + bad.message);
  }
}

TEST_CASE("gguf: a file with every value type parses to exactly what was written", "[gguf]") {
  Result<GgufFile> file = ParseGguf(MemorySource("every.gguf", EveryFieldGguf()));
  REQUIRE(file.ok());
  CHECK(file->version() == 3);
  CHECK(file->alignment() == 64);
  CHECK(file->metadata().size() == 15);
  CHECK(*file->FindValue("u8")->AsUint() == 200);
  CHECK(*file->FindValue("i8")->AsInt() == -100);
  CHECK(*file->FindValue("u16")->AsUint() == 60000);
  CHECK(*file->FindValue("i16")->AsInt() == -30000);
  CHECK(*file->FindValue("u32")->AsUint() == 4000000000u);
  CHECK(*file->FindValue("i32")->AsInt() == -2000000000);
  CHECK(*file->FindValue("f32")->AsDouble() == static_cast<double>(1e-5f));
  CHECK(*file->FindValue("bool")->AsBool());
  CHECK(*file->FindValue("str")->AsString() == "llama \xc3\xa9");
  CHECK(*file->FindValue("u64")->AsUint() == uint64_t{1} << 40);
  CHECK(*file->FindValue("i64")->AsInt() == -(int64_t{1} << 40));
  CHECK(*file->FindValue("f64")->AsDouble() == 0.125);
  const GgufValue& ints = *file->FindValue("arr_i32");
  REQUIRE(ints.array_size() == 3);
  CHECK(ints.Element<int32_t>(0) == -1);
  CHECK(ints.Element<int32_t>(2) == 7);
  CHECK(file->FindValue("arr_str")->strings() == std::vector<std::string>{"a", ""});
  CHECK(file->FindValue("arr_str")->ToDisplayString() == "[\"a\", \"\"]");

  REQUIRE(file->tensors().size() == 3);
  const GgufTensorInfo& f32 = file->tensors()[0];
  CHECK(f32.shape == std::vector<int64_t>{3, 2});
  CHECK(f32.n_bytes == 24);
  CHECK(f32.row_length() == 3);
  CHECK(f32.n_rows() == 2);
  CHECK(file->data_offset() % 64 == 0);
  float values[6];
  std::memcpy(values, file->TensorData(f32).data(), sizeof(values));
  CHECK(values[5] == 5.0f);
  CHECK(file->FindTensor("q4_0")->n_bytes == 36);
  CHECK(file->FindTensor("empty")->n_bytes == 0);
  CHECK(file->FindTensor("missing") == nullptr);
}

TEST_CASE("gguf: version 2 files and files without tensors are read", "[gguf]") {
  std::vector<uint8_t> v2 = EveryFieldGguf();
  v2[4] = 2;
  Result<GgufFile> file = ParseGguf(MemorySource("v2.gguf", v2));
  REQUIRE(file.ok());
  CHECK(file->version() == 2);

  Result<GgufFile> empty =
      ParseGguf(MemorySource("empty.gguf", testing::GgufHead(3, 0, 0).bytes()));
  REQUIRE(empty.ok());
  CHECK(empty->tensors().empty());
  CHECK(empty->metadata().empty());
}

TEST_CASE("gguf: a file truncated anywhere gives a clean error naming the offset", "[gguf]") {
  const std::vector<uint8_t> whole = EveryFieldGguf();
  REQUIRE(ParseGguf(MemorySource("whole.gguf", whole)).ok());
  for (size_t size = 0; size < whole.size(); ++size) {
    INFO("truncated to " << size << " bytes");
    Result<GgufFile> file = ParseGguf(Borrow("cut.gguf", whole, size));
    REQUIRE_FALSE(file.ok());
    CHECK(file.status().code() == Status::Code::kCorruption);
    const std::string message = file.status().message();
    CHECK(message.rfind("cut.gguf: offset ", 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
  // Exactly: the counts are checked against the bytes left before anything is read, and a
  // cut in the data section names the tensor whose data is missing.
  auto error_at = [&](size_t size) {
    return ParseGguf(Borrow("cut.gguf", whole, size)).status().message();
  };
  CHECK(error_at(27) ==
        "cut.gguf: offset 8 (0x8): tensor count: is 3, the file has room for at most 0");
  const uint64_t data = ParseGguf(MemorySource("whole.gguf", whole))->data_offset();
  CHECK(error_at(data + 99).ends_with(
      ": tensor 'q4_0': data [" + std::to_string(data + 64) + ", " + std::to_string(data + 100) +
      ") runs past the end of the file (" + std::to_string(data + 99) + " bytes)"));
}

TEST_CASE("gguf: byte flips in the header of a real file never crash", "[gguf][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  std::vector<uint8_t> bytes = testing::ReadFileBytes(testdata / "gguf" / "stories260K.gguf");
  Result<GgufFile> original = ParseGguf(Borrow("flip.gguf", bytes, bytes.size()));
  REQUIRE(original.ok());
  const size_t header_end = original->data_offset();
  size_t n_parsed = 0;
  size_t n_rejected = 0;
  // Every byte of the first 2 KiB (magic, counts, the first keys, the start of the
  // vocabulary), then a sample of the rest of the header; three kinds of flip.
  auto step = [](uint8_t mask, size_t offset) -> size_t {
    if (mask != 0xFF) return 16;
    return offset < 2048 ? 1 : 4;
  };
  for (const uint8_t mask : {0xFF, 0x01, 0x80}) {
    for (size_t offset = 0; offset < header_end; offset += step(mask, offset)) {
      bytes[offset] ^= mask;
      Result<GgufFile> file = ParseGguf(Borrow("flip.gguf", bytes, bytes.size()));
      bytes[offset] ^= mask;
      if (file.ok()) {
        ++n_parsed;
        for (const GgufTensorInfo& info : file->tensors()) {
          REQUIRE(file->data_offset() + info.offset + info.n_bytes <= bytes.size());
        }
        continue;
      }
      ++n_rejected;
      INFO("flip 0x" << std::hex << int{mask} << " at " << std::dec << offset << ": "
                     << file.status().message());
      REQUIRE(file.status().message().rfind("flip.gguf: offset ", 0) == 0);
      REQUIRE(file.status().message().find('\n') == std::string::npos);
    }
  }
  // Most flips inside strings and values still parse; flips in lengths, types and counts
  // must not.
  CHECK(n_parsed > 0);
  CHECK(n_rejected > 1000);
}

}  // namespace
}  // namespace qtk
