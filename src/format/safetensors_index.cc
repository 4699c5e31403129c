// model.safetensors.index.json: which shard holds which tensor.
#include <filesystem>
#include <unordered_set>

#include "base/byte_cursor.h"
#include "base/json_document.h"
#include "base/string_util.h"
#include "qtk/format/safetensors.h"

namespace qtk {
namespace {

using nlohmann::json;

class IndexParser {
 public:
  explicit IndexParser(const ByteSource& source) : source_(source) {}

  Result<SafetensorsIndex> Parse() {
    index_.path = source_.name();
    const auto bytes = source_.bytes();
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    QTK_ASSIGN_OR_RETURN(document_, ParseJsonDocument(text, path(), 0, "index"));
    if (!document_.root.is_object()) {
      return CorruptionAt(path(), 0, "index",
                          "must be a json object, is " + JsonTypeWithArticle(document_.root));
    }
    QTK_RETURN_IF_ERROR(ReadMetadata());
    QTK_RETURN_IF_ERROR(ReadWeightMap());
    return std::move(index_);
  }

 private:
  const std::string& path() const { return source_.name(); }

  // Optional and informational: total_size is kept when it is an integer, everything else
  // as text. Only its shape is checked.
  Status ReadMetadata() {
    auto it = document_.root.find("metadata");
    if (it == document_.root.end() || it->is_null()) return Status::Ok();
    if (!it->is_object()) {
      return CorruptionAt(path(), document_.KeyOffset("metadata", 0), "metadata",
                          "must be an object, is " + JsonTypeWithArticle(*it));
    }
    for (const JsonKey& key : document_.NestedKeys("metadata")) {
      const json& value = it->find(key.name).value();
      if (key.name == "total_size" && value.is_number_unsigned()) {
        index_.total_size = value.get<uint64_t>();
      } else if (value.is_string()) {
        index_.metadata.emplace_back(key.name, value.get<std::string>());
      } else {
        index_.metadata.emplace_back(key.name, value.dump());
      }
    }
    return Status::Ok();
  }

  Status ReadWeightMap() {
    auto it = document_.root.find("weight_map");
    if (it == document_.root.end()) return CorruptionAt(path(), 0, "index", "has no weight_map");
    if (!it->is_object()) {
      return CorruptionAt(
          path(), document_.KeyOffset("weight_map", 0), "weight_map",
          "must be an object mapping tensor names to shard files, is " + JsonTypeWithArticle(*it));
    }
    std::unordered_set<std::string> files;
    index_.weight_map.reserve(it->size());
    for (const JsonKey& key : document_.NestedKeys("weight_map")) {
      const json& value = it->find(key.name).value();
      const std::string subject = "weight_map '" + Printable(key.name) + "'";
      if (!value.is_string()) {
        return CorruptionAt(path(), key.offset, subject,
                            "must be a shard file name, is " + JsonTypeWithArticle(value));
      }
      std::string file = value.get<std::string>();
      QTK_RETURN_IF_ERROR(CheckFileName(file, key.offset, subject));
      if (files.insert(file).second) index_.files.push_back(file);
      index_.weight_map.push_back({key.name, std::move(file), key.offset});
    }
    return Status::Ok();
  }

  // Shards live beside the index: a name must not reach elsewhere.
  Status CheckFileName(const std::string& file, uint64_t offset, const std::string& subject) {
    if (file.empty()) return CorruptionAt(path(), offset, subject, "shard file name is empty");
    // The system would cut the name at a NUL and open another file than the one named.
    if (file.find('\0') != std::string::npos) {
      return CorruptionAt(path(), offset, subject,
                          "shard file '" + Printable(file) + "' contains a NUL byte");
    }
    const std::filesystem::path p(file);
    if (p.is_absolute()) {
      return CorruptionAt(path(), offset, subject,
                          "shard file '" + Printable(file) +
                              "' is an absolute path, expected a name relative to the index");
    }
    for (const auto& part : p) {
      if (part == "..") {
        return CorruptionAt(path(), offset, subject,
                            "shard file '" + Printable(file) + "' leaves the index's directory");
      }
    }
    return Status::Ok();
  }

  const ByteSource& source_;
  JsonDocument document_;
  SafetensorsIndex index_;
};

}  // namespace

Result<SafetensorsIndex> ParseSafetensorsIndex(std::shared_ptr<const ByteSource> source) {
  return IndexParser(*source).Parse();
}

}  // namespace qtk
