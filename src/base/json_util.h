// nlohmann_json helpers for the small JSON files of a model directory (internal).
//
// JSON stays inside src/: public headers take and return plain text and structs.
#ifndef QTK_BASE_JSON_UTIL_H_
#define QTK_BASE_JSON_UTIL_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "qtk/base/status.h"

namespace qtk {

// Keeps the key order of the file, as Python's json.load does.
using Json = nlohmann::ordered_json;

// Parses `text`, which must hold one JSON object.
// Errors: Corruption "<path>: offset <n> (0x..): json: <problem>" for syntax errors,
// duplicate keys and nesting deeper than kMaxJsonDepth (see json_document.h),
// "<path>: top level is <type>, expected an object" otherwise.
Result<Json> ParseJsonObject(std::string_view text, std::string_view path);

// "an integer", "a string", "null", ... for messages.
std::string JsonTypeName(const Json& value);

// "<path>: <key>: expected <expected>, got <type> <value>".
Status JsonTypeError(std::string_view path, std::string_view key, std::string_view expected,
                     const Json& value);

// Python's isinstance(value, int) for a JSON value: integers, and booleans (bool is an int
// subclass in Python, so convert_hf_to_gguf.py accepts true as 1).
std::optional<int64_t> PythonInt(const Json& value);

// The value at `key` of `object` if present and not null; nullptr otherwise.
const Json* FindNonNull(const Json& object, std::string_view key);

}  // namespace qtk

#endif  // QTK_BASE_JSON_UTIL_H_
