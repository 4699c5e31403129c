// One handcrafted bad file per validation rule, for both formats, with the exact message the
// readers must give, and a byte source for flipping bytes of real files in place. The library tests
// parse them from memory; inspect_cli_test runs every one through the built `qtk inspect`.
// Header-only so that it needs no build change.
//
// `message` is what follows "<path>: " in the error.
#ifndef QTK_TESTS_BAD_FILES_H_
#define QTK_TESTS_BAD_FILES_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qtk/base/byte_source.h"
#include "test_support.h"

namespace qtk::testing {

// A source over the first `size` bytes of a buffer the test keeps (and may mutate between
// parses: flipping bytes in place is much cheaper than copying a file for every flip).
class BorrowedSource final : public ByteSource {
 public:
  BorrowedSource(std::string name, const std::vector<uint8_t>& bytes, size_t size)
      : name_(std::move(name)), bytes_(bytes), size_(size) {}
  std::span<const uint8_t> bytes() const override { return {bytes_.data(), size_}; }
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  const std::vector<uint8_t>& bytes_;
  size_t size_;
};

inline std::shared_ptr<const ByteSource> Borrow(const std::string& name,
                                                const std::vector<uint8_t>& bytes, size_t size) {
  return std::make_shared<BorrowedSource>(name, bytes, size);
}

struct BadFile {
  std::string name;  // file name; its extension tells `qtk inspect` the format
  std::vector<uint8_t> bytes;
  std::string message;
};

// ---- GGUF -------------------------------------------------------------------------------

// Type ids used below (GgufValueType / GgmlType).
inline constexpr uint32_t kU8 = 0, kU32 = 4, kStr = 8, kArr = 9, kU64 = 10;
inline constexpr uint32_t kF32Type = 0, kQ4_0Type = 2, kF64Type = 28;

// "GGUF", version, n_tensors, n_kv: 24 bytes.
inline Bytes GgufHead(uint32_t version, int64_t n_tensors, int64_t n_kv) {
  Bytes b;
  // Growing an empty vector here trips a GCC 12 -Wstringop-overflow false positive.
  b.mutable_bytes().reserve(64);
  b.Raw("GGUF").Put<uint32_t>(version).Put<int64_t>(n_tensors).Put<int64_t>(n_kv);
  return b;
}

// A tensor info: name, n_dims, ne..., type, offset.
inline Bytes& PutTensorInfo(Bytes& b, const std::string& name, const std::vector<int64_t>& ne,
                            uint32_t type, uint64_t offset) {
  b.GgufString(name).Put<uint32_t>(static_cast<uint32_t>(ne.size()));
  for (int64_t d : ne) b.Put<int64_t>(d);
  return b.Put<uint32_t>(type).Put<uint64_t>(offset);
}

// One tensor "t" (24 + 8 + 1 = 33: n_dims; 37: ne[0]; after the dims: type, then offset).
inline std::vector<uint8_t> GgufOneTensor(const std::vector<int64_t>& ne, uint32_t type,
                                          uint64_t offset, size_t data_bytes) {
  Bytes b = GgufHead(3, 1, 0);
  PutTensorInfo(b, "t", ne, type, offset).PadTo(32).Zeros(data_bytes);
  return b.bytes();
}

inline std::vector<uint8_t> PaddedTo(Bytes b, size_t n_bytes) {
  b.Zeros(n_bytes - b.size());
  return b.bytes();
}

inline std::vector<BadFile> BadGgufFiles() {
  std::vector<BadFile> files;
  auto add = [&](std::string name, std::vector<uint8_t> bytes, std::string message) {
    files.push_back({std::move(name), std::move(bytes), std::move(message)});
  };
  add("too-short.gguf", Bytes().Raw("GGU").bytes(),
      "offset 0 (0x0): file is too short to be a gguf file (3 bytes)");
  add("bad-magic.gguf", Bytes().Raw("GGUX").Put<uint32_t>(3).Zeros(16).bytes(),
      "offset 0 (0x0): magic: is 'GGUX', expected 'GGUF'");
  add("version-1.gguf", GgufHead(1, 0, 0).bytes(),
      "offset 4 (0x4): version: gguf v1 is no longer supported, convert it again");
  add("byte-swapped-version.gguf", GgufHead(0x03000000, 0, 0).bytes(),
      "offset 4 (0x4): version: is 50331648, looks byte-swapped (endianness?): qtk reads "
      "little-endian gguf only");
  add("version-4.gguf", GgufHead(4, 0, 0).bytes(),
      "offset 4 (0x4): version: is 4, supported are 2 and 3");
  add("version-0.gguf", GgufHead(0, 0, 0).bytes(),
      "offset 4 (0x4): version: is 0, supported are 2 and 3");
  add("truncated-version.gguf", Bytes().Raw("GGUF").Put<uint16_t>(3).bytes(),
      "offset 4 (0x4): version: needs 4 bytes, file ends after 2");
  add("negative-tensor-count.gguf", GgufHead(3, -1, 0).bytes(),
      "offset 8 (0x8): tensor count: is -1, must be >= 0");
  add("tensor-count-past-eof.gguf", GgufHead(3, 1000, 0).bytes(),
      "offset 8 (0x8): tensor count: is 1000, the file has room for at most 0");
  add("metadata-count-past-eof.gguf", PaddedTo(GgufHead(3, 0, 1000000), 1024),
      "offset 16 (0x10): metadata count: is 1000000, the file has room for at most 76");
  {
    Bytes b = GgufHead(3, 0, 1);
    b.Put<uint64_t>(2).Raw("\xff\xfe").Put<uint32_t>(kU8).Put<uint8_t>(1);
    add("key-not-utf8.gguf", b.bytes(),
        "offset 24 (0x18): metadata key '\\xff\\xfe': is not valid utf-8");
  }
  {
    Bytes b = GgufHead(3, 0, 2);
    b.GgufString("a").Put<uint32_t>(kU8).Put<uint8_t>(1);
    b.GgufString("a").Put<uint32_t>(kU8).Put<uint8_t>(2);
    add("duplicate-key.gguf", b.bytes(), "offset 38 (0x26): metadata key 'a': duplicate key");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.Put<uint64_t>(1'000'000'000'000).Raw("k").Zeros(12);
    add("key-length-past-eof.gguf", b.bytes(),
        "offset 24 (0x18): metadata key: length is 1000000000000, file has 13 bytes left");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("a").Put<uint32_t>(13).Put<uint8_t>(0);
    add("bad-value-type.gguf", b.bytes(), "offset 33 (0x21): metadata 'a': unknown value type 13");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("a").Put<uint32_t>(kArr).Put<uint32_t>(kArr).Put<uint64_t>(0);
    add("nested-array.gguf", b.bytes(),
        "offset 37 (0x25): metadata 'a': nested arrays are not supported");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("a").Put<uint32_t>(kArr).Put<uint32_t>(kU8).Put<uint64_t>(100'000'000);
    add("huge-u8-array.gguf", PaddedTo(b, 1024),
        "offset 41 (0x29): metadata 'a': array of 100000000 u8 does not fit in the 975 bytes "
        "left");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("a").Put<uint32_t>(kArr).Put<uint32_t>(kStr).Put<uint64_t>(100'000'000);
    add("huge-string-array.gguf", PaddedTo(b, 1024),
        "offset 41 (0x29): metadata 'a': array of 100000000 str does not fit in the 975 bytes "
        "left");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("a").Put<uint32_t>(kStr).Put<uint64_t>(1'000'000'000'000).Raw("xyz");
    add("string-length-past-eof.gguf", b.bytes(),
        "offset 37 (0x25): metadata 'a': length is 1000000000000, file has 3 bytes left");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("a").Put<uint32_t>(kU64).Put<uint32_t>(7);
    add("truncated-value.gguf", b.bytes(),
        "offset 37 (0x25): metadata 'a': needs 8 bytes, file ends after 4");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("general.alignment").Put<uint32_t>(kU64).Put<uint64_t>(32);
    add("alignment-not-u32.gguf", b.bytes(),
        "offset 24 (0x18): metadata 'general.alignment': has type u64, expected u32");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("general.alignment").Put<uint32_t>(kU32).Put<uint32_t>(48);
    add("alignment-not-power-of-two.gguf", b.bytes(),
        "offset 24 (0x18): metadata 'general.alignment': is 48, must be a power of two");
  }
  {
    Bytes b = GgufHead(3, 0, 1);
    b.GgufString("general.alignment").Put<uint32_t>(kU32).Put<uint32_t>(0);
    add("alignment-zero.gguf", b.bytes(),
        "offset 24 (0x18): metadata 'general.alignment': is 0, must be a power of two");
  }
  {
    Bytes b = GgufHead(3, 1, 0);
    const std::string name(64, 'a');
    PutTensorInfo(b, name, {4}, kF32Type, 0).PadTo(32).Zeros(16);
    add("name-too-long.gguf", b.bytes(),
        "offset 24 (0x18): tensor '" + name + "': name is 64 bytes, max is 63");
  }
  {
    Bytes b = GgufHead(3, 1, 0);
    PutTensorInfo(b, "t\xc3", {4}, kF32Type, 0).PadTo(32).Zeros(16);
    add("tensor-name-not-utf8.gguf", b.bytes(),
        "offset 24 (0x18): tensor 't\\xc3': name is not valid utf-8");
  }
  {
    Bytes b = GgufHead(3, 2, 0);
    PutTensorInfo(b, "t", {4}, kF32Type, 0);
    PutTensorInfo(b, "t", {4}, kF32Type, 32).PadTo(32).Zeros(48);
    add("duplicate-tensor-name.gguf", b.bytes(),
        "offset 57 (0x39): tensor 't': duplicate tensor name");
  }
  add("five-dims.gguf", GgufOneTensor({1, 1, 1, 1, 1}, kF32Type, 0, 32),
      "offset 33 (0x21): tensor 't': n_dims is 5, max is 4");
  add("negative-dim.gguf", GgufOneTensor({4, -1}, kF32Type, 0, 32),
      "offset 45 (0x2d): tensor 't': dimension 1 is -1, must be >= 0");
  add("element-count-overflow.gguf",
      GgufOneTensor({int64_t{1} << 32, int64_t{1} << 32}, kF32Type, 0, 32),
      "offset 45 (0x2d): tensor 't': element count overflows int64");
  add("byte-size-overflow.gguf", GgufOneTensor({int64_t{1} << 62}, kF64Type, 0, 32),
      "offset 45 (0x2d): tensor 't': byte size overflows uint64");
  add("unknown-type.gguf", GgufOneTensor({4}, 1000, 0, 32),
      "offset 45 (0x2d): tensor 't': unknown ggml type id 1000");
  add("removed-type.gguf", GgufOneTensor({32}, 4, 0, 32),
      "offset 45 (0x2d): tensor 't': unknown ggml type id 4");
  add("row-not-block-multiple.gguf", GgufOneTensor({33}, kQ4_0Type, 0, 32),
      "offset 45 (0x2d): tensor 't': row length 33 is not a multiple of Q4_0's block size 32");
  add("first-offset-not-zero.gguf", GgufOneTensor({4}, kF32Type, 32, 64),
      "offset 49 (0x31): tensor 't': data offset is 32, expected 0 (tensors must be contiguous "
      "and aligned to 32)");
  {
    Bytes b = GgufHead(3, 2, 0);
    PutTensorInfo(b, "a", {4}, kF32Type, 0);
    PutTensorInfo(b, "b", {4}, kF32Type, 16).PadTo(32).Zeros(48);
    add("offset-not-aligned.gguf", b.bytes(),
        "offset 82 (0x52): tensor 'b': data offset is 16, expected 32 (tensors must be "
        "contiguous and aligned to 32)");
  }
  add("data-past-eof.gguf", GgufOneTensor({64}, kF32Type, 0, 100),
      "offset 49 (0x31): tensor 't': data [64, 320) runs past the end of the file (164 bytes)");
  return files;
}

// ---- safetensors ------------------------------------------------------------------------

// u64 header length, the header, then `data_bytes` zero bytes.
inline std::vector<uint8_t> SafetensorsBytes(const std::string& header, size_t data_bytes) {
  Bytes b;
  b.Put<uint64_t>(header.size()).Raw(header).Zeros(data_bytes);
  return b.bytes();
}

// A one-tensor header: {"t":{ <entry> }} (the entry's key is at file offset 9).
inline std::vector<uint8_t> OneTensor(const std::string& entry, size_t data_bytes) {
  return SafetensorsBytes("{\"t\":{" + entry + "}}", data_bytes);
}

inline std::vector<BadFile> BadSafetensorsFiles() {
  std::vector<BadFile> files;
  auto add = [&](std::string name, std::vector<uint8_t> bytes, std::string message) {
    files.push_back({std::move(name), std::move(bytes), std::move(message)});
  };
  const std::string f32x2 = R"("dtype":"F32","shape":[2],)";
  add("too-short.safetensors", Bytes().Put<uint32_t>(2).Put<uint8_t>(0).bytes(),
      "offset 0 (0x0): file is too short to be a safetensors file (5 bytes, the header length "
      "alone takes 8)");
  add("header-too-large.safetensors", PaddedTo(Bytes().Put<uint64_t>(100'000'001).Raw("{}"), 1024),
      "offset 0 (0x0): header length: is 100000001 bytes, max is 100000000");
  add("header-past-eof.safetensors", Bytes().Put<uint64_t>(1000).Raw("{}").Zeros(18).bytes(),
      "offset 0 (0x0): header length: is 1000 bytes, the file has only 20 after it");
  add("header-not-utf8.safetensors", SafetensorsBytes("{\"a\xff\":1}", 0),
      "offset 11 (0xb): header: is not valid utf-8");
  add("header-empty.safetensors", SafetensorsBytes("", 0),
      "offset 8 (0x8): header: is empty, expected a json object");
  add("header-array.safetensors", SafetensorsBytes("[]", 0),
      "offset 8 (0x8): header: must be a json object starting with '{', starts with '['");
  add("header-leading-space.safetensors", SafetensorsBytes(" {}", 0),
      "offset 8 (0x8): header: must be a json object starting with '{', starts with ' '");
  add("header-bad-json.safetensors", SafetensorsBytes(R"({"a":})", 0),
      "offset 13 (0xd): header: invalid json: syntax error while parsing value - unexpected "
      "'}'; expected '[', '{', or a literal");
  add("header-truncated-json.safetensors", SafetensorsBytes(R"({"t":{"dtype")", 0),
      "offset 21 (0x15): header: invalid json: syntax error while parsing object separator - "
      "unexpected end of input; expected ':'");
  add("header-trailing-garbage.safetensors", SafetensorsBytes("{} x", 0),
      "offset 11 (0xb): header: invalid json: syntax error while parsing value - invalid "
      "literal; expected end of input");
  add("header-too-deep.safetensors",
      SafetensorsBytes(R"({"__metadata__":)" + std::string(70, '[') + std::string(70, ']') + "}",
                       0),
      "offset 87 (0x57): header: nested deeper than 64 levels");
  add("duplicate-tensor.safetensors",
      SafetensorsBytes(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                       2),
      "offset 61 (0x3d): header: duplicate key 't'");
  add("duplicate-metadata-key.safetensors",
      SafetensorsBytes(R"({"__metadata__":{"k":"a","k":"b"}})", 0),
      "offset 33 (0x21): header: duplicate key 'k'");
  add("metadata-not-object.safetensors", SafetensorsBytes(R"({"__metadata__":["a"]})", 0),
      "offset 9 (0x9): __metadata__: must be an object of strings, is an array");
  add("metadata-value-not-string.safetensors",
      SafetensorsBytes(R"({"__metadata__":{"k":"a","n":1}})", 0),
      "offset 33 (0x21): __metadata__ 'n': must be a string, is a number");
  add("tensor-not-object.safetensors", SafetensorsBytes(R"({"t":"F32"})", 0),
      "offset 9 (0x9): tensor 't': must be an object with dtype, shape and data_offsets, is a "
      "string");
  add("no-dtype.safetensors", OneTensor(R"("shape":[2],"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': has no dtype");
  add("no-shape.safetensors", OneTensor(R"("dtype":"F32","data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': has no shape");
  add("no-data-offsets.safetensors", OneTensor(R"("dtype":"F32","shape":[2])", 8),
      "offset 9 (0x9): tensor 't': has no data_offsets");
  add("dtype-not-string.safetensors", OneTensor(R"("dtype":4,"shape":[2],"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': dtype must be a string, is a number");
  add("unknown-dtype.safetensors", OneTensor(R"("dtype":"F4","shape":[2],"data_offsets":[0,1])", 1),
      "offset 9 (0x9): tensor 't': unknown dtype 'F4'");
  add("lowercase-dtype.safetensors",
      OneTensor(R"("dtype":"f32","shape":[2],"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': unknown dtype 'f32'");
  add("shape-not-array.safetensors",
      OneTensor(R"("dtype":"F32","shape":2,"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': shape must be an array of non-negative integers, is 2");
  add("shape-negative.safetensors",
      OneTensor(R"("dtype":"F32","shape":[2,-1],"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': shape must be an array of non-negative integers, is [2,-1]");
  add("shape-float.safetensors",
      OneTensor(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': shape must be an array of non-negative integers, is [2.0]");
  add("shape-dim-too-large.safetensors",
      OneTensor(R"("dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,8])", 8),
      "offset 9 (0x9): tensor 't': shape dimension 0 is 9223372036854775808, max is "
      "9223372036854775807");
  add("offsets-three.safetensors", OneTensor(f32x2 + R"("data_offsets":[0,8,16])", 8),
      "offset 9 (0x9): tensor 't': data_offsets must be two non-negative integers [begin, "
      "end], is [0,8,16]");
  add("offsets-negative.safetensors", OneTensor(f32x2 + R"("data_offsets":[-8,0])", 8),
      "offset 9 (0x9): tensor 't': data_offsets must be two non-negative integers [begin, "
      "end], is [-8,0]");
  add("offsets-reversed.safetensors", OneTensor(f32x2 + R"("data_offsets":[8,0])", 8),
      "offset 9 (0x9): tensor 't': data_offsets [8, 0] end before they begin");
  add("element-count-overflow.safetensors",
      OneTensor(R"("dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0])", 0),
      "offset 9 (0x9): tensor 't': shape [4294967296, 4294967296] has more elements than "
      "int64 holds");
  add("byte-size-overflow.safetensors",
      OneTensor(R"("dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0])", 0),
      "offset 9 (0x9): tensor 't': shape [4611686018427387904] of F64 overflows uint64 bytes");
  add("span-mismatch.safetensors",
      OneTensor(R"("dtype":"F32","shape":[2,3],"data_offsets":[0,20])", 20),
      "offset 9 (0x9): tensor 't': data_offsets [0, 20] hold 20 bytes, shape [2, 3] of F32 "
      "needs 24");
  add("first-not-at-zero.safetensors", OneTensor(f32x2 + R"("data_offsets":[4,12])", 12),
      "offset 9 (0x9): tensor 't': data_offsets [4, 12] begin at 4, expected 0 (the first "
      "tensor must begin at 0; tensors must not overlap or leave gaps)");
  add("gap.safetensors",
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})",
                       12),
      "offset 61 (0x3d): tensor 'b': data_offsets [8, 12] begin at 8, expected 4 (where 'a' "
      "ends; tensors must not overlap or leave gaps)");
  add("overlap.safetensors",
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                       6),
      "offset 61 (0x3d): tensor 'b': data_offsets [2, 6] begin at 2, expected 4 (where 'a' "
      "ends; tensors must not overlap or leave gaps)");
  add("data-past-eof.safetensors", OneTensor(f32x2 + R"("data_offsets":[0,8])", 5),
      "offset 9 (0x9): tensor 't': data_offsets [0, 8] run past the end of the file: the data "
      "section has 5 bytes");
  add("trailing-bytes.safetensors", OneTensor(f32x2 + R"("data_offsets":[0,8])", 11),
      "offset 70 (0x46): 3 unexpected bytes after the last tensor's data (header and data must "
      "fill the file exactly)");
  return files;
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_BAD_FILES_H_
