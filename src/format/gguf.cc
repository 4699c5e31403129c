// GGUF parsing: a chain of named steps, each validating what it reads (see qtk/format/gguf.h).
#include "qtk/format/gguf.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "base/byte_cursor.h"
#include "base/string_util.h"
#include "qtk/base/shape.h"

namespace qtk {

int64_t GgufTensorInfo::n_elements() const { return ElementCount(shape); }

int64_t GgufTensorInfo::n_rows() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

const GgufValue* GgufFile::FindValue(std::string_view key) const {
  for (const GgufKeyValue& kv : metadata_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const GgufTensorInfo& info : tensors_) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::span<const uint8_t> GgufFile::TensorData(const GgufTensorInfo& info) const {
  return source_->bytes().subspan(data_offset_ + info.offset, info.n_bytes);
}

// Friend of GgufFile: fills it step by step.
class GgufParser {
 public:
  explicit GgufParser(std::shared_ptr<const ByteSource> source)
      : source_(std::move(source)), cursor_(source_->bytes(), source_->name()) {}

  Result<GgufFile> Parse() {
    file_.source_ = source_;
    QTK_RETURN_IF_ERROR(ReadMagic());
    QTK_RETURN_IF_ERROR(ReadVersion());
    QTK_RETURN_IF_ERROR(ReadCounts());
    QTK_RETURN_IF_ERROR(ReadMetadata());
    QTK_RETURN_IF_ERROR(ReadAlignment());
    QTK_RETURN_IF_ERROR(ReadTensorInfos());
    QTK_RETURN_IF_ERROR(CheckDataSection());
    return std::move(file_);
  }

 private:
  // Smallest possible encodings, used to bound counts by the bytes left in the file
  // before anything is allocated.
  static constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;        // empty key, u8 value
  static constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, rank 0

  Status ReadMagic() {
    if (cursor_.size() < 4) {
      return cursor_.ErrorAt(
          0, "",
          "file is too short to be a gguf file (" + std::to_string(cursor_.size()) + " bytes)");
    }
    QTK_ASSIGN_OR_RETURN(auto magic, cursor_.ReadBytes(4, "magic"));
    if (!HasGgufMagic(magic)) {
      std::string seen(reinterpret_cast<const char*>(magic.data()), 4);
      return cursor_.ErrorAt(0, "magic", "is '" + Printable(seen) + "', expected 'GGUF'");
    }
    return Status::Ok();
  }

  Status ReadVersion() {
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(uint32_t version, cursor_.Read<uint32_t>("version"));
    if (version == 1) {
      return cursor_.ErrorAt(at, "version", "gguf v1 is no longer supported, convert it again");
    }
    if (version != 0 && (version & 0xFFFFu) == 0) {
      return cursor_.ErrorAt(at, "version",
                             "is " + std::to_string(version) +
                                 ", looks byte-swapped (endianness?): qtk reads little-endian "
                                 "gguf only");
    }
    if (version < 2 || version > kGgufVersion) {
      return cursor_.ErrorAt(at, "version",
                             "is " + std::to_string(version) + ", supported are 2 and 3");
    }
    file_.version_ = version;
    return Status::Ok();
  }

  Status ReadCounts() {
    uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(int64_t n_tensors, cursor_.Read<int64_t>("tensor count"));
    QTK_RETURN_IF_ERROR(CheckCount(at, "tensor count", n_tensors, kMinTensorInfoBytes));
    at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(int64_t n_kv, cursor_.Read<int64_t>("metadata count"));
    QTK_RETURN_IF_ERROR(CheckCount(at, "metadata count", n_kv, kMinKeyValueBytes));
    n_tensors_ = static_cast<uint64_t>(n_tensors);
    n_kv_ = static_cast<uint64_t>(n_kv);
    return Status::Ok();
  }

  Status CheckCount(uint64_t at, std::string_view what, int64_t count, uint64_t min_bytes) {
    if (count < 0) {
      return cursor_.ErrorAt(at, what, "is " + std::to_string(count) + ", must be >= 0");
    }
    const uint64_t max = cursor_.remaining() / min_bytes;
    if (static_cast<uint64_t>(count) > max) {
      return cursor_.ErrorAt(
          at, what,
          "is " + std::to_string(count) + ", the file has room for at most " + std::to_string(max));
    }
    return Status::Ok();
  }

  // A u64 length-prefixed string. `what` names it in errors.
  Result<std::string> ReadString(std::string_view what) {
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(uint64_t length, cursor_.Read<uint64_t>(what));
    if (length > cursor_.remaining()) {
      return cursor_.ErrorAt(at, what,
                             "length is " + std::to_string(length) + ", file has " +
                                 std::to_string(cursor_.remaining()) + " bytes left");
    }
    QTK_ASSIGN_OR_RETURN(auto bytes, cursor_.ReadBytes(length, what));
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  Result<GgufValueType> ReadValueType(std::string_view what) {
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(uint32_t id, cursor_.Read<uint32_t>(what));
    if (id > static_cast<uint32_t>(GgufValueType::kFloat64)) {
      return cursor_.ErrorAt(at, what, "unknown value type " + std::to_string(id));
    }
    return static_cast<GgufValueType>(id);
  }

  Status ReadMetadata() {
    std::unordered_set<std::string> seen;
    file_.metadata_.reserve(n_kv_);
    for (uint64_t i = 0; i < n_kv_; ++i) {
      const uint64_t at = cursor_.position();
      QTK_ASSIGN_OR_RETURN(std::string key, ReadString("metadata key"));
      if (!IsValidUtf8(key)) {
        return cursor_.ErrorAt(at, "metadata key '" + Printable(key) + "'", "is not valid utf-8");
      }
      if (!seen.insert(key).second) {
        return cursor_.ErrorAt(at, "metadata key '" + Printable(key) + "'", "duplicate key");
      }
      const std::string subject = "metadata '" + Printable(key) + "'";
      QTK_ASSIGN_OR_RETURN(GgufValue value, ReadValue(subject));
      key_positions_.push_back(at);
      file_.metadata_.push_back({std::move(key), std::move(value)});
    }
    return Status::Ok();
  }

  Result<GgufValue> ReadValue(const std::string& subject) {
    QTK_ASSIGN_OR_RETURN(GgufValueType type, ReadValueType(subject));
    if (type == GgufValueType::kString) {
      QTK_ASSIGN_OR_RETURN(std::string s, ReadString(subject));
      return GgufValue::String(std::move(s));
    }
    if (type == GgufValueType::kArray) return ReadArray(subject);
    QTK_ASSIGN_OR_RETURN(auto bytes, cursor_.ReadBytes(GgufScalarSize(type), subject));
    return GgufValue::ScalarFromRaw(type, bytes);
  }

  Result<GgufValue> ReadArray(const std::string& subject) {
    QTK_ASSIGN_OR_RETURN(GgufValueType element_type, ReadValueType(subject + " element type"));
    if (element_type == GgufValueType::kArray) {
      return cursor_.ErrorAt(cursor_.position() - 4, subject, "nested arrays are not supported");
    }
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(uint64_t count, cursor_.Read<uint64_t>(subject + " array count"));
    // Each element takes at least this many bytes: bound the count before allocating.
    const uint64_t min_element_bytes =
        element_type == GgufValueType::kString ? 8 : GgufScalarSize(element_type);
    if (count > cursor_.remaining() / min_element_bytes) {
      return cursor_.ErrorAt(
          at, subject,
          "array of " + std::to_string(count) + " " + std::string(GgufValueTypeName(element_type)) +
              " does not fit in the " + std::to_string(cursor_.remaining()) + " bytes left");
    }
    if (element_type == GgufValueType::kString) {
      std::vector<std::string> strings;
      strings.reserve(count);
      const std::string element = subject + " element";  // once, not once per vocabulary entry
      for (uint64_t i = 0; i < count; ++i) {
        QTK_ASSIGN_OR_RETURN(std::string s, ReadString(element));
        strings.push_back(std::move(s));
      }
      return GgufValue::StringArray(std::move(strings));
    }
    QTK_ASSIGN_OR_RETURN(auto bytes, cursor_.ReadBytes(count * min_element_bytes, subject));
    return GgufValue::ScalarArray(element_type, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }

  Status ReadAlignment() {
    const auto& metadata = file_.metadata_;
    auto it = std::find_if(metadata.begin(), metadata.end(),
                           [](const GgufKeyValue& kv) { return kv.key == "general.alignment"; });
    if (it == metadata.end()) return Status::Ok();
    const GgufValue* value = &it->value;
    const uint64_t at = key_positions_[static_cast<size_t>(it - metadata.begin())];
    if (value->type() != GgufValueType::kUint32) {
      return cursor_.ErrorAt(
          at, "metadata 'general.alignment'",
          "has type " + std::string(GgufValueTypeName(value->type())) + ", expected u32");
    }
    const uint64_t alignment = *value->AsUint();
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
      return cursor_.ErrorAt(at, "metadata 'general.alignment'",
                             "is " + std::to_string(alignment) + ", must be a power of two");
    }
    file_.alignment_ = alignment;
    return Status::Ok();
  }

  Status ReadTensorInfos() {
    std::unordered_set<std::string> seen;
    file_.tensors_.reserve(n_tensors_);
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      QTK_ASSIGN_OR_RETURN(GgufTensorInfo info, ReadTensorInfo(seen));
      file_.tensors_.push_back(std::move(info));
    }
    return Status::Ok();
  }

  Result<GgufTensorInfo> ReadTensorInfo(std::unordered_set<std::string>& seen) {
    GgufTensorInfo info;
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(info.name, ReadString("tensor name"));
    const std::string subject = "tensor '" + Printable(info.name) + "'";
    if (info.name.size() > kGgufMaxNameBytes) {
      return cursor_.ErrorAt(at, subject,
                             "name is " + std::to_string(info.name.size()) + " bytes, max is " +
                                 std::to_string(kGgufMaxNameBytes));
    }
    if (!IsValidUtf8(info.name)) return cursor_.ErrorAt(at, subject, "name is not valid utf-8");
    if (!seen.insert(info.name).second) {
      return cursor_.ErrorAt(at, subject, "duplicate tensor name");
    }
    QTK_RETURN_IF_ERROR(ReadShape(subject, info));
    QTK_RETURN_IF_ERROR(ReadTensorType(subject, info));
    const uint64_t offset_at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(info.offset, cursor_.Read<uint64_t>(subject + ": offset"));
    offset_positions_.push_back(offset_at);
    return info;
  }

  Status ReadShape(const std::string& subject, GgufTensorInfo& info) {
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(uint32_t n_dims, cursor_.Read<uint32_t>(subject + ": n_dims"));
    if (n_dims > kGgufMaxDims) {
      return cursor_.ErrorAt(
          at, subject,
          "n_dims is " + std::to_string(n_dims) + ", max is " + std::to_string(kGgufMaxDims));
    }
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim_at = cursor_.position();
      QTK_ASSIGN_OR_RETURN(int64_t ne, cursor_.Read<int64_t>(subject + ": dimension"));
      if (ne < 0) {
        return cursor_.ErrorAt(
            dim_at, subject,
            "dimension " + std::to_string(d) + " is " + std::to_string(ne) + ", must be >= 0");
      }
      if (ne != 0 && n_elements > std::numeric_limits<int64_t>::max() / ne) {
        return cursor_.ErrorAt(dim_at, subject, "element count overflows int64");
      }
      n_elements *= ne;
      info.shape.push_back(ne);
    }
    return Status::Ok();
  }

  Status ReadTensorType(const std::string& subject, GgufTensorInfo& info) {
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(uint32_t id, cursor_.Read<uint32_t>(subject + ": type"));
    const GgmlTypeTraits* traits = FindGgmlType(id);
    if (traits == nullptr) {
      return cursor_.ErrorAt(at, subject, "unknown ggml type id " + std::to_string(id));
    }
    info.type = traits->type;
    const int64_t row = info.row_length();
    if (row % traits->block_size != 0) {
      return cursor_.ErrorAt(at, subject,
                             "row length " + std::to_string(row) + " is not a multiple of " +
                                 std::string(traits->name) + "'s block size " +
                                 std::to_string(traits->block_size));
    }
    const uint64_t n_blocks = static_cast<uint64_t>(info.n_elements() / traits->block_size);
    const auto type_size = static_cast<uint64_t>(traits->type_size);
    if (n_blocks > std::numeric_limits<uint64_t>::max() / type_size) {
      return cursor_.ErrorAt(at, subject, "byte size overflows uint64");
    }
    info.n_bytes = n_blocks * type_size;
    return Status::Ok();
  }

  Status CheckDataSection() {
    const uint64_t alignment = file_.alignment_;
    const uint64_t header_end = cursor_.position();
    const uint64_t data_offset = AlignUp(header_end, alignment);
    file_.data_offset_ = data_offset;
    uint64_t expected = 0;
    for (size_t i = 0; i < file_.tensors_.size(); ++i) {
      const GgufTensorInfo& info = file_.tensors_[i];
      const std::string subject = "tensor '" + Printable(info.name) + "'";
      if (info.offset != expected) {
        return cursor_.ErrorAt(offset_positions_[i], subject,
                               "data offset is " + std::to_string(info.offset) + ", expected " +
                                   std::to_string(expected) +
                                   " (tensors must be contiguous and aligned to " +
                                   std::to_string(alignment) + ")");
      }
      if (info.n_bytes > std::numeric_limits<uint64_t>::max() - expected - alignment) {
        return cursor_.ErrorAt(offset_positions_[i], subject, "data size overflows uint64");
      }
      expected = AlignUp(expected + info.n_bytes, alignment);
      const uint64_t end = data_offset + info.offset + info.n_bytes;
      if (data_offset > cursor_.size() || end > cursor_.size() || end < data_offset) {
        return cursor_.ErrorAt(offset_positions_[i], subject,
                               "data [" + std::to_string(data_offset + info.offset) + ", " +
                                   std::to_string(end) + ") runs past the end of the file (" +
                                   std::to_string(cursor_.size()) + " bytes)");
      }
    }
    return Status::Ok();
  }

  static uint64_t AlignUp(uint64_t n, uint64_t alignment) {
    return (n + alignment - 1) / alignment * alignment;
  }

  std::shared_ptr<const ByteSource> source_;
  ByteCursor cursor_;
  GgufFile file_;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  std::vector<uint64_t> key_positions_;     // where each metadata key starts
  std::vector<uint64_t> offset_positions_;  // where each tensor's offset field starts
};

bool HasGgufMagic(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0;
}

Result<GgufFile> ParseGguf(std::shared_ptr<const ByteSource> source) {
  return GgufParser(std::move(source)).Parse();
}

Result<GgufFile> ReadGgufFile(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
  return ParseGguf(std::move(source));
}

}  // namespace qtk
