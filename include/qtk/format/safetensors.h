// safetensors: the tensor file format of Hugging Face checkpoints. Reading single files and
// sharded checkpoints (model.safetensors.index.json + shards).
//
// Layout of one file (all integers little-endian):
//   1. header length  u64: n, the bytes of the JSON header (qtk, like the reference, caps it
//                     at 100,000,000 before reading anything else)
//   2. header         n bytes of UTF-8 JSON, one object (the first byte is '{'), often padded
//                     with spaces to a multiple of 8:
//                       "__metadata__": {"key": "value", ...}      optional, strings only
//                       "<tensor name>": {"dtype": "BF16", "shape": [4096, 11008],
//                                         "data_offsets": [begin, end]}
//   3. data           the tensors' bytes; data_offsets are relative to the start of this
//                     section (file offset 8 + n). Sorted by offset, the tensors tile the data
//                     section exactly: the first begins at 0, each begins where the previous
//                     ended, and the last ends at the end of the file.
//
// Shapes are kept in safetensors order: OUTERMOST dimension first (row-major, as numpy and
// PyTorch print them), so a Linear weight is [out_features, in_features] and the last
// dimension is the row length. GGUF stores the reverse (ne[0] is the row length).
// Tensor data are not aligned by the format: read elements with memcpy.
//
// Validation follows the reference implementation (huggingface/safetensors) rule by rule and
// adds what it leaves to serde: see docs/input-validation.md. Every message names the file, a byte
// offset (for problems inside the JSON header: the offset of the offending key or byte in the
// file) and what was wrong.
//
// A sharded checkpoint is an index file
//   {"metadata": {"total_size": 123, ...}, "weight_map": {"<tensor>": "<shard file>", ...}}
// beside its shards (file names relative to the index's directory).
//
// Implemented in safetensors.cc (one file), safetensors_dtype.cc (the dtype table),
// safetensors_index.cc (the shard index) and safetensors_checkpoint.cc (shards checked
// against their index).
#ifndef QTK_FORMAT_SAFETENSORS_H_
#define QTK_FORMAT_SAFETENSORS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"

namespace qtk {

// Header lengths above this are rejected before anything is allocated (as the reference does).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// The element types of the format, in the reference's order (increasing alignment).
enum class SafetensorsDtype : uint8_t {
  kBool,
  kU8,
  kI8,
  kF8_E5M2,
  kF8_E4M3,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
};

struct SafetensorsDtypeTraits {
  SafetensorsDtype dtype;
  std::string_view name;         // as spelled in files: "BF16", "F8_E4M3", "BOOL"
  uint64_t size;                 // bytes per element
  std::optional<GgmlType> ggml;  // the ggml type with the same encoding, if any
};

// Every dtype, in enum order.
std::span<const SafetensorsDtypeTraits> AllSafetensorsDtypes();
const SafetensorsDtypeTraits& Traits(SafetensorsDtype dtype);
inline std::string_view SafetensorsDtypeName(SafetensorsDtype dtype) { return Traits(dtype).name; }
inline uint64_t SafetensorsDtypeSize(SafetensorsDtype dtype) { return Traits(dtype).size; }
// Exact (case-sensitive) lookup, as the format requires: "F32" yes, "f32" no.
std::optional<SafetensorsDtype> SafetensorsDtypeFromName(std::string_view name);

struct SafetensorsTensorInfo {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;  // outermost first; empty for a scalar
  uint64_t begin = 0;          // data_offsets, relative to the data section
  uint64_t end = 0;
  uint64_t key_offset = 0;  // where the tensor's entry starts in the file (for messages)

  uint64_t n_bytes() const { return end - begin; }
  int64_t n_elements() const;
};

// A parsed, validated safetensors file. Tensor data are views into the source (no copy).
class SafetensorsFile {
 public:
  const std::string& path() const { return source_->name(); }
  const std::shared_ptr<const ByteSource>& source() const { return source_; }

  // The JSON header's length n; the data section starts at file offset 8 + n.
  uint64_t header_bytes() const { return header_bytes_; }
  uint64_t data_offset() const { return 8 + header_bytes_; }

  // __metadata__, in file order.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  // nullptr if `key` is absent.
  const std::string* FindMetadata(std::string_view key) const;

  // The tensors in data order (by data_offsets).
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  // nullptr if there is no tensor called `name`.
  const SafetensorsTensorInfo* FindTensor(std::string_view name) const;

  // The bytes of one tensor. REQUIRES: `info` is one of tensors().
  std::span<const uint8_t> TensorData(const SafetensorsTensorInfo& info) const;

 private:
  friend class SafetensorsParser;

  std::shared_ptr<const ByteSource> source_;
  uint64_t header_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::vector<uint32_t> by_name_;  // positions in tensors_, sorted by name
};

// Parses and validates the safetensors file in `source`.
// Errors: Corruption naming the offset and the rule broken.
Result<SafetensorsFile> ParseSafetensors(std::shared_ptr<const ByteSource> source);

// MapFile(path) then ParseSafetensors.
Result<SafetensorsFile> ReadSafetensorsFile(const std::string& path);

// model.safetensors.index.json, parsed.
struct SafetensorsIndex {
  struct Entry {
    std::string tensor;
    std::string file;     // as written in the index, relative to its directory
    uint64_t offset = 0;  // of the entry's key in the index file (for messages)
  };
  std::string path;
  std::optional<uint64_t> total_size;  // metadata.total_size, if present
  // The other metadata entries, in file order; values that are not strings as JSON text.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<Entry> weight_map;  // in file order
  // The distinct shard file names, in order of first appearance in weight_map.
  std::vector<std::string> files;
};

// Parses and validates an index: a JSON object with a "weight_map" object of strings whose
// values are plain relative file names (no absolute paths, no "..").
// Errors: Corruption naming the offset and the rule broken.
Result<SafetensorsIndex> ParseSafetensorsIndex(std::shared_ptr<const ByteSource> source);

// One safetensors file, or an index and all its shards, validated together.
class SafetensorsCheckpoint {
 public:
  struct TensorRef {
    size_t shard = 0;   // into shards()
    size_t tensor = 0;  // into shards()[shard].tensors()
  };

  // The .safetensors file, or the index file.
  const std::string& path() const { return path_; }
  // Set for a sharded checkpoint.
  const std::optional<SafetensorsIndex>& index() const { return index_; }
  // One file, or the shards in index order.
  const std::vector<SafetensorsFile>& shards() const { return shards_; }

  // Every tensor, shard by shard, each shard in data order.
  const std::vector<TensorRef>& tensors() const { return tensors_; }
  const SafetensorsTensorInfo& Info(TensorRef ref) const {
    return shards_[ref.shard].tensors()[ref.tensor];
  }
  std::optional<TensorRef> FindTensor(std::string_view name) const;
  std::span<const uint8_t> TensorData(TensorRef ref) const {
    return shards_[ref.shard].TensorData(Info(ref));
  }

 private:
  friend class CheckpointBuilder;

  std::string path_;
  std::optional<SafetensorsIndex> index_;
  std::vector<SafetensorsFile> shards_;
  std::vector<TensorRef> tensors_;
};

// A checkpoint of one already-parsed file (ParseSafetensors on bytes in memory, say).
SafetensorsCheckpoint SingleFileCheckpoint(SafetensorsFile file);

// Opens a shard named in an index (`file` as the index spells it, relative to the index).
using SafetensorsShardOpener =
    std::function<Result<std::shared_ptr<const ByteSource>>(const std::string& file)>;

// The shards of a parsed index, opened through `open_shard` in index order and checked
// against the index by the rules of OpenSafetensorsCheckpoint. The I/O is the caller's, so
// tests and fuzzers can assemble a sharded checkpoint in memory.
Result<SafetensorsCheckpoint> AssembleSafetensorsCheckpoint(
    SafetensorsIndex index, const SafetensorsShardOpener& open_shard);

// `path` is a .safetensors file (one shard) or an index file (the shards are mapped from its
// directory). Beyond each file's own rules, a sharded checkpoint must have: every shard the
// index names present and valid; every tensor the index lists in the shard it names; every
// tensor of a shard listed in the index; no tensor name in two shards.
// Errors: NotFound for missing files, Corruption for rule violations, IOError.
Result<SafetensorsCheckpoint> OpenSafetensorsCheckpoint(const std::string& path);

}  // namespace qtk

#endif  // QTK_FORMAT_SAFETENSORS_H_
