#include "base/json_util.h"

#include "base/json_document.h"

namespace qtk {

Result<Json> ParseJsonObject(std::string_view text, std::string_view path) {
  // The position-aware pass first: its messages are located and echo none of the input,
  // and it refuses duplicate keys and nesting deeper than kMaxJsonDepth (nlohmann's copies
  // and dumps recurse once per level).
  QTK_RETURN_IF_ERROR(CheckJsonText(text, path, 0, "json"));
  Json value = Json::parse(text.begin(), text.end());
  if (!value.is_object()) {
    return Status::Corruption(std::string(path) + ": top level is " + JsonTypeName(value) +
                              ", expected an object");
  }
  return value;
}

std::string JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    default:
      return "a value";
  }
}

Status JsonTypeError(std::string_view path, std::string_view key, std::string_view expected,
                     const Json& value) {
  std::string shown = value.dump();
  if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
  return Status::Corruption(std::string(path) + ": " + std::string(key) + ": expected " +
                            std::string(expected) + ", got " + JsonTypeName(value) + " " + shown);
}

std::optional<int64_t> PythonInt(const Json& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{INT64_MAX}) {
      return std::nullopt;
    }
    return value.get<int64_t>();
  }
  return std::nullopt;
}

const Json* FindNonNull(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace qtk
