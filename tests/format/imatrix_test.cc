// Importance matrices: llama.cpp's own file and references, handcrafted GGUF and legacy files,
// and every validation rule with its offset and message.
#include "qtk/format/imatrix.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/format/output_file.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
  GgmlType type = GgmlType::kF32;
};

std::vector<GgufKeyValue> ImatrixMetadata() {
  return {
      {"general.type", GgufValue::String("imatrix")},
      {"imatrix.datasets", GgufValue::StringArray({"calibration.txt"})},
      {"imatrix.chunk_count", GgufValue::Uint32(7)},
      {"imatrix.chunk_size", GgufValue::Uint32(64)},
  };
}

// A GGUF file holding `tensors` (F32 values, or zero bytes for other types).
struct BuiltGguf {
  std::vector<uint8_t> bytes;
  GgufLayout layout;
};

BuiltGguf BuildGguf(const std::vector<GgufKeyValue>& metadata,
                    const std::vector<TensorSpec>& tensors) {
  std::vector<GgufTensorInfo> infos;
  for (const TensorSpec& t : tensors) infos.push_back({t.name, t.type, t.shape, 0, 0});
  MemorySink sink;
  Result<GgufWriter> writer = GgufWriter::Start(sink, metadata, infos);
  REQUIRE(writer.ok());
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::vector<uint8_t> data(writer->layout().tensors[i].n_bytes, 0);
    if (tensors[i].type == GgmlType::kF32) {
      std::memcpy(data.data(), tensors[i].values.data(), data.size());
    }
    REQUIRE(writer->WriteTensor(data).ok());
  }
  const GgufLayout layout = writer->layout();
  REQUIRE(writer->Finish().ok());
  return {sink.bytes(), layout};
}

// Where the length prefix of the (first) string `text` starts: the offset of a metadata pair
// or a tensor info, found independently of the reader.
uint64_t StringFieldOffset(const std::vector<uint8_t>& bytes, const std::string& text) {
  const auto it = std::search(bytes.begin(), bytes.end(), text.begin(), text.end());
  REQUIRE(it != bytes.end());
  return static_cast<uint64_t>(it - bytes.begin()) - 8;
}

uint64_t ValueOffset(const BuiltGguf& gguf, size_t tensor, size_t index) {
  return gguf.layout.header_bytes + gguf.layout.tensors[tensor].offset + 4 * index;
}

Result<ImportanceMatrix> Parse(const std::vector<uint8_t>& bytes, const std::string& name) {
  return ParseImportanceMatrix(MemorySource(name, bytes));
}

std::string ErrorOf(const std::vector<uint8_t>& bytes, const std::string& name) {
  Result<ImportanceMatrix> result = Parse(bytes, name);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == Status::Code::kCorruption);
  return result.status().message();
}

std::string At(const std::string& path, uint64_t offset) { return AtOffset(path, offset); }

std::vector<TensorSpec> GoodTensors() {
  return {
      {"blk.0.ffn_up.weight.in_sum2", {4}, {2.f, 4.f, 6.f, 0.f}},
      {"blk.0.ffn_up.weight.counts", {1}, {2.f}},
      // Two experts; the second saw no tokens.
      {"blk.0.ffn_up_exps.weight.in_sum2", {2, 2}, {3.f, 9.f, 5.f, 5.f}},
      {"blk.0.ffn_up_exps.weight.counts", {1, 2}, {3.f, 0.f}},
      {"blk.0.ffn_up.weight.in_sum", {4}, {-1.f, 1.f, -1.f, 1.f}},  // ignored
  };
}

TEST_CASE("imatrix gguf: weights are sums / counts, 1 where nothing was counted", "[imatrix]") {
  const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), GoodTensors());
  Result<ImportanceMatrix> matrix = Parse(gguf.bytes, "good.imatrix");
  REQUIRE(matrix.ok());
  CHECK(matrix->format() == ImportanceFormat::kGguf);
  CHECK(matrix->datasets() == std::vector<std::string>{"calibration.txt"});
  CHECK(matrix->chunk_count() == 7);
  CHECK(matrix->chunk_size() == 64);
  REQUIRE(matrix->entries().size() == 2);
  const ImportanceEntry* dense = matrix->Find("blk.0.ffn_up.weight");
  REQUIRE(dense != nullptr);
  CHECK(dense->n_matrices == 1);
  CHECK(dense->weights == std::vector<float>{1.f, 2.f, 3.f, 0.f});
  const ImportanceEntry* experts = matrix->Find("blk.0.ffn_up_exps.weight");
  REQUIRE(experts != nullptr);
  CHECK(experts->n_matrices == 2);
  CHECK(experts->weights == std::vector<float>{1.f, 3.f, 1.f, 1.f});
  CHECK(matrix->Find("blk.0.ffn_up.weight.in_sum2") == nullptr);

  Result<std::span<const float>> weights = matrix->WeightsFor("blk.0.ffn_up_exps.weight", 2, 2);
  REQUIRE(weights.ok());
  CHECK(weights->size() == 4);
  Result<std::span<const float>> absent = matrix->WeightsFor("token_embd.weight", 4);
  REQUIRE(absent.ok());
  CHECK(absent->empty());
  Result<std::span<const float>> wrong = matrix->WeightsFor("blk.0.ffn_up.weight", 8);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().message() ==
        "importance matrix: tensor 'blk.0.ffn_up.weight': has 4 weights, the tensor needs 8 "
        "(1 x 8)");
}

TEST_CASE("imatrix gguf: metadata rules", "[imatrix]") {
  const std::string path = "bad.imatrix";
  SECTION("general.type names another kind of file") {
    auto metadata = ImatrixMetadata();
    metadata[0].value = GgufValue::String("model");
    const BuiltGguf gguf = BuildGguf(metadata, GoodTensors());
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "general.type")) +
              ": metadata 'general.type': is \"model\", expected \"imatrix\"");
  }
  SECTION("a required key is missing") {
    auto metadata = ImatrixMetadata();
    metadata.pop_back();
    const BuiltGguf gguf = BuildGguf(metadata, GoodTensors());
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, 24) +
              ": metadata 'imatrix.chunk_size': is missing (an imatrix needs imatrix.datasets, "
              "imatrix.chunk_count and imatrix.chunk_size)");
  }
  SECTION("chunk_count is not a u32") {
    auto metadata = ImatrixMetadata();
    metadata[2].value = GgufValue::Int32(7);
    const BuiltGguf gguf = BuildGguf(metadata, GoodTensors());
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "imatrix.chunk_count")) +
              ": metadata 'imatrix.chunk_count': is i32, expected u32");
  }
  SECTION("datasets is not an array of strings") {
    auto metadata = ImatrixMetadata();
    metadata[1].value = GgufValue::String("calibration.txt");
    const BuiltGguf gguf = BuildGguf(metadata, GoodTensors());
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "imatrix.datasets")) +
              ": metadata 'imatrix.datasets': is str, expected an array of strings");
  }
}

TEST_CASE("imatrix gguf: tensor rules", "[imatrix]") {
  const std::string path = "bad.imatrix";
  SECTION("no tensors") {
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), {});
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, 8) +
              ": tensor count: is 0, an importance matrix needs in_sum2 and counts "
              "tensors");
  }
  SECTION("no in_sum2 or counts tensor") {
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), {{"x.in_sum", {4}, {1, 1, 1, 1}}});
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, 8) + ": tensors: none is named '<weight>.in_sum2' or '<weight>.counts'");
  }
  SECTION("in_sum2 without counts") {
    auto tensors = GoodTensors();
    tensors.erase(tensors.begin() + 1);
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), tensors);
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "blk.0.ffn_up.weight.in_sum2")) +
              ": tensor 'blk.0.ffn_up.weight.in_sum2': has no matching "
              "'blk.0.ffn_up.weight.counts'");
  }
  SECTION("counts without in_sum2") {
    auto tensors = GoodTensors();
    tensors.erase(tensors.begin() + 2);
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), tensors);
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "blk.0.ffn_up_exps.weight.counts")) +
              ": tensor 'blk.0.ffn_up_exps.weight.counts': has no matching "
              "'blk.0.ffn_up_exps.weight.in_sum2'");
  }
  SECTION("one count per matrix") {
    auto tensors = GoodTensors();
    tensors[3] = {"blk.0.ffn_up_exps.weight.counts", {3}, {1.f, 1.f, 1.f}};
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), tensors);
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "blk.0.ffn_up_exps.weight.counts")) +
              ": tensor 'blk.0.ffn_up_exps.weight.counts': has 3 values, expected 2 (one per "
              "row of 'blk.0.ffn_up_exps.weight.in_sum2')");
  }
  SECTION("sums must be F32") {
    auto tensors = GoodTensors();
    tensors[0].type = GgmlType::kF16;
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), tensors);
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, StringFieldOffset(gguf.bytes, "blk.0.ffn_up.weight.in_sum2")) +
              ": tensor 'blk.0.ffn_up.weight.in_sum2': type is F16, expected F32");
  }
  SECTION("a tensor names no weight") {
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), {{".in_sum2", {1}, {1.f}}});
    CHECK(ErrorOf(gguf.bytes, path) == At(path, StringFieldOffset(gguf.bytes, ".in_sum2")) +
                                           ": tensor '.in_sum2': names no weight");
  }
  SECTION("sums must be finite") {
    auto tensors = GoodTensors();
    tensors[2].values[3] = std::numeric_limits<float>::quiet_NaN();
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), tensors);
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, ValueOffset(gguf, 2, 3)) +
              ": tensor 'blk.0.ffn_up_exps.weight.in_sum2': value 3 is nan");
  }
  SECTION("counts must not be negative") {
    auto tensors = GoodTensors();
    tensors[1].values[0] = -2.f;
    const BuiltGguf gguf = BuildGguf(ImatrixMetadata(), tensors);
    CHECK(ErrorOf(gguf.bytes, path) ==
          At(path, ValueOffset(gguf, 1, 0)) +
              ": tensor 'blk.0.ffn_up.weight.counts': value 0 is -2.000000, must be >= 0");
  }
  SECTION("a malformed gguf reports the gguf reader's error") {
    BuiltGguf gguf = BuildGguf(ImatrixMetadata(), GoodTensors());
    gguf.bytes.resize(40);
    const std::string error = ErrorOf(gguf.bytes, path);
    CHECK(error.starts_with(path + ": offset "));
  }
}

// ---- Legacy .dat files

struct LegacyEntry {
  std::string name;
  int32_t ncall;
  std::vector<float> values;
};

testing::Bytes LegacyFile(const std::vector<LegacyEntry>& entries) {
  testing::Bytes bytes;
  bytes.Put<int32_t>(static_cast<int32_t>(entries.size()));
  for (const LegacyEntry& e : entries) {
    bytes.Put<int32_t>(static_cast<int32_t>(e.name.size())).Raw(e.name);
    bytes.Put<int32_t>(e.ncall).Put<int32_t>(static_cast<int32_t>(e.values.size()));
    for (float v : e.values) bytes.Put<float>(v);
  }
  return bytes;
}

testing::Bytes& AddTrailer(testing::Bytes& bytes, int32_t chunks, const std::string& dataset) {
  return bytes.Put<int32_t>(chunks).Put<int32_t>(static_cast<int32_t>(dataset.size())).Raw(dataset);
}

const std::vector<LegacyEntry> kLegacyEntries = {
    {"blk.0.attn_q.weight", 4, {4.f, 2.f, 1.f, 0.f}},
    {"blk.0.attn_k.weight", 0, {0.5f, 1.5f}},  // no calls: raw sums
};

TEST_CASE("imatrix legacy: a handwritten file reads as llama-quantize reads it", "[imatrix]") {
  testing::Bytes bytes = LegacyFile(kLegacyEntries);
  AddTrailer(bytes, 12, "wiki.train.raw");
  Result<ImportanceMatrix> matrix = Parse(bytes.bytes(), "old.dat");
  REQUIRE(matrix.ok());
  CHECK(matrix->format() == ImportanceFormat::kLegacy);
  CHECK(matrix->chunk_count() == 12);
  CHECK(matrix->chunk_size() == 0);
  CHECK(matrix->datasets() == std::vector<std::string>{"wiki.train.raw"});
  REQUIRE(matrix->entries().size() == 2);
  CHECK(matrix->entries()[0].name == "blk.0.attn_k.weight");  // sorted by name
  CHECK(matrix->Find("blk.0.attn_k.weight")->weights == std::vector<float>{0.5f, 1.5f});
  CHECK(matrix->Find("blk.0.attn_q.weight")->weights == std::vector<float>{1.f, 0.5f, 0.25f, 0.f});

  // Older files end after the last entry.
  Result<ImportanceMatrix> no_trailer = Parse(LegacyFile(kLegacyEntries).bytes(), "old.dat");
  REQUIRE(no_trailer.ok());
  CHECK(no_trailer->chunk_count() == 0);
  CHECK(no_trailer->datasets().empty());
}

TEST_CASE("imatrix legacy: the division is single precision", "[imatrix]") {
  const float sum = 0.1f;
  Result<ImportanceMatrix> matrix = Parse(LegacyFile({{"w", 3, {sum}}}).bytes(), "old.dat");
  REQUIRE(matrix.ok());
  const float expected = sum / 3.f;
  CHECK(std::memcmp(&matrix->entries()[0].weights[0], &expected, 4) == 0);
}

TEST_CASE("imatrix legacy: validation rules", "[imatrix]") {
  const std::string path = "bad.dat";
  // Offsets in LegacyFile(kLegacyEntries): entry 0 starts at 4, its name at 8, ncall at 27,
  // n_values at 31, values at 35..51; entry 1 starts at 51.
  SECTION("too short") {
    CHECK(ErrorOf({1, 0}, path) ==
          At(path, 0) + ": file is too short to be an importance matrix (2 bytes)");
  }
  SECTION("no entries") {
    CHECK(ErrorOf(testing::Bytes().Put<int32_t>(0).bytes(), path) ==
          At(path, 0) + ": entry count: is 0, must be >= 1");
  }
  SECTION("more entries than fit") {
    testing::Bytes bytes = LegacyFile(kLegacyEntries);
    bytes.mutable_bytes()[0] = 9;
    CHECK(ErrorOf(bytes.bytes(), path) ==
          At(path, 0) + ": entry count: is 9, the file has room for at most 5");
  }
  SECTION("empty name") {
    testing::Bytes bytes = LegacyFile({{"", 1, {1.f, 1.f, 1.f, 1.f}}});
    CHECK(ErrorOf(bytes.bytes(), path) ==
          At(path, 4) + ": entry 0 name length: is 0, must be >= 1");
  }
  SECTION("name longer than the file") {
    testing::Bytes bytes = LegacyFile(kLegacyEntries);
    bytes.mutable_bytes()[4] = 200;
    CHECK(ErrorOf(bytes.bytes(), path) == At(path, 4) + ": entry 0 name length: is 200, only " +
                                              std::to_string(bytes.size() - 8) + " bytes follow");
  }
  SECTION("negative call count") {
    CHECK(ErrorOf(LegacyFile({{"w", -1, {1.f}}}).bytes(), path) ==
          At(path, 9) + ": entry 0 'w' call count: is -1, must be >= 0");
  }
  SECTION("no values") {
    CHECK(ErrorOf(LegacyFile({{"wwwww", 1, {}}}).bytes(), path) ==
          At(path, 17) + ": entry 0 'wwwww' value count: is 0, must be >= 1");
  }
  SECTION("more values than the file holds") {
    testing::Bytes bytes = LegacyFile({{"w", 1, {1.f, 2.f}}});
    bytes.mutable_bytes()[13] = 3;
    CHECK(ErrorOf(bytes.bytes(), path) ==
          At(path, 13) + ": entry 0 'w' value count: is 3, the file has room for at most 2");
  }
  SECTION("a value is infinite") {
    CHECK(ErrorOf(LegacyFile({{"w", 1, {1.f, -INFINITY}}}).bytes(), path) ==
          At(path, 21) + ": entry 0 'w': value 1 is -inf");
  }
  SECTION("a value is negative") {
    CHECK(ErrorOf(LegacyFile({{"w", 1, {-0.5f}}}).bytes(), path) ==
          At(path, 17) + ": entry 0 'w': value 0 is -0.500000, must be >= 0");
  }
  SECTION("duplicate names") {
    CHECK(ErrorOf(LegacyFile({{"w", 1, {1.f}}, {"w", 1, {1.f}}}).bytes(), path) ==
          At(path, 21) + ": entry 1 'w': duplicate name");
  }
  SECTION("a truncated trailer") {
    testing::Bytes bytes = LegacyFile({{"w", 1, {1.f}}});
    bytes.Put<int16_t>(5);
    CHECK(ErrorOf(bytes.bytes(), path) ==
          At(path, 21) + ": chunk count: needs 4 bytes, file ends after 2");
  }
  SECTION("a dataset name longer than the file") {
    testing::Bytes bytes = LegacyFile({{"w", 1, {1.f}}});
    AddTrailer(bytes, 3, "abc");
    bytes.mutable_bytes()[25] = 9;
    CHECK(ErrorOf(bytes.bytes(), path) ==
          At(path, 25) + ": dataset name length: is 9, only 3 bytes follow");
  }
  SECTION("bytes after the trailer") {
    testing::Bytes bytes = LegacyFile({{"w", 1, {1.f}}});
    AddTrailer(bytes, 3, "abc").Raw("xy");
    CHECK(ErrorOf(bytes.bytes(), path) ==
          At(path, 32) + ": 2 unexpected bytes after the dataset name");
  }
}

// ---- llama.cpp's own file and references

TEST_CASE("imatrix: llama-imatrix's gguf output reads", "[imatrix][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto path =
      testdata / "reference" / "llama.cpp" / "synth-a" / "imatrix" / "synth-a.imatrix.gguf";
  Result<ImportanceMatrix> matrix = ReadImportanceMatrixFile(path.string());
  REQUIRE(matrix.ok());
  CHECK(matrix->datasets() == std::vector<std::string>{"stories-corpus.txt"});
  CHECK(matrix->chunk_count() == 20);
  CHECK(matrix->chunk_size() == 128);
  CHECK(matrix->entries().size() == 14);
  CHECK(matrix->Find("token_embd.weight") == nullptr);  // llama-imatrix does not see lookups

  // One weight recomputed from the raw tensors.
  Result<GgufFile> file = ReadGgufFile(path.string());
  REQUIRE(file.ok());
  const auto sums = file->TensorData(*file->FindTensor("blk.1.ffn_down.weight.in_sum2"));
  const auto counts = file->TensorData(*file->FindTensor("blk.1.ffn_down.weight.counts"));
  float sum;
  float count;
  std::memcpy(&sum, sums.data() + 4 * 700, 4);
  std::memcpy(&count, counts.data(), 4);
  CHECK(count > 0);
  Result<std::span<const float>> weights = matrix->WeightsFor("blk.1.ffn_down.weight", 768);
  REQUIRE(weights.ok());
  REQUIRE(weights->size() == 768);
  CHECK((*weights)[700] == sum / count);
}

TEST_CASE("importance-matrix quantization reproduces llama-quantize --imatrix",
          "[imatrix][kquants][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto synth = testdata / "reference" / "llama.cpp" / "synth-a";
  const auto dir = synth / "imatrix";
  Result<ImportanceMatrix> imatrix =
      ReadImportanceMatrixFile((dir / "synth-a.imatrix.gguf").string());
  REQUIRE(imatrix.ok());
  auto lookup = [&](const std::string& name) {
    const ImportanceEntry* entry = imatrix->Find(name);
    return entry != nullptr ? entry->weights : std::vector<float>();
  };
  for (std::string type : {"Q2_K", "Q4_K_M"}) {
    INFO(type);
    const std::string reference = "synth-a-imatrix-pure-" + type + ".gguf";
    CHECK(testing::DiffAgainstReference(synth / "synth-a-convert-f32.gguf", dir, reference,
                                        lookup) == "");
    // Without the importance the bytes differ: the comparison above is not vacuous.
    CHECK(testing::DiffAgainstReference(synth / "synth-a-convert-f32.gguf", dir, reference) != "");
  }
}

}  // namespace
}  // namespace qtk
