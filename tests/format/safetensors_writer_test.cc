// The streaming safetensors writer: exact header bytes, chunked writes, validation.
#include "qtk/format/safetensors_writer.h"

#include <catch2/catch.hpp>
#include <cstring>

namespace qtk {
namespace {

std::string HeaderText(const SafetensorsLayout& layout) {
  return std::string(layout.header.begin() + 8, layout.header.end());
}

TEST_CASE("the header is compact JSON padded to 8 bytes", "[safetensors_writer]") {
  Result<SafetensorsLayout> layout = LayOutSafetensors(
      {{"a", "F32", {2, 3}}, {"b", "BF16", {5}}, {"empty", "F16", {0, 4}}}, {{"format", "pt"}});
  REQUIRE(layout.ok());
  const std::string expected =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("b":{"dtype":"BF16","shape":[5],"data_offsets":[24,34]},)"
      R"("empty":{"dtype":"F16","shape":[0,4],"data_offsets":[34,34]}})";
  const std::string text = HeaderText(*layout);
  CHECK(text.substr(0, expected.size()) == expected);
  CHECK(text.size() % 8 == 0);
  CHECK(text.size() - expected.size() < 8);
  CHECK(text.find_first_not_of(' ', expected.size()) == std::string::npos);
  uint64_t n = 0;
  std::memcpy(&n, layout->header.data(), 8);
  CHECK(n == text.size());
  CHECK(layout->data_bytes == 34);
  CHECK(layout->tensor_bytes == std::vector<uint64_t>{24, 10, 0});
}

TEST_CASE("tensors can be written in any number of pieces", "[safetensors_writer]") {
  MemorySink sink;
  Result<SafetensorsWriter> writer =
      SafetensorsWriter::Start(sink, {{"a", "U8", {3}}, {"z", "U8", {0}}, {"b", "U8", {2}}});
  REQUIRE(writer.ok());
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  REQUIRE(writer->Write(std::span(data).first(2)).ok());
  CHECK(writer->current_tensor() == 0);
  REQUIRE(writer->Write(std::span(data).subspan(2, 2)).ok());  // crosses into "b", skips "z"
  CHECK(writer->current_tensor() == 2);
  CHECK(writer->Finish().message() == "safetensors: finished after 2 of 3 tensors");
  REQUIRE(writer->Write(std::span(data).subspan(4)).ok());
  CHECK(writer->current_tensor() == 3);
  CHECK(writer->Write(std::span(data).first(1)).message() ==
        "safetensors: 1 bytes written but only 0 are left in the file's tensors");
  REQUIRE(writer->Finish().ok());
  const std::vector<uint8_t>& bytes = sink.bytes();
  CHECK(bytes.size() == writer->layout().file_bytes());
  CHECK(std::vector<uint8_t>(bytes.end() - 5, bytes.end()) == data);
}

TEST_CASE("invalid tensor lists are refused", "[safetensors_writer]") {
  auto error = [](std::vector<SafetensorsTensorSpec> tensors) {
    Result<SafetensorsLayout> layout = LayOutSafetensors(tensors);
    REQUIRE_FALSE(layout.ok());
    CHECK(layout.status().code() == Status::Code::kInvalidArgument);
    return layout.status().message();
  };
  CHECK(error({{"a", "F32", {1}}, {"a", "F32", {1}}}) == "tensor 'a': duplicate name");
  CHECK(error({{"a", "F12", {1}}}) == "tensor 'a': unknown dtype 'F12'");
  CHECK(error({{"a", "F32", {-1}}}) == "tensor 'a': negative dimension -1");
  CHECK(error({{"", "F32", {1}}}) == "safetensors: a tensor name is empty");
  CHECK(error({{"__metadata__", "F32", {1}}}) ==
        "safetensors: '__metadata__' is reserved, not a tensor name");
  CHECK(error({{"\xFF", "F32", {1}}}) == "tensor '\\xff': name is not UTF-8");
  CHECK(error({{"a", "F64", {int64_t{1} << 40, int64_t{1} << 30}}}) ==
        "tensor 'a': byte size overflows 64 bits");
}

TEST_CASE("the index lists every tensor, keys sorted", "[safetensors_writer]") {
  const std::string index = SafetensorsIndexJson(
      40, {{"b", "model-00002-of-00002.safetensors"}, {"a", "model-00001-of-00002.safetensors"}});
  CHECK(index ==
        "{\n"
        "  \"metadata\": {\n"
        "    \"total_size\": 40\n"
        "  },\n"
        "  \"weight_map\": {\n"
        "    \"a\": \"model-00001-of-00002.safetensors\",\n"
        "    \"b\": \"model-00002-of-00002.safetensors\"\n"
        "  }\n"
        "}\n");
}

}  // namespace
}  // namespace qtk
