// Position-aware JSON parsing for the safetensors header, the shard index and config.json
// (internal: nlohmann_json stays out of the public headers).
//
// nlohmann's DOM forgets where things were, but every qtk message names a byte offset, so
// this parser also records where each key of the outer two object levels starts, in file
// order. It rejects what nlohmann would silently accept: duplicate keys in any object (JSON
// leaves them undefined; the reference's serde maps would keep the last one).
#ifndef QTK_BASE_JSON_DOCUMENT_H_
#define QTK_BASE_JSON_DOCUMENT_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

// Objects and arrays nested deeper than this are rejected (no format needs more than 4).
inline constexpr int kMaxJsonDepth = 64;

struct JsonKey {
  std::string name;
  uint64_t offset = 0;  // of the key's opening quote, in the file
};

struct JsonDocument {
  nlohmann::json root;
  // The keys of the root object, in file order.
  std::vector<JsonKey> keys;
  // The keys of each object directly inside the root object, by the root key, in file order.
  std::map<std::string, std::vector<JsonKey>, std::less<>> nested_keys;

  // Offset of a root key; `fallback` if it is not there.
  uint64_t KeyOffset(std::string_view key, uint64_t fallback) const;
  // The keys of the object at root key `key`, in file order; empty if there is none.
  std::span<const JsonKey> NestedKeys(std::string_view key) const;
};

// Parses `text`, which sits at file offset `base_offset` in `path`; offsets in messages and
// in the result are file offsets. `subject` names the text in messages ("header").
// Errors (Corruption): invalid JSON (at the byte where parsing failed), a duplicate key (at
// its second occurrence), nesting deeper than kMaxJsonDepth.
Result<JsonDocument> ParseJsonDocument(std::string_view text, std::string_view path,
                                       uint64_t base_offset, std::string_view subject);

// The checks of ParseJsonDocument without building the document: for text another JSON
// reader will parse (it then meets no syntax error, duplicate key or deep nesting).
Status CheckJsonText(std::string_view text, std::string_view path, uint64_t base_offset,
                     std::string_view subject);

// "object", "array", "string", "number", "boolean", "null", with "a"/"an": for messages.
std::string JsonTypeWithArticle(const nlohmann::json& value);

// The value as compact JSON text, cut to `max_chars` with "...": for messages.
std::string JsonSnippet(const nlohmann::json& value, size_t max_chars = 48);

}  // namespace qtk

#endif  // QTK_BASE_JSON_DOCUMENT_H_
