// config.json as a flat list of dotted paths, so callers never see a JSON type.
#include <limits>

#include "base/byte_cursor.h"
#include "base/json_document.h"
#include "qtk/convert/hf_model.h"

namespace qtk {

using nlohmann::json;

// Friend of ModelConfig: flattens the JSON tree.
class ModelConfigBuilder {
 public:
  Result<ModelConfig> Build(const ByteSource& source) {
    const auto bytes = source.bytes();
    config_.path_ = source.name();
    config_.text_.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    QTK_ASSIGN_OR_RETURN(JsonDocument document,
                         ParseJsonDocument(config_.text_, config_.path_, 0, "config"));
    if (!document.root.is_object()) {
      return CorruptionAt(config_.path_, 0, "config",
                          "must be a json object, is " + JsonTypeWithArticle(document.root));
    }
    for (const JsonKey& key : document.keys) {
      config_.keys_.push_back(key.name);
      const json& value = document.root.find(key.name).value();
      auto nested = document.nested_keys.find(key.name);
      if (value.is_object() && nested != document.nested_keys.end()) {
        // Second level: keep the file order the document recorded.
        Add(key.name, value);
        for (const JsonKey& inner : nested->second) {
          Flatten(key.name + "." + inner.name, value.find(inner.name).value());
        }
      } else {
        Flatten(key.name, value);
      }
    }
    return std::move(config_);
  }

 private:
  void Flatten(const std::string& path, const json& value) {
    Add(path, value);
    if (value.is_object()) {
      for (const auto& [name, inner] : value.items()) Flatten(path + "." + name, inner);
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) Flatten(path + "." + std::to_string(i), value[i]);
    }
  }

  void Add(const std::string& path, const json& value) {
    using Kind = ModelConfig::Kind;
    ModelConfig::Value v;
    if (value.is_boolean()) {
      v.kind = Kind::kBool;
      v.boolean = value.get<bool>();
    } else if (value.is_number_integer() && FitsInt64(value)) {
      v.kind = Kind::kInt;
      v.integer = value.is_number_unsigned() ? static_cast<int64_t>(value.get<uint64_t>())
                                             : value.get<int64_t>();
      v.number = static_cast<double>(v.integer);
    } else if (value.is_number()) {
      v.kind = Kind::kFloat;
      v.number = value.get<double>();
    } else if (value.is_string()) {
      v.kind = Kind::kString;
      v.text = value.get<std::string>();
    } else if (value.is_array()) {
      v.kind = Kind::kArray;
      v.size = value.size();
    } else if (value.is_object()) {
      v.kind = Kind::kObject;
      v.size = value.size();
    }
    config_.entries_.emplace_back(path, std::move(v));
  }

  static bool FitsInt64(const json& value) {
    return !value.is_number_unsigned() ||
           value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  }

  ModelConfig config_;
};

const ModelConfig::Value* ModelConfig::Find(std::string_view path) const {
  for (const auto& [key, value] : entries_) {
    if (key == path) return &value;
  }
  return nullptr;
}

std::optional<int64_t> ModelConfig::GetInt(std::string_view path) const {
  const Value* v = Find(path);
  if (v == nullptr || v->kind != Kind::kInt) return std::nullopt;
  return v->integer;
}

std::optional<double> ModelConfig::GetNumber(std::string_view path) const {
  const Value* v = Find(path);
  if (v == nullptr || (v->kind != Kind::kInt && v->kind != Kind::kFloat)) return std::nullopt;
  return v->number;
}

std::optional<bool> ModelConfig::GetBool(std::string_view path) const {
  const Value* v = Find(path);
  if (v == nullptr || v->kind != Kind::kBool) return std::nullopt;
  return v->boolean;
}

std::optional<std::string> ModelConfig::GetString(std::string_view path) const {
  const Value* v = Find(path);
  if (v == nullptr || v->kind != Kind::kString) return std::nullopt;
  return v->text;
}

std::vector<std::string> ModelConfig::GetStrings(std::string_view path) const {
  const Value* v = Find(path);
  if (v == nullptr) return {};
  if (v->kind == Kind::kString) return {v->text};
  std::vector<std::string> out;
  if (v->kind != Kind::kArray) return out;
  for (size_t i = 0; i < v->size; ++i) {
    if (auto s = GetString(std::string(path) + "." + std::to_string(i))) out.push_back(*s);
  }
  return out;
}

std::string ModelConfig::architecture() const {
  std::vector<std::string> architectures = GetStrings("architectures");
  if (!architectures.empty()) return architectures.front();
  return GetString("model_type").value_or("");
}

Result<ModelConfig> ParseModelConfig(std::shared_ptr<const ByteSource> source) {
  return ModelConfigBuilder().Build(*source);
}

}  // namespace qtk
