// GGUF: the file format llama.cpp loads. Reading (v2 and v3) and streaming writing (v3).
//
// Layout (all integers little-endian):
//   1. magic       "GGUF" (4 bytes)
//   2. version     u32: 2 or 3 (1 is obsolete; a byte-swapped version means a big-endian file)
//   3. n_tensors   i64
//   4. n_kv        i64
//   5. n_kv key/value pairs:
//        key         string: u64 length + UTF-8 bytes (no terminator)
//        value_type  u32 (GgufValueType)
//        value       scalar: its bytes; string: as above;
//                    array: u32 element type + u64 count + count elements (no nested arrays)
//   6. n_tensors tensor infos:
//        name        string (at most 63 bytes)
//        n_dims      u32 (at most 4)
//        ne          n_dims x i64, fastest-varying dimension first; ne[0] is the row length
//        type        u32 (GgmlType)
//        offset      u64, from the start of the data section
//   7. zero padding up to a multiple of the alignment (general.alignment, u32, default 32)
//   8. data section: each tensor's bytes at its offset; tensors are contiguous in info order,
//      each padded with zeros to the alignment.
//
// Validation follows ggml's own reader rule by rule; every message names the file, the byte
// offset of the offending field and what was wrong with it.
//
// Implemented in gguf.cc (the reader) and gguf_value.cc (values: construction, access,
// display).
#ifndef QTK_FORMAT_GGUF_H_
#define QTK_FORMAT_GGUF_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"

namespace qtk {

inline constexpr uint32_t kGgufVersion = 3;
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr size_t kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxNameBytes = 63;

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// "u8", "i32", "f32", "bool", "str", "arr", ...; "?" for an unknown id.
std::string_view GgufValueTypeName(GgufValueType type);

// Bytes of one scalar of `type`; 0 for strings and arrays.
size_t GgufScalarSize(GgufValueType type);

// One metadata value: a scalar, a string, or an array of scalars or strings. Values keep
// their exact GGUF type so that a file read and written back is byte-identical.
class GgufValue {
 public:
  GgufValue() = default;  // u8 0

  static GgufValue Uint8(uint8_t v) { return Scalar(GgufValueType::kUint8, v); }
  static GgufValue Int8(int8_t v) { return Scalar(GgufValueType::kInt8, v); }
  static GgufValue Uint16(uint16_t v) { return Scalar(GgufValueType::kUint16, v); }
  static GgufValue Int16(int16_t v) { return Scalar(GgufValueType::kInt16, v); }
  static GgufValue Uint32(uint32_t v) { return Scalar(GgufValueType::kUint32, v); }
  static GgufValue Int32(int32_t v) { return Scalar(GgufValueType::kInt32, v); }
  static GgufValue Float32(float v) { return Scalar(GgufValueType::kFloat32, v); }
  static GgufValue Bool(bool v) {
    return Scalar(GgufValueType::kBool, static_cast<uint8_t>(v ? 1 : 0));
  }
  static GgufValue Uint64(uint64_t v) { return Scalar(GgufValueType::kUint64, v); }
  static GgufValue Int64(int64_t v) { return Scalar(GgufValueType::kInt64, v); }
  static GgufValue Float64(double v) { return Scalar(GgufValueType::kFloat64, v); }
  static GgufValue String(std::string v);

  // An array of scalars given as raw little-endian bytes.
  // REQUIRES: element_type is a scalar type and raw.size() is a multiple of its size.
  static GgufValue ScalarArray(GgufValueType element_type, std::vector<uint8_t> raw);
  static GgufValue StringArray(std::vector<std::string> strings);
  // A scalar from its raw little-endian bytes (kept exactly, even a bool byte other than 0/1).
  // REQUIRES: type is a scalar type and raw.size() == GgufScalarSize(type).
  static GgufValue ScalarFromRaw(GgufValueType type, std::span<const uint8_t> raw);

  // An array of T (uint8_t ... double, matching `element_type`).
  template <typename T>
  static GgufValue ArrayOf(GgufValueType element_type, std::span<const T> values) {
    static_assert(std::is_arithmetic_v<T>);
    std::vector<uint8_t> raw(values.size_bytes());
    if (!raw.empty()) std::memcpy(raw.data(), values.data(), raw.size());
    return ScalarArray(element_type, std::move(raw));
  }

  GgufValueType type() const { return type_; }
  bool is_array() const { return type_ == GgufValueType::kArray; }
  // The type of the elements; only meaningful for arrays.
  GgufValueType element_type() const { return element_type_; }
  // Elements in an array (0 for scalars).
  size_t array_size() const;

  // Scalar accessors: nullopt when the value is not of a compatible type.
  // AsUint accepts any integer type holding a value >= 0; AsInt any integer that fits
  // int64; AsDouble f32 and f64.
  std::optional<uint64_t> AsUint() const;
  std::optional<int64_t> AsInt() const;
  std::optional<double> AsDouble() const;
  std::optional<bool> AsBool() const;
  // nullptr unless the value is a string.
  const std::string* AsString() const;

  // Raw little-endian payload of a scalar or scalar array.
  std::span<const uint8_t> raw() const { return raw_; }
  // The strings of a string array.
  const std::vector<std::string>& strings() const { return strings_; }

  // Element i of a scalar array as T. REQUIRES: sizeof(T) is the element size, i < size.
  template <typename T>
  T Element(size_t i) const {
    T value;
    std::memcpy(&value, raw_.data() + i * sizeof(T), sizeof(T));
    return value;
  }

  // "llama", 2048, 1e-05, [2, 3, 3, ... ] (512 items): for `qtk inspect`.
  std::string ToDisplayString(size_t max_items = 8) const;

  bool operator==(const GgufValue& other) const;

 private:
  template <typename T>
  static GgufValue Scalar(GgufValueType type, T v) {
    GgufValue value;
    value.type_ = type;
    value.raw_.resize(sizeof(T));
    std::memcpy(value.raw_.data(), &v, sizeof(T));
    return value;
  }

  GgufValueType type_ = GgufValueType::kUint8;
  GgufValueType element_type_ = GgufValueType::kUint8;
  std::vector<uint8_t> raw_ = std::vector<uint8_t>(1, 0);
  std::vector<std::string> strings_;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> shape;  // ne: fastest-varying first; empty for a rank-0 tensor
  uint64_t offset = 0;         // from the start of the data section
  uint64_t n_bytes = 0;

  int64_t n_elements() const;
  // Elements per row (shape[0], or 1 for rank 0) and rows (the product of the others).
  int64_t row_length() const { return shape.empty() ? 1 : shape[0]; }
  int64_t n_rows() const;
};

// A parsed, validated GGUF file. Tensor data are views into the source (no copy).
class GgufFile {
 public:
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::string& path() const { return source_->name(); }
  const std::shared_ptr<const ByteSource>& source() const { return source_; }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  // nullptr if `key` is absent.
  const GgufValue* FindValue(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // nullptr if there is no tensor called `name`.
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // Absolute offset of the data section in the file.
  uint64_t data_offset() const { return data_offset_; }
  // The bytes of one tensor. REQUIRES: `info` is one of tensors().
  std::span<const uint8_t> TensorData(const GgufTensorInfo& info) const;

 private:
  friend class GgufParser;

  std::shared_ptr<const ByteSource> source_;
  uint32_t version_ = kGgufVersion;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

// True if `bytes` start with the GGUF magic ("GGUF"): the one test of what a file is.
bool HasGgufMagic(std::span<const uint8_t> bytes);

// Parses and validates the GGUF file in `source`.
// Errors: Corruption naming the offset and the rule broken; Unsupported for valid files
// of a version or type qtk does not read.
Result<GgufFile> ParseGguf(std::shared_ptr<const ByteSource> source);

// MapFile(path) then ParseGguf.
Result<GgufFile> ReadGgufFile(const std::string& path);

}  // namespace qtk

#endif  // QTK_FORMAT_GGUF_H_
