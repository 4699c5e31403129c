// A validator for the subset of JSON Schema (draft-07) that docs/report-schema.json uses,
// so a test can check qtk's JSON against the published schema without a dependency.
//
// Supported keywords: $ref (local "#/definitions/NAME" only), type (a name or a list),
// properties, required, additionalProperties (false), items (one schema), enum, const,
// minimum, maximum, oneOf (exactly one branch must match). Annotations ($schema, $id,
// title, description) are ignored. Any other keyword is reported as an error, so the schema
// cannot start relying on something this validator silently skips.
#ifndef QTK_TESTS_JSON_SCHEMA_SUBSET_H_
#define QTK_TESTS_JSON_SCHEMA_SUBSET_H_

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace qtk::testing {

class SchemaSubsetValidator {
 public:
  explicit SchemaSubsetValidator(nlohmann::json root) : root_(std::move(root)) {}

  // Every violation as "<json pointer>: <what>"; empty when `doc` is valid.
  std::vector<std::string> Validate(const nlohmann::json& doc) const {
    std::vector<std::string> errors;
    Check(root_, doc, "", errors);
    return errors;
  }

 private:
  static bool HasType(const nlohmann::json& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_boolean();
    if (type == "null") return value.is_null();
    if (type == "integer") return value.is_number_integer();
    if (type == "number") return value.is_number();
    return false;
  }

  const nlohmann::json& Resolve(const std::string& ref, const std::string& at,
                                std::vector<std::string>& errors) const {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    const std::string prefix = "#/definitions/";
    if (ref.rfind(prefix, 0) != 0 || !root_["definitions"].contains(ref.substr(prefix.size()))) {
      errors.push_back(at + ": unresolvable $ref " + ref);
      return kEmpty;
    }
    return root_["definitions"][ref.substr(prefix.size())];
  }

  void CheckType(const nlohmann::json& schema, const nlohmann::json& value, const std::string& at,
                 std::vector<std::string>& errors) const {
    const nlohmann::json& type = schema["type"];
    bool ok = false;
    if (type.is_string()) ok = HasType(value, type);
    for (const auto& t : type.is_array() ? type : nlohmann::json::array()) {
      ok = ok || HasType(value, t);
    }
    if (!ok) errors.push_back(at + ": " + value.dump() + " is not of type " + type.dump());
  }

  void CheckObject(const nlohmann::json& schema, const nlohmann::json& value, const std::string& at,
                   std::vector<std::string>& errors) const {
    if (!value.is_object()) return;
    const nlohmann::json properties = schema.value("properties", nlohmann::json::object());
    for (const auto& name : schema.value("required", nlohmann::json::array())) {
      if (!value.contains(name))
        errors.push_back(at + ": missing required '" + name.get<std::string>() + "'");
    }
    for (const auto& [key, item] : value.items()) {
      if (properties.contains(key)) {
        Check(properties[key], item, at + "/" + key, errors);
      } else if (schema.contains("additionalProperties") && !schema["additionalProperties"]) {
        errors.push_back(at + ": unexpected property '" + key + "'");
      }
    }
  }

  void Check(const nlohmann::json& schema, const nlohmann::json& value, const std::string& at,
             std::vector<std::string>& errors) const {
    static const std::set<std::string> kKnown = {
        "$ref",       "type",    "properties", "required", "additionalProperties",
        "items",      "enum",    "const",      "minimum",  "maximum",
        "oneOf",      "$schema", "$id",        "title",    "description",
        "definitions"};
    for (const auto& [keyword, unused] : schema.items()) {
      if (!kKnown.contains(keyword)) errors.push_back(at + ": unsupported keyword " + keyword);
    }
    if (schema.contains("$ref")) {
      Check(Resolve(schema["$ref"], at, errors), value, at, errors);
    }
    if (schema.contains("type")) CheckType(schema, value, at, errors);
    if (schema.contains("const") && value != schema["const"]) {
      errors.push_back(at + ": " + value.dump() + " is not " + schema["const"].dump());
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& option : schema["enum"]) found = found || option == value;
      if (!found)
        errors.push_back(at + ": " + value.dump() + " is not one of " + schema["enum"].dump());
    }
    if (value.is_number() && schema.contains("minimum") && value < schema["minimum"]) {
      errors.push_back(at + ": " + value.dump() + " is below " + schema["minimum"].dump());
    }
    if (value.is_number() && schema.contains("maximum") && value > schema["maximum"]) {
      errors.push_back(at + ": " + value.dump() + " is above " + schema["maximum"].dump());
    }
    CheckObject(schema, value, at, errors);
    if (value.is_array() && schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        Check(schema["items"], value[i], at + "/" + std::to_string(i), errors);
      }
    }
    if (schema.contains("oneOf")) {
      int n_matching = 0;
      for (const auto& branch : schema["oneOf"]) {
        std::vector<std::string> branch_errors;
        Check(branch, value, at, branch_errors);
        if (branch_errors.empty()) ++n_matching;
      }
      if (n_matching != 1) {
        errors.push_back(at + ": matches " + std::to_string(n_matching) +
                         " branches of oneOf, must match exactly 1");
      }
    }
  }

  nlohmann::json root_;
};

}  // namespace qtk::testing

#endif  // QTK_TESTS_JSON_SCHEMA_SUBSET_H_
