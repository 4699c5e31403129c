// safetensors: files written by the official library (every dtype, values checked), real
// checkpoints (single, sharded, LoRA), every validation rule with its exact message, the
// shard index rules, byte flips.
#include "qtk/format/safetensors.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "bad_files.h"
#include "qtk/base/float_convert.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;
using testing::SafetensorsBytes;

template <typename T>
std::vector<T> Values(const SafetensorsFile& file, const SafetensorsTensorInfo& info) {
  const auto bytes = file.TensorData(info);
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));  // data is unaligned
  return values;
}

Result<SafetensorsFile> Parse(const std::string& name, std::vector<uint8_t> bytes) {
  return ParseSafetensors(MemorySource(name, std::move(bytes)));
}

TEST_CASE("safetensors: the dtype table covers the format", "[safetensors]") {
  const auto dtypes = AllSafetensorsDtypes();
  REQUIRE(dtypes.size() == 15);
  std::string names;
  for (const SafetensorsDtypeTraits& traits : dtypes) {
    names += std::string(traits.name) + ":" + std::to_string(traits.size) + " ";
    CHECK(SafetensorsDtypeFromName(traits.name) == traits.dtype);
    if (traits.ggml) CHECK(GgmlTypeName(*traits.ggml) == traits.name);
  }
  CHECK(names ==
        "BOOL:1 U8:1 I8:1 F8_E5M2:1 F8_E4M3:1 I16:2 U16:2 F16:2 BF16:2 I32:4 U32:4 F32:4 "
        "F64:8 I64:8 U64:8 ");
  CHECK(!SafetensorsDtypeFromName("f32"));
  CHECK(!Traits(SafetensorsDtype::kU8).ggml);
  CHECK(Traits(SafetensorsDtype::kBF16).ggml == GgmlType::kBF16);
}

TEST_CASE("safetensors: the official library's samples, every dtype, values checked",
          "[safetensors][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const fs::path dir = testdata / "safetensors-samples";
  struct Sample {
    const char* name;
    SafetensorsDtype dtype;
  };
  const Sample samples[] = {
      {"B", SafetensorsDtype::kU8},  {"H", SafetensorsDtype::kU16}, {"I", SafetensorsDtype::kU32},
      {"b", SafetensorsDtype::kI8},  {"h", SafetensorsDtype::kI16}, {"i", SafetensorsDtype::kI32},
      {"e", SafetensorsDtype::kF16}, {"f", SafetensorsDtype::kF32}, {"d", SafetensorsDtype::kF64}};
  Result<SafetensorsFile> overall = ReadSafetensorsFile((dir / "overall.safetensors").string());
  REQUIRE(overall.ok());
  CHECK(overall->tensors().size() == 9);
  CHECK(overall->metadata() == std::vector<std::pair<std::string, std::string>>{{"test", "a"}});
  for (const Sample& sample : samples) {
    INFO(sample.name);
    Result<SafetensorsFile> single =
        ReadSafetensorsFile((dir / (std::string(sample.name) + ".safetensors")).string());
    REQUIRE(single.ok());
    REQUIRE(single->tensors().size() == 1);
    CHECK(*single->FindMetadata("test") == "a");
    for (const SafetensorsFile* file : {&*single, &*overall}) {
      const SafetensorsTensorInfo* info = file->FindTensor(sample.name);
      REQUIRE(info != nullptr);
      CHECK(info->dtype == sample.dtype);
      CHECK(info->shape == std::vector<int64_t>{6});
      CHECK(info->n_bytes() == 6 * SafetensorsDtypeSize(sample.dtype));
      // Every sample holds -3, -2, -1, 0, 1, 2 (unsigned ones wrapped around).
      switch (sample.dtype) {
        case SafetensorsDtype::kU8:
          CHECK(Values<uint8_t>(*file, *info) == std::vector<uint8_t>{253, 254, 255, 0, 1, 2});
          break;
        case SafetensorsDtype::kU16:
          CHECK(Values<uint16_t>(*file, *info) ==
                std::vector<uint16_t>{65533, 65534, 65535, 0, 1, 2});
          break;
        case SafetensorsDtype::kU32:
          CHECK(Values<uint32_t>(*file, *info) ==
                std::vector<uint32_t>{4294967293u, 4294967294u, 4294967295u, 0, 1, 2});
          break;
        case SafetensorsDtype::kI8:
          CHECK(Values<int8_t>(*file, *info) == std::vector<int8_t>{-3, -2, -1, 0, 1, 2});
          break;
        case SafetensorsDtype::kI16:
          CHECK(Values<int16_t>(*file, *info) == std::vector<int16_t>{-3, -2, -1, 0, 1, 2});
          break;
        case SafetensorsDtype::kI32:
          CHECK(Values<int32_t>(*file, *info) == std::vector<int32_t>{-3, -2, -1, 0, 1, 2});
          break;
        case SafetensorsDtype::kF16: {
          std::vector<float> f;
          for (uint16_t h : Values<uint16_t>(*file, *info)) f.push_back(F16ToF32(h));
          CHECK(f == std::vector<float>{-3, -2, -1, 0, 1, 2});
          break;
        }
        case SafetensorsDtype::kF32:
          CHECK(Values<float>(*file, *info) == std::vector<float>{-3, -2, -1, 0, 1, 2});
          break;
        case SafetensorsDtype::kF64:
          CHECK(Values<double>(*file, *info) == std::vector<double>{-3, -2, -1, 0, 1, 2});
          break;
        default:
          FAIL("unexpected dtype");
      }
    }
  }
}

TEST_CASE("safetensors: the dtypes the samples lack read with their sizes", "[safetensors]") {
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("bool":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]},)"
                             R"("e4m3":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[3,5]},)"
                             R"("e5m2":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[5,7]},)"
                             R"("bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[7,11]},)"
                             R"("i64":{"dtype":"I64","shape":[1],"data_offsets":[11,19]},)"
                             R"("u64":{"dtype":"U64","shape":[1],"data_offsets":[19,27]}})";
  std::vector<uint8_t> bytes = SafetensorsBytes(header, 27);
  const size_t data = 8 + header.size();
  bytes[data + 1] = 1;     // bool [0, 1, 0]
  bytes[data + 7] = 0x80;  // bf16[0] = 1.0 (0x3F80, little-endian)
  bytes[data + 8] = 0x3F;
  bytes[data + 18] = 0x80;  // i64 = INT64_MIN
  Result<SafetensorsFile> file = Parse("dtypes.safetensors", bytes);
  REQUIRE(file.ok());
  CHECK(Values<uint8_t>(*file, *file->FindTensor("bool")) == std::vector<uint8_t>{0, 1, 0});
  CHECK(file->FindTensor("e4m3")->dtype == SafetensorsDtype::kF8_E4M3);
  CHECK(file->FindTensor("e5m2")->dtype == SafetensorsDtype::kF8_E5M2);
  CHECK(BF16ToF32(Values<uint16_t>(*file, *file->FindTensor("bf16"))[0]) == 1.0f);
  CHECK(Values<int64_t>(*file, *file->FindTensor("i64"))[0] == INT64_MIN);
  CHECK(file->FindTensor("u64")->n_elements() == 1);
  CHECK(file->data_offset() == data);
}

TEST_CASE("safetensors: what the reference accepts, qtk accepts", "[safetensors]") {
  SECTION("no tensors at all, as the reference writes it") {
    Result<SafetensorsFile> file = Parse("empty.safetensors", SafetensorsBytes("{}      ", 0));
    REQUIRE(file.ok());
    CHECK(file->tensors().empty());
  }
  SECTION("tensors listed in any order; the data order wins") {
    Result<SafetensorsFile> file =
        Parse("order.safetensors",
              SafetensorsBytes(R"({"z":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},)"
                               R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                               3));
    REQUIRE(file.ok());
    CHECK(file->tensors()[0].name == "a");
    CHECK(file->tensors()[1].name == "z");
    CHECK(file->FindTensor("z")->key_offset == 9);
  }
  SECTION("scalars, empty tensors, extra fields, null metadata") {
    Result<SafetensorsFile> file =
        Parse("odd.safetensors",
              SafetensorsBytes(R"({"__metadata__":null,"s":{"dtype":"F32","shape":[],)"
                               R"("data_offsets":[0,4],"extra":1},)"
                               R"("z":{"dtype":"F16","shape":[0,4],"data_offsets":[4,4]}})",
                               4));
    REQUIRE(file.ok());
    CHECK(file->FindTensor("s")->n_elements() == 1);
    CHECK(file->FindTensor("z")->n_elements() == 0);
    CHECK(file->metadata().empty());
  }
}

TEST_CASE("safetensors: every handcrafted bad file is rejected with its exact message",
          "[safetensors]") {
  const auto files = testing::BadSafetensorsFiles();
  REQUIRE(files.size() >= 35);
  for (const testing::BadFile& bad : files) {
    INFO(bad.name);
    Result<SafetensorsFile> file = Parse(bad.name, bad.bytes);
    REQUIRE_FALSE(file.ok());
    CHECK(file.status().code() == Status::Code::kCorruption);
    CHECK(file.status().message() == bad.name + ": " + bad.message);
  }
}

TEST_CASE("safetensors: the lora adapter and the checkpoints read", "[safetensors][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  SECTION("lora: 25 F32 tensors, 1-D and odd shapes") {
    Result<SafetensorsFile> lora =
        ReadSafetensorsFile((testdata / "lora" / "adapter_model.safetensors").string());
    REQUIRE(lora.ok());
    CHECK(lora->tensors().size() == 25);
    CHECK(*lora->FindMetadata("format") == "pt");
    CHECK(lora->FindTensor("base_model.model.score.weight")->shape == std::vector<int64_t>{6, 768});
    uint64_t n_bytes = 0;
    for (const auto& info : lora->tensors()) {
      CHECK(info.dtype == SafetensorsDtype::kF32);
      n_bytes += info.n_bytes();
    }
    CHECK(lora->data_offset() + n_bytes == lora->source()->size());
  }
  SECTION("the sharded BF16 checkpoint holds the F32 checkpoint's weights, rounded") {
    Result<SafetensorsCheckpoint> f32 = OpenSafetensorsCheckpoint(
        (testdata / "models" / "stories260K" / "model.safetensors").string());
    Result<SafetensorsCheckpoint> bf16 = OpenSafetensorsCheckpoint(
        (testdata / "models" / "stories260K-bf16-sharded" / "model.safetensors.index.json")
            .string());
    REQUIRE(f32.ok());
    REQUIRE(bf16.ok());
    CHECK(!f32->index());
    REQUIRE(bf16->index());
    CHECK(bf16->shards().size() == 3);
    CHECK(bf16->index()->files.size() == 3);
    REQUIRE(f32->tensors().size() == bf16->tensors().size());
    uint64_t n_bytes = 0;
    for (SafetensorsCheckpoint::TensorRef ref : bf16->tensors()) {
      const SafetensorsTensorInfo& info = bf16->Info(ref);
      INFO(info.name);
      n_bytes += info.n_bytes();
      const auto f32_ref = f32->FindTensor(info.name);
      REQUIRE(f32_ref);
      const SafetensorsTensorInfo& f32_info = f32->Info(*f32_ref);
      CHECK(info.dtype == SafetensorsDtype::kBF16);
      CHECK(f32_info.shape == info.shape);
      const auto wide = f32->TensorData(*f32_ref);
      const auto narrow = bf16->TensorData(ref);
      REQUIRE(wide.size() == 2 * narrow.size());
      size_t mismatches = 0;
      for (size_t i = 0; i < narrow.size() / 2; ++i) {
        float f;
        uint16_t b;
        std::memcpy(&f, wide.data() + 4 * i, 4);
        std::memcpy(&b, narrow.data() + 2 * i, 2);
        mismatches += F32ToBF16(f) != b;
      }
      CHECK(mismatches == 0);
    }
    CHECK(bf16->index()->total_size == n_bytes);
    CHECK(bf16->FindTensor("model.norm.weight")->shard == 2);
  }
}

// A sharded checkpoint on disk: two shards and an index, each editable by the test.
class ShardedFixture {
 public:
  ShardedFixture() {
    shard1_ = SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2);
    shard2_ = SafetensorsBytes(R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1);
    index_ = R"({"metadata":{"total_size":3},"weight_map":{"a":"s1.safetensors",)"
             R"("b":"s2.safetensors"}})";
  }
  std::string Write() {
    testing::WriteFileBytes(dir_ / "s1.safetensors", shard1_);
    testing::WriteFileBytes(dir_ / "s2.safetensors", shard2_);
    const std::string index_path = (dir_ / "model.safetensors.index.json").string();
    testing::WriteFileBytes(index_path, std::vector<uint8_t>(index_.begin(), index_.end()));
    return index_path;
  }
  Status Open() { return OpenSafetensorsCheckpoint(Write()).status(); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  testing::TempDir dir_;
  std::vector<uint8_t> shard1_, shard2_;
  std::string index_;
};

TEST_CASE("safetensors: shard index rules", "[safetensors]") {
  ShardedFixture fixture;
  const std::string index = fixture.Path("model.safetensors.index.json");
  SECTION("the fixture itself is valid") {
    Result<SafetensorsCheckpoint> checkpoint = OpenSafetensorsCheckpoint(fixture.Write());
    REQUIRE(checkpoint.ok());
    CHECK(checkpoint->tensors().size() == 2);
    CHECK(checkpoint->index()->total_size == 3);
    CHECK(checkpoint->index()->weight_map[1].offset == 64);
  }
  SECTION("an index entry names a missing shard") {
    fixture.index_ = R"({"weight_map":{"a":"s1.safetensors","b":"s3.safetensors"}})";
    const Status status = fixture.Open();
    CHECK(status.code() == Status::Code::kNotFound);
    CHECK(status.message() ==
          index + ": offset 36 (0x24): weight_map 'b': shard 's3.safetensors' does not exist");
  }
  SECTION("an index entry names a tensor its shard lacks") {
    fixture.index_ =
        R"({"weight_map":{"a":"s1.safetensors","b":"s2.safetensors","c":"s2.safetensors"}})";
    CHECK(fixture.Open().message() ==
          index + ": offset 57 (0x39): weight_map 'c': tensor is not in shard 's2.safetensors'");
  }
  SECTION("a shard holds a tensor the index does not list") {
    fixture.index_ = R"({"weight_map":{"a":"s1.safetensors"}})";
    fixture.shard1_ = SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                       R"("x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                       2);
    CHECK(fixture.Open().message() == fixture.Path("s1.safetensors") +
                                          ": offset 61 (0x3d): tensor 'x': not listed in the "
                                          "index's weight_map");
  }
  SECTION("a tensor name in two shards") {
    fixture.shard2_ = SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                       R"("b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                       2);
    CHECK(fixture.Open().message() ==
          fixture.Path("s2.safetensors") +
              ": offset 9 (0x9): tensor 'a': also in shard 's1.safetensors' (tensor names must "
              "be unique across shards)");
  }
  SECTION("a bad shard is reported with its own path") {
    fixture.shard2_ = SafetensorsBytes("[]", 0);
    CHECK(fixture.Open().message() ==
          fixture.Path("s2.safetensors") +
              ": offset 8 (0x8): header: must be a json object starting with '{', starts with '['");
  }
  SECTION("the index's own rules") {
    auto error = [&](std::string text) {
      fixture.index_ = std::move(text);
      return fixture.Open().message();
    };
    CHECK(error("[1]") == index + ": offset 0 (0x0): index: must be a json object, is an array");
    CHECK(error(R"({"weight_map":{"a":"s1.safetensors",)") ==
          index +
              ": offset 36 (0x24): index: invalid json: syntax error while parsing object "
              "key - unexpected end of input; expected string literal");
    CHECK(error(R"({"metadata":{}})") == index + ": offset 0 (0x0): index: has no weight_map");
    CHECK(error(R"({"weight_map":[]})") ==
          index +
              ": offset 1 (0x1): weight_map: must be an object mapping tensor names to "
              "shard files, is an array");
    CHECK(error(R"({"metadata":3,"weight_map":{}})") ==
          index + ": offset 1 (0x1): metadata: must be an object, is a number");
    CHECK(error(R"({"weight_map":{"a":1}})") ==
          index + ": offset 15 (0xf): weight_map 'a': must be a shard file name, is a number");
    CHECK(error(R"({"weight_map":{"a":""}})") ==
          index + ": offset 15 (0xf): weight_map 'a': shard file name is empty");
    CHECK(error(R"({"weight_map":{"a":"/etc/passwd"}})") ==
          index +
              ": offset 15 (0xf): weight_map 'a': shard file '/etc/passwd' is an absolute "
              "path, expected a name relative to the index");
    CHECK(error(R"({"weight_map":{"a":"../s1.safetensors"}})") ==
          index +
              ": offset 15 (0xf): weight_map 'a': shard file '../s1.safetensors' leaves "
              "the index's directory");
    CHECK(error(R"({"weight_map":{"a":"s1.safetensors\u0000.txt"}})") ==
          index +
              ": offset 15 (0xf): weight_map 'a': shard file 's1.safetensors\\x00.txt' "
              "contains a NUL byte");
    CHECK(error(R"({"weight_map":{"a":"s1.safetensors","a":"s1.safetensors"}})") ==
          index + ": offset 36 (0x24): index: duplicate key 'a'");
  }
}

TEST_CASE("safetensors: byte flips in real headers never crash", "[safetensors][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (const fs::path& path :
       {testdata / "models" / "stories260K-bf16-sharded" / "model-00002-of-00003.safetensors",
        testdata / "lora" / "adapter_model.safetensors"}) {
    std::vector<uint8_t> bytes = testing::ReadFileBytes(path);
    Result<SafetensorsFile> file =
        ParseSafetensors(testing::Borrow("flip.safetensors", bytes, bytes.size()));
    REQUIRE(file.ok());
    const size_t header_end = file->data_offset();
    size_t n_rejected = 0;
    for (const uint8_t mask : {0xFF, 0x01, 0x20}) {
      for (size_t offset = 0; offset < header_end; offset += (mask == 0xFF ? 1 : 5)) {
        bytes[offset] ^= mask;
        Result<SafetensorsFile> flipped =
            ParseSafetensors(testing::Borrow("flip.safetensors", bytes, bytes.size()));
        bytes[offset] ^= mask;
        if (flipped.ok()) continue;
        ++n_rejected;
        const std::string message = flipped.status().message();
        INFO("flip at " << offset << ": " << message);
        REQUIRE(message.rfind("flip.safetensors: offset ", 0) == 0);
        REQUIRE(message.find('\n') == std::string::npos);
      }
    }
    CHECK(n_rejected > header_end / 2);
  }
}

}  // namespace
}  // namespace qtk
