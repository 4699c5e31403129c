// Reading importance matrices in llama-imatrix's GGUF and legacy forms (see qtk/format/imatrix.h).
#include "qtk/format/imatrix.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "base/byte_cursor.h"
#include "base/string_util.h"
#include "qtk/format/gguf.h"

namespace qtk {

// Friend of ImportanceMatrix: the parsers hand it validated parts.
class ImportanceMatrixBuilder {
 public:
  static ImportanceMatrix Build(ImportanceFormat format, std::vector<std::string> datasets,
                                int64_t chunk_count, int64_t chunk_size,
                                std::vector<ImportanceEntry> entries) {
    std::sort(entries.begin(), entries.end(),
              [](const ImportanceEntry& a, const ImportanceEntry& b) { return a.name < b.name; });
    ImportanceMatrix matrix;
    matrix.format_ = format;
    matrix.datasets_ = std::move(datasets);
    matrix.chunk_count_ = chunk_count;
    matrix.chunk_size_ = chunk_size;
    matrix.entries_ = std::move(entries);
    return matrix;
  }
};

namespace {

Status CorruptionAt(std::string_view path, uint64_t offset, std::string_view subject,
                    std::string_view problem) {
  return Status::Corruption(AtOffset(path, offset) + ": " + std::string(subject) + ": " +
                            std::string(problem));
}

std::string Quoted(std::string_view name) { return "'" + Printable(name) + "'"; }

// Sums and counts must be finite and non-negative: they are sums of squares and token counts.
std::string CheckStatistic(float value) {
  if (std::isnan(value)) return "is nan";
  if (std::isinf(value)) return value > 0 ? "is inf" : "is -inf";
  if (value < 0) return "is " + std::to_string(value) + ", must be >= 0";
  return "";
}

std::string FormatFloat(float value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", static_cast<double>(value));
  return buffer;
}

float LoadFloat(const uint8_t* p) {
  float value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

// ---- GGUF form

// Where each metadata pair and tensor info starts: GgufFile keeps values, not positions, and
// the encoding is fully determined by them.
struct GgufFieldOffsets {
  std::vector<uint64_t> key_values;
  std::vector<uint64_t> tensor_infos;
};

uint64_t EncodedValueBytes(const GgufValue& value) {
  if (value.type() == GgufValueType::kString) return 8 + value.AsString()->size();
  if (!value.is_array()) return GgufScalarSize(value.type());
  uint64_t n_bytes = 4 + 8;  // element type, count
  if (value.element_type() != GgufValueType::kString) return n_bytes + value.raw().size();
  for (const std::string& s : value.strings()) n_bytes += 8 + s.size();
  return n_bytes;
}

constexpr uint64_t kGgufTensorCountOffset = 8;
constexpr uint64_t kGgufMetadataOffset = 24;  // magic, version, tensor count, metadata count

GgufFieldOffsets LocateGgufFields(const GgufFile& file) {
  GgufFieldOffsets offsets;
  uint64_t at = kGgufMetadataOffset;
  for (const GgufKeyValue& kv : file.metadata()) {
    offsets.key_values.push_back(at);
    at += 8 + kv.key.size() + 4 + EncodedValueBytes(kv.value);
  }
  for (const GgufTensorInfo& info : file.tensors()) {
    offsets.tensor_infos.push_back(at);
    at += 8 + info.name.size() + 4 + 8 * info.shape.size() + 4 + 8;
  }
  return offsets;
}

struct GgufMetadata {
  std::vector<std::string> datasets;
  int64_t chunk_count = 0;
  int64_t chunk_size = 0;
};

class GgufImatrixReader {
 public:
  explicit GgufImatrixReader(const GgufFile& file)
      : file_(file), offsets_(LocateGgufFields(file)) {}

  Result<ImportanceMatrix> Read() {
    GgufMetadata metadata;
    QTK_RETURN_IF_ERROR(ReadMetadata(&metadata));
    QTK_RETURN_IF_ERROR(PairTensors());
    std::vector<ImportanceEntry> entries;
    for (const auto& [name, pair] : pairs_) {
      QTK_ASSIGN_OR_RETURN(ImportanceEntry entry, MakeEntry(name, pair));
      entries.push_back(std::move(entry));
    }
    return ImportanceMatrixBuilder::Build(ImportanceFormat::kGguf, std::move(metadata.datasets),
                                          metadata.chunk_count, metadata.chunk_size,
                                          std::move(entries));
  }

 private:
  // Indexes into file_.tensors() of one weight's in_sum2 and counts (-1: absent).
  struct TensorPair {
    int sums = -1;
    int counts = -1;
  };

  Status Error(uint64_t offset, std::string_view subject, std::string_view problem) const {
    return CorruptionAt(file_.path(), offset, subject, problem);
  }

  // The index of `key` in the metadata, or -1.
  int FindKey(std::string_view key) const {
    const auto& metadata = file_.metadata();
    for (size_t i = 0; i < metadata.size(); ++i) {
      if (metadata[i].key == key) return static_cast<int>(i);
    }
    return -1;
  }

  // The value of a key llama-quantize requires, or an error naming where it should be.
  Result<const GgufValue*> RequiredValue(std::string_view key, int* index) const {
    *index = FindKey(key);
    if (*index < 0) {
      return Error(kGgufMetadataOffset, "metadata '" + std::string(key) + "'",
                   "is missing (an imatrix needs imatrix.datasets, imatrix.chunk_count and "
                   "imatrix.chunk_size)");
    }
    return &file_.metadata()[static_cast<size_t>(*index)].value;
  }

  Result<int64_t> ReadU32(std::string_view key) const {
    int index = -1;
    QTK_ASSIGN_OR_RETURN(const GgufValue* value, RequiredValue(key, &index));
    if (value->type() != GgufValueType::kUint32) {
      return Error(offsets_.key_values[static_cast<size_t>(index)],
                   "metadata '" + std::string(key) + "'",
                   "is " + std::string(GgufValueTypeName(value->type())) + ", expected u32");
    }
    return static_cast<int64_t>(*value->AsUint());
  }

  Status ReadMetadata(GgufMetadata* metadata) const {
    const int type_index = FindKey("general.type");
    if (type_index >= 0) {
      const GgufValue& value = file_.metadata()[static_cast<size_t>(type_index)].value;
      const std::string* type = value.AsString();
      if (type == nullptr || *type != "imatrix") {
        return Error(offsets_.key_values[static_cast<size_t>(type_index)],
                     "metadata 'general.type'",
                     "is " + value.ToDisplayString() + ", expected \"imatrix\"");
      }
    }
    int index = -1;
    QTK_ASSIGN_OR_RETURN(const GgufValue* datasets, RequiredValue("imatrix.datasets", &index));
    if (!datasets->is_array() || datasets->element_type() != GgufValueType::kString) {
      return Error(offsets_.key_values[static_cast<size_t>(index)], "metadata 'imatrix.datasets'",
                   "is " + std::string(GgufValueTypeName(datasets->type())) +
                       ", expected an array of strings");
    }
    metadata->datasets = datasets->strings();
    QTK_ASSIGN_OR_RETURN(metadata->chunk_count, ReadU32("imatrix.chunk_count"));
    QTK_ASSIGN_OR_RETURN(metadata->chunk_size, ReadU32("imatrix.chunk_size"));
    return Status::Ok();
  }

  // Groups "<W>.in_sum2" and "<W>.counts" by W, checking each one's type.
  Status PairTensors() {
    const auto& tensors = file_.tensors();
    if (tensors.empty()) {
      return Error(kGgufTensorCountOffset, "tensor count",
                   "is 0, an importance matrix needs in_sum2 and counts tensors");
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
      const std::string& name = tensors[i].name;
      const bool is_sums = name.ends_with(".in_sum2");
      const bool is_counts = name.ends_with(".counts");
      if (!is_sums && !is_counts) continue;
      const std::string subject = "tensor " + Quoted(name);
      const std::string weight = name.substr(0, name.rfind('.'));
      if (weight.empty()) return Error(offsets_.tensor_infos[i], subject, "names no weight");
      if (tensors[i].type != GgmlType::kF32) {
        return Error(offsets_.tensor_infos[i], subject,
                     "type is " + std::string(GgmlTypeName(tensors[i].type)) + ", expected F32");
      }
      (is_sums ? pairs_[weight].sums : pairs_[weight].counts) = static_cast<int>(i);
    }
    if (pairs_.empty()) {
      return Error(kGgufTensorCountOffset, "tensors",
                   "none is named '<weight>.in_sum2' or '<weight>.counts'");
    }
    return Status::Ok();
  }

  // Checks every value of tensor `index` and returns a pointer to its first.
  Result<const uint8_t*> CheckedData(int index) const {
    const GgufTensorInfo& info = file_.tensors()[static_cast<size_t>(index)];
    const auto data = file_.TensorData(info);
    const uint64_t base = file_.data_offset() + info.offset;
    for (uint64_t i = 0; i < data.size() / 4; ++i) {
      const std::string problem = CheckStatistic(LoadFloat(data.data() + 4 * i));
      if (!problem.empty()) {
        return Error(base + 4 * i, "tensor " + Quoted(info.name),
                     "value " + std::to_string(i) + " " + problem);
      }
    }
    return data.data();
  }

  Result<ImportanceEntry> MakeEntry(const std::string& weight, const TensorPair& pair) const {
    const auto& tensors = file_.tensors();
    if (pair.sums < 0 || pair.counts < 0) {
      const int present = pair.sums < 0 ? pair.counts : pair.sums;
      const std::string missing = weight + (pair.sums < 0 ? ".in_sum2" : ".counts");
      return Error(offsets_.tensor_infos[static_cast<size_t>(present)],
                   "tensor " + Quoted(tensors[static_cast<size_t>(present)].name),
                   "has no matching " + Quoted(missing));
    }
    const GgufTensorInfo& sums = tensors[static_cast<size_t>(pair.sums)];
    const GgufTensorInfo& counts = tensors[static_cast<size_t>(pair.counts)];
    if (sums.n_elements() == 0) {
      return Error(offsets_.tensor_infos[static_cast<size_t>(pair.sums)],
                   "tensor " + Quoted(sums.name), "holds no values");
    }
    const int64_t n_matrices = sums.n_rows();
    if (counts.n_elements() != n_matrices) {
      return Error(offsets_.tensor_infos[static_cast<size_t>(pair.counts)],
                   "tensor " + Quoted(counts.name),
                   "has " + std::to_string(counts.n_elements()) + " values, expected " +
                       std::to_string(n_matrices) + " (one per row of " + Quoted(sums.name) + ")");
    }
    QTK_ASSIGN_OR_RETURN(const uint8_t* sum_data, CheckedData(pair.sums));
    QTK_ASSIGN_OR_RETURN(const uint8_t* count_data, CheckedData(pair.counts));
    ImportanceEntry entry{weight, n_matrices, std::vector<float>(sums.n_elements())};
    QTK_RETURN_IF_ERROR(Divide(sums, sum_data, count_data, &entry));
    return entry;
  }

  // weight = sum / count in single precision, as llama-quantize divides. A count between 0
  // and 1 (never a real token count) can push a finite sum to infinity, which must not reach
  // the quantizers.
  Status Divide(const GgufTensorInfo& sums, const uint8_t* sum_data, const uint8_t* count_data,
                ImportanceEntry* entry) const {
    const int64_t row_length = sums.row_length();
    for (int64_t m = 0; m < entry->n_matrices; ++m) {
      const float count = LoadFloat(count_data + 4 * m);
      for (int64_t c = 0; c < row_length; ++c) {
        const int64_t k = m * row_length + c;
        // A matrix that saw no tokens gets neutral weights, as in llama-quantize.
        const float sum = LoadFloat(sum_data + 4 * k);
        const float w = count > 0.0f ? sum / count : 1.0f;
        if (!std::isfinite(w)) {
          return Error(file_.data_offset() + sums.offset + 4 * static_cast<uint64_t>(k),
                       "tensor " + Quoted(sums.name),
                       "value " + std::to_string(k) + " (" + FormatFloat(sum) +
                           ") divided by its count " + FormatFloat(count) + " is inf");
        }
        entry->weights[static_cast<size_t>(k)] = w;
      }
    }
    return Status::Ok();
  }

  const GgufFile& file_;
  GgufFieldOffsets offsets_;
  std::map<std::string, TensorPair> pairs_;  // ordered: deterministic, like llama-quantize
};

// ---- Legacy form

class LegacyImatrixReader {
 public:
  explicit LegacyImatrixReader(const ByteSource& source) : cursor_(source.bytes(), source.name()) {}

  Result<ImportanceMatrix> Read() {
    if (cursor_.size() < 4) {
      return cursor_.ErrorAt(0, "",
                             "file is too short to be an importance matrix (" +
                                 std::to_string(cursor_.size()) + " bytes)");
    }
    QTK_ASSIGN_OR_RETURN(const int32_t n_entries, ReadEntryCount());
    std::vector<ImportanceEntry> entries;
    std::set<std::string> seen;
    for (int32_t e = 0; e < n_entries; ++e) {
      QTK_ASSIGN_OR_RETURN(ImportanceEntry entry, ReadEntry(e, &seen));
      entries.push_back(std::move(entry));
    }
    std::vector<std::string> datasets;
    int64_t chunk_count = 0;
    QTK_RETURN_IF_ERROR(ReadTrailer(&datasets, &chunk_count));
    return ImportanceMatrixBuilder::Build(ImportanceFormat::kLegacy, std::move(datasets),
                                          chunk_count, 0, std::move(entries));
  }

 private:
  // The smallest entry: 1-byte name and one value.
  static constexpr uint64_t kMinEntryBytes = 4 + 1 + 4 + 4 + 4;

  // An i32 that must lie in [lo, hi]; `too_big` says why hi is the limit.
  Result<int32_t> ReadBounded(std::string_view what, int64_t lo, int64_t hi,
                              std::string_view too_big) {
    const uint64_t at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(const int32_t value, cursor_.Read<int32_t>(what));
    if (value < lo) {
      return cursor_.ErrorAt(at, what,
                             "is " + std::to_string(value) + ", must be >= " + std::to_string(lo));
    }
    if (value > hi) {
      return cursor_.ErrorAt(at, what, "is " + std::to_string(value) + ", " + std::string(too_big));
    }
    return value;
  }

  // Bytes after the i32 field at the cursor (0 if the field itself is cut off).
  int64_t BytesAfterField() const {
    return std::max<int64_t>(0, static_cast<int64_t>(cursor_.remaining()) - 4);
  }

  Result<int32_t> ReadEntryCount() {
    const int64_t max = BytesAfterField() / static_cast<int64_t>(kMinEntryBytes);
    return ReadBounded("entry count", 1, max,
                       "the file has room for at most " + std::to_string(max));
  }

  // A length of bytes that must follow in the file.
  Result<int32_t> ReadLength(std::string_view what, int64_t lo) {
    const int64_t left = BytesAfterField();
    return ReadBounded(what, lo, left, "only " + std::to_string(left) + " bytes follow");
  }

  Result<ImportanceEntry> ReadEntry(int32_t index, std::set<std::string>* seen) {
    const std::string entry = "entry " + std::to_string(index);
    const uint64_t name_at = cursor_.position();
    QTK_ASSIGN_OR_RETURN(const int32_t name_length, ReadLength(entry + " name length", 1));
    QTK_ASSIGN_OR_RETURN(auto name_bytes,
                         cursor_.ReadBytes(static_cast<uint64_t>(name_length), entry + " name"));
    std::string name(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
    const std::string subject = entry + " " + Quoted(name);
    if (!seen->insert(name).second) return cursor_.ErrorAt(name_at, subject, "duplicate name");
    QTK_ASSIGN_OR_RETURN(const int32_t ncall,
                         ReadBounded(subject + " call count", 0, INT32_MAX, ""));
    const int64_t max_values = BytesAfterField() / 4;
    QTK_ASSIGN_OR_RETURN(
        const int32_t n_values,
        ReadBounded(subject + " value count", 1, max_values,
                    "the file has room for at most " + std::to_string(max_values)));
    std::vector<float> weights(static_cast<size_t>(n_values));
    for (int32_t i = 0; i < n_values; ++i) {
      const uint64_t at = cursor_.position();
      QTK_ASSIGN_OR_RETURN(const float value, cursor_.Read<float>(subject + " value"));
      const std::string problem = CheckStatistic(value);
      if (!problem.empty()) {
        return cursor_.ErrorAt(at, subject, "value " + std::to_string(i) + " " + problem);
      }
      // llama-quantize divides by the call count in single precision; 0 calls: raw sums.
      weights[static_cast<size_t>(i)] = ncall > 0 ? value / static_cast<float>(ncall) : value;
    }
    return ImportanceEntry{std::move(name), 1, std::move(weights)};
  }

  // Newer legacy files end with the chunk count and the dataset's name.
  Status ReadTrailer(std::vector<std::string>* datasets, int64_t* chunk_count) {
    if (cursor_.remaining() == 0) return Status::Ok();
    QTK_ASSIGN_OR_RETURN(*chunk_count, ReadBounded("chunk count", 0, INT32_MAX, ""));
    QTK_ASSIGN_OR_RETURN(const int32_t dataset_length, ReadLength("dataset name length", 0));
    QTK_ASSIGN_OR_RETURN(auto dataset,
                         cursor_.ReadBytes(static_cast<uint64_t>(dataset_length), "dataset name"));
    datasets->emplace_back(reinterpret_cast<const char*>(dataset.data()), dataset.size());
    if (cursor_.remaining() != 0) {
      return cursor_.ErrorAt(
          cursor_.position(), "",
          std::to_string(cursor_.remaining()) + " unexpected bytes after the dataset name");
    }
    return Status::Ok();
  }

  ByteCursor cursor_;
};

}  // namespace

const ImportanceEntry* ImportanceMatrix::Find(std::string_view tensor_name) const {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), tensor_name,
      [](const ImportanceEntry& entry, std::string_view name) { return entry.name < name; });
  return it != entries_.end() && it->name == tensor_name ? &*it : nullptr;
}

Result<std::span<const float>> ImportanceMatrix::WeightsFor(std::string_view tensor_name,
                                                            int64_t row_length,
                                                            int64_t n_matrices) const {
  const ImportanceEntry* entry = Find(tensor_name);
  if (entry == nullptr) return std::span<const float>();
  const auto expected = static_cast<uint64_t>(row_length) * static_cast<uint64_t>(n_matrices);
  if (entry->weights.size() != expected) {
    return Status::InvalidArgument("importance matrix: tensor " + Quoted(tensor_name) + ": has " +
                                   std::to_string(entry->weights.size()) +
                                   " weights, the tensor needs " + std::to_string(expected) + " (" +
                                   std::to_string(n_matrices) + " x " + std::to_string(row_length) +
                                   ")");
  }
  return std::span<const float>(entry->weights);
}

Result<ImportanceMatrix> ParseImportanceMatrix(std::shared_ptr<const ByteSource> source) {
  const auto bytes = source->bytes();
  if (HasGgufMagic(bytes)) {
    QTK_ASSIGN_OR_RETURN(GgufFile file, ParseGguf(std::move(source)));
    return GgufImatrixReader(file).Read();
  }
  return LegacyImatrixReader(*source).Read();
}

Result<ImportanceMatrix> ReadImportanceMatrixFile(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(auto source, MapFile(path));
  return ParseImportanceMatrix(std::move(source));
}

}  // namespace qtk
