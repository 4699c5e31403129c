// The streaming GGUF writer, the output file it writes through, and the byte sources the
// readers read from.
#include "qtk/format/gguf_writer.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "bad_files.h"
#include "qtk/base/byte_source.h"
#include "qtk/format/gguf.h"
#include "qtk/format/output_file.h"
#include "test_support.h"

namespace qtk {
namespace {

std::vector<GgufKeyValue> EveryValueType() {
  const std::vector<int32_t> ints = {-1, 0, 7};
  return {
      {"u8", GgufValue::Uint8(200)},
      {"i8", GgufValue::Int8(-100)},
      {"u16", GgufValue::Uint16(60000)},
      {"i16", GgufValue::Int16(-30000)},
      {"u32", GgufValue::Uint32(4000000000u)},
      {"i32", GgufValue::Int32(-2000000000)},
      {"f32", GgufValue::Float32(1e-5f)},
      {"bool", GgufValue::Bool(true)},
      {"str", GgufValue::String("llama")},
      {"u64", GgufValue::Uint64(uint64_t{1} << 40)},
      {"i64", GgufValue::Int64(-(int64_t{1} << 40))},
      {"f64", GgufValue::Float64(0.125)},
      {"arr_i32", GgufValue::ArrayOf<int32_t>(GgufValueType::kInt32, ints)},
      {"arr_str", GgufValue::StringArray({"a", ""})},
  };
}

GgufTensorInfo Tensor(std::string name, std::vector<int64_t> shape, GgmlType type) {
  GgufTensorInfo info;
  info.name = std::move(name);
  info.shape = std::move(shape);
  info.type = type;
  return info;
}

TEST_CASE("gguf writer: written files read back identically and copy byte for byte", "[gguf]") {
  auto metadata = EveryValueType();
  metadata.push_back({"general.alignment", GgufValue::Uint32(64)});
  MemorySink sink;
  Result<GgufWriter> writer =
      GgufWriter::Start(sink, metadata,
                        {Tensor("a", {3, 2}, GgmlType::kF32), Tensor("b", {64}, GgmlType::kQ4_0),
                         Tensor("c", {0, 5}, GgmlType::kF16)});
  REQUIRE(writer.ok());
  CHECK(writer->layout().tensors[1].offset == 64);
  CHECK(writer->layout().header_bytes % 64 == 0);
  std::vector<uint8_t> a(24), b(36, 0x5A);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i);
  REQUIRE(writer->WriteTensor(a).ok());
  CHECK(writer->WriteTensor(a).message() == "gguf writer: tensor 'b' has 24 bytes, expected 36");
  REQUIRE(writer->WriteTensor(b).ok());
  CHECK(writer->Finish().message() == "gguf writer: tensor 'c' was never written");
  REQUIRE(writer->WriteTensor({}).ok());
  CHECK(writer->WriteTensor({}).message() == "gguf writer: every tensor is written");
  REQUIRE(writer->Finish().ok());
  CHECK(sink.bytes().size() == writer->layout().file_bytes());

  Result<GgufFile> file = ParseGguf(MemorySource("written.gguf", sink.bytes()));
  REQUIRE(file.ok());
  REQUIRE(file->metadata().size() == metadata.size());
  for (size_t i = 0; i < metadata.size(); ++i) {
    INFO(metadata[i].key);
    CHECK(file->metadata()[i].key == metadata[i].key);
    CHECK(file->metadata()[i].value == metadata[i].value);
  }
  const auto data = file->TensorData(*file->FindTensor("a"));
  CHECK(std::vector<uint8_t>(data.begin(), data.end()) == a);

  MemorySink copy;
  REQUIRE(CopyGguf(*file, copy).ok());
  CHECK(copy.bytes() == sink.bytes());
}

TEST_CASE("gguf writer: the header bytes are laid out in spec order", "[gguf]") {
  const std::vector<GgufKeyValue> metadata = {{"k", GgufValue::Uint32(7)}};
  Result<GgufLayout> layout = LayOutGguf(metadata, {Tensor("t", {4}, GgmlType::kF32)});
  REQUIRE(layout.ok());
  testing::Bytes expected = testing::GgufHead(3, 1, 1);
  expected.GgufString("k").Put<uint32_t>(testing::kU32).Put<uint32_t>(7);
  testing::PutTensorInfo(expected, "t", {4}, testing::kF32Type, 0).PadTo(32);
  CHECK(SerializeGgufHeader(metadata, *layout) == expected.bytes());
  CHECK(layout->data_bytes == 32);
}

TEST_CASE("gguf writer: impossible layouts are refused", "[gguf]") {
  auto error = [](std::vector<GgufKeyValue> metadata, GgufTensorInfo tensor) {
    return LayOutGguf(metadata, {std::move(tensor)}).status().message();
  };
  const GgufTensorInfo ok = Tensor("t", {32}, GgmlType::kF32);
  CHECK(error({{"a", GgufValue::Uint8(1)}, {"a", GgufValue::Uint8(2)}}, ok) ==
        "duplicate metadata key 'a'");
  CHECK(error({{"general.alignment", GgufValue::Uint64(32)}}, ok) ==
        "general.alignment must be a u32");
  CHECK(error({{"general.alignment", GgufValue::Uint32(48)}}, ok) ==
        "general.alignment is 48, must be a power of two");
  CHECK(error({}, Tensor(std::string(64, 'n'), {32}, GgmlType::kF32)) ==
        "tensor '" + std::string(64, 'n') + "': name is 64 bytes, max is 63");
  CHECK(error({}, Tensor("t", {1, 1, 1, 1, 1}, GgmlType::kF32)) ==
        "tensor 't': n_dims is 5, max is 4");
  CHECK(error({}, Tensor("t", {-1}, GgmlType::kF32)) == "tensor 't': negative dimension");
  CHECK(error({}, Tensor("t", {int64_t{1} << 32, int64_t{1} << 32}, GgmlType::kF32)) ==
        "tensor 't': element count overflows int64");
  CHECK(error({}, Tensor("t", {int64_t{1} << 62}, GgmlType::kF64)) ==
        "tensor 't': byte size exceeds 2^62");
  CHECK(error({}, Tensor("t", {4}, static_cast<GgmlType>(4))) ==
        "tensor 't': unknown ggml type id 4");
  CHECK(error({}, Tensor("t", {33}, GgmlType::kQ4_0)) ==
        "tensor 't': row length 33 is not a multiple of Q4_0's block size 32");
  CHECK(LayOutGguf({}, {ok, ok}).status().message() == "duplicate tensor name 't'");
}

TEST_CASE("output file: appears only when committed, complete", "[gguf]") {
  testing::TempDir dir;
  const std::string path = (dir / "out.bin").string();
  {
    Result<std::unique_ptr<OutputFile>> out = OutputFile::Create(path, {.sync = false});
    REQUIRE(out.ok());
    REQUIRE((*out)->Write(std::vector<uint8_t>{1, 2, 3}).ok());
    CHECK(!std::filesystem::exists(path));
  }  // destroyed without Commit: nothing is left behind
  CHECK(std::filesystem::is_empty(dir.path()));

  OutputFileOptions options;
  options.sync = false;
  options.buffer_bytes = 4;  // exercise the buffered and the direct paths
  Result<std::unique_ptr<OutputFile>> out = OutputFile::Create(path, options);
  REQUIRE(out.ok());
  REQUIRE((*out)->Write(std::vector<uint8_t>{1, 2}).ok());
  REQUIRE((*out)->Write(std::vector<uint8_t>{3, 4, 5, 6, 7, 8}).ok());
  REQUIRE((*out)->Write(std::vector<uint8_t>{9}).ok());
  CHECK((*out)->position() == 9);
  REQUIRE((*out)->Commit().ok());
  CHECK(testing::ReadFileBytes(path) == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);

  CHECK(OutputFile::Create(path).status().message() ==
        path + ": already exists (use --force to overwrite)");
  CHECK(OutputFile::Create(dir.path().string()).status().code() == Status::Code::kInvalidArgument);
  options.overwrite = true;
  Result<std::unique_ptr<OutputFile>> again = OutputFile::Create(path, options);
  REQUIRE(again.ok());
  REQUIRE((*again)->Commit().ok());
  CHECK(std::filesystem::file_size(path) == 0);
}

TEST_CASE("byte sources: mapping files, and their errors", "[gguf]") {
  testing::TempDir dir;
  testing::WriteFileBytes(dir / "empty", {});
  testing::WriteFileBytes(dir / "three", {7, 8, 9});
  Result<std::shared_ptr<const ByteSource>> empty = MapFile((dir / "empty").string());
  REQUIRE(empty.ok());
  CHECK((*empty)->size() == 0);
  Result<std::shared_ptr<const ByteSource>> three = MapFile((dir / "three").string());
  REQUIRE(three.ok());
  CHECK(std::vector<uint8_t>((*three)->bytes().begin(), (*three)->bytes().end()) ==
        std::vector<uint8_t>{7, 8, 9});
  CHECK((*three)->name() == (dir / "three").string());
  (*three)->AdviseSequential(0, 3);  // hints only: must not fail or crash
  (*three)->AdviseDone(1, 100);

  const std::string missing = (dir / "missing").string();
  CHECK(MapFile(missing).status().code() == Status::Code::kNotFound);
  CHECK(MapFile(missing).status().message() == missing + ": no such file");
  CHECK(MapFile(dir.path().string()).status().message() ==
        dir.path().string() + ": is a directory, expected a file");

  auto memory = MemorySource("label", {1, 2});
  CHECK(memory->name() == "label");
  CHECK(memory->size() == 2);
}

}  // namespace
}  // namespace qtk
