// safetensors parsing: a chain of named steps, each validating what it reads (see
// qtk/format/safetensors.h and docs/input-validation.md for the rules).
#include "qtk/format/safetensors.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "base/byte_cursor.h"
#include "base/json_document.h"
#include "base/string_util.h"
#include "qtk/base/shape.h"

namespace qtk {

using nlohmann::json;

int64_t SafetensorsTensorInfo::n_elements() const { return ElementCount(shape); }

const std::string* SafetensorsFile::FindMetadata(std::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const SafetensorsTensorInfo* SafetensorsFile::FindTensor(std::string_view name) const {
  auto it =
      std::lower_bound(by_name_.begin(), by_name_.end(), name,
                       [this](uint32_t i, std::string_view n) { return tensors_[i].name < n; });
  if (it == by_name_.end() || tensors_[*it].name != name) return nullptr;
  return &tensors_[*it];
}

std::span<const uint8_t> SafetensorsFile::TensorData(const SafetensorsTensorInfo& info) const {
  return source_->bytes().subspan(data_offset() + info.begin, info.n_bytes());
}

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string OffsetsText(const SafetensorsTensorInfo& info) {
  return "data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) + "]";
}

}  // namespace

// Friend of SafetensorsFile: fills it step by step.
class SafetensorsParser {
 public:
  explicit SafetensorsParser(std::shared_ptr<const ByteSource> source)
      : source_(std::move(source)), cursor_(source_->bytes(), source_->name()) {}

  Result<SafetensorsFile> Parse() {
    file_.source_ = source_;
    QTK_RETURN_IF_ERROR(ReadHeaderLength());
    QTK_RETURN_IF_ERROR(CheckHeaderText());
    QTK_ASSIGN_OR_RETURN(JsonDocument document,
                         ParseJsonDocument(header_text_, cursor_.path(), 8, "header"));
    QTK_RETURN_IF_ERROR(ReadEntries(document));
    QTK_RETURN_IF_ERROR(CheckTiling());
    QTK_RETURN_IF_ERROR(CheckFileLength());
    IndexNames();
    return std::move(file_);
  }

 private:
  Status ReadHeaderLength() {
    if (cursor_.size() < 8) {
      return cursor_.ErrorAt(0, "",
                             "file is too short to be a safetensors file (" +
                                 std::to_string(cursor_.size()) +
                                 " bytes, the header length alone takes 8)");
    }
    QTK_ASSIGN_OR_RETURN(uint64_t n, cursor_.Read<uint64_t>("header length"));
    if (n > kSafetensorsMaxHeaderBytes) {
      return cursor_.ErrorAt(0, "header length",
                             "is " + std::to_string(n) + " bytes, max is " +
                                 std::to_string(kSafetensorsMaxHeaderBytes));
    }
    if (n > cursor_.remaining()) {
      return cursor_.ErrorAt(0, "header length",
                             "is " + std::to_string(n) + " bytes, the file has only " +
                                 std::to_string(cursor_.remaining()) + " after it");
    }
    file_.header_bytes_ = n;
    QTK_ASSIGN_OR_RETURN(auto bytes, cursor_.ReadBytes(n, "header"));
    header_text_ = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::Ok();
  }

  // The reference checks UTF-8 and the opening brace before handing the text to JSON.
  Status CheckHeaderText() {
    const size_t bad = FirstInvalidUtf8(header_text_);
    if (bad != header_text_.size()) {
      return cursor_.ErrorAt(8 + bad, "header", "is not valid utf-8");
    }
    if (header_text_.empty()) {
      return cursor_.ErrorAt(8, "header", "is empty, expected a json object");
    }
    if (header_text_[0] != '{') {
      return cursor_.ErrorAt(8, "header",
                             "must be a json object starting with '{', starts with '" +
                                 Printable(header_text_.substr(0, 1)) + "'");
    }
    return Status::Ok();
  }

  Status ReadEntries(const JsonDocument& document) {
    file_.tensors_.reserve(document.keys.size());
    for (const JsonKey& key : document.keys) {
      const json& value = document.root.find(key.name).value();
      if (key.name == "__metadata__") {
        QTK_RETURN_IF_ERROR(ReadMetadata(key, value, document.NestedKeys(key.name)));
      } else {
        QTK_ASSIGN_OR_RETURN(SafetensorsTensorInfo info, ReadTensor(key, value));
        file_.tensors_.push_back(std::move(info));
      }
    }
    return Status::Ok();
  }

  Status ReadMetadata(const JsonKey& key, const json& value, std::span<const JsonKey> keys) {
    if (value.is_null()) return Status::Ok();  // serde reads null as "no metadata"
    if (!value.is_object()) {
      return cursor_.ErrorAt(key.offset, "__metadata__",
                             "must be an object of strings, is " + JsonTypeWithArticle(value));
    }
    for (const JsonKey& entry : keys) {
      const json& v = value.find(entry.name).value();
      if (!v.is_string()) {
        return cursor_.ErrorAt(entry.offset, "__metadata__ '" + Printable(entry.name) + "'",
                               "must be a string, is " + JsonTypeWithArticle(v));
      }
      file_.metadata_.emplace_back(entry.name, v.get<std::string>());
    }
    return Status::Ok();
  }

  Result<SafetensorsTensorInfo> ReadTensor(const JsonKey& key, const json& value) {
    SafetensorsTensorInfo info;
    info.name = key.name;
    info.key_offset = key.offset;
    const std::string subject = "tensor '" + Printable(key.name) + "'";
    auto error = [&](const std::string& problem) {
      return cursor_.ErrorAt(key.offset, subject, problem);
    };
    if (!value.is_object()) {
      return error("must be an object with dtype, shape and data_offsets, is " +
                   JsonTypeWithArticle(value));
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!value.contains(field)) return error("has no " + std::string(field));
    }
    QTK_RETURN_IF_ERROR(ReadDtype(value["dtype"], info, error));
    QTK_RETURN_IF_ERROR(ReadShape(value["shape"], info, error));
    QTK_RETURN_IF_ERROR(ReadOffsets(value["data_offsets"], info, error));
    QTK_RETURN_IF_ERROR(CheckSpan(info, error));
    return info;
  }

  template <typename Error>
  Status ReadDtype(const json& dtype, SafetensorsTensorInfo& info, const Error& error) {
    if (!dtype.is_string())
      return error("dtype must be a string, is " + JsonTypeWithArticle(dtype));
    const std::string& name = dtype.get_ref<const std::string&>();
    const std::optional<SafetensorsDtype> parsed = SafetensorsDtypeFromName(name);
    if (!parsed) return error("unknown dtype '" + Printable(name) + "'");
    info.dtype = *parsed;
    return Status::Ok();
  }

  template <typename Error>
  Status ReadShape(const json& shape, SafetensorsTensorInfo& info, const Error& error) {
    const auto problem = [&] {
      return error("shape must be an array of non-negative integers, is " + JsonSnippet(shape));
    };
    if (!shape.is_array()) return problem();
    info.shape.reserve(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!shape[d].is_number_unsigned()) return problem();
      const auto dim = shape[d].get<uint64_t>();
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return error("shape dimension " + std::to_string(d) + " is " + std::to_string(dim) +
                     ", max is " + std::to_string(std::numeric_limits<int64_t>::max()));
      }
      info.shape.push_back(static_cast<int64_t>(dim));
    }
    return Status::Ok();
  }

  template <typename Error>
  Status ReadOffsets(const json& offsets, SafetensorsTensorInfo& info, const Error& error) {
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      return error("data_offsets must be two non-negative integers [begin, end], is " +
                   JsonSnippet(offsets));
    }
    info.begin = offsets[0].get<uint64_t>();
    info.end = offsets[1].get<uint64_t>();
    if (info.end < info.begin) return error(OffsetsText(info) + " end before they begin");
    return Status::Ok();
  }

  // Element count and byte size with checked arithmetic; the span must match exactly.
  template <typename Error>
  Status CheckSpan(const SafetensorsTensorInfo& info, const Error& error) {
    constexpr auto kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    uint64_t n_elements = 1;
    for (int64_t d : info.shape) {
      const auto dim = static_cast<uint64_t>(d);
      if (dim != 0 && n_elements > kMaxElements / dim) {
        return error("shape " + ShapeText(info.shape) + " has more elements than int64 holds");
      }
      n_elements *= dim;
    }
    const uint64_t size = SafetensorsDtypeSize(info.dtype);
    if (n_elements > std::numeric_limits<uint64_t>::max() / size) {
      return error("shape " + ShapeText(info.shape) + " of " +
                   std::string(SafetensorsDtypeName(info.dtype)) + " overflows uint64 bytes");
    }
    const uint64_t n_bytes = n_elements * size;
    if (info.n_bytes() != n_bytes) {
      return error(OffsetsText(info) + " hold " + std::to_string(info.n_bytes()) +
                   " bytes, shape " + ShapeText(info.shape) + " of " +
                   std::string(SafetensorsDtypeName(info.dtype)) + " needs " +
                   std::to_string(n_bytes));
    }
    return Status::Ok();
  }

  // Sorted by offset (the JSON order is free), the tensors must tile the data section from 0.
  Status CheckTiling() {
    auto& tensors = file_.tensors_;
    std::stable_sort(tensors.begin(), tensors.end(),
                     [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
                       return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
                     });
    uint64_t expected = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const SafetensorsTensorInfo& info = tensors[i];
      if (info.begin != expected) {
        const std::string where = i == 0 ? "the first tensor must begin at 0"
                                         : "where '" + Printable(tensors[i - 1].name) + "' ends";
        return cursor_.ErrorAt(info.key_offset, "tensor '" + Printable(info.name) + "'",
                               OffsetsText(info) + " begin at " + std::to_string(info.begin) +
                                   ", expected " + std::to_string(expected) + " (" + where +
                                   "; tensors must not overlap or leave gaps)");
      }
      expected = info.end;
    }
    data_end_ = expected;
    return Status::Ok();
  }

  // Header + data must be exactly the file.
  Status CheckFileLength() {
    const uint64_t available = cursor_.size() - file_.data_offset();
    if (data_end_ > available) {
      const SafetensorsTensorInfo& last = file_.tensors_.back();
      return cursor_.ErrorAt(last.key_offset, "tensor '" + Printable(last.name) + "'",
                             OffsetsText(last) + " run past the end of the file: the data " +
                                 "section has " + std::to_string(available) + " bytes");
    }
    if (data_end_ < available) {
      return cursor_.ErrorAt(file_.data_offset() + data_end_, "",
                             std::to_string(available - data_end_) +
                                 " unexpected bytes after the last tensor's data (header and "
                                 "data must fill the file exactly)");
    }
    return Status::Ok();
  }

  void IndexNames() {
    auto& by_name = file_.by_name_;
    by_name.resize(file_.tensors_.size());
    std::iota(by_name.begin(), by_name.end(), 0u);
    std::sort(by_name.begin(), by_name.end(), [this](uint32_t a, uint32_t b) {
      return file_.tensors_[a].name < file_.tensors_[b].name;
    });
  }

  std::shared_ptr<const ByteSource> source_;
  ByteCursor cursor_;
  SafetensorsFile file_;
  std::string_view header_text_;
  uint64_t data_end_ = 0;
};

Result<SafetensorsFile> ParseSafetensors(std::shared_ptr<const ByteSource> source) {
  return SafetensorsParser(std::move(source)).Parse();
}

Result<SafetensorsFile> ReadSafetensorsFile(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
  return ParseSafetensors(std::move(source));
}

}  // namespace qtk
