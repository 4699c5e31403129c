// Two passes over the text: a SAX pass that checks syntax, duplicate keys and depth and
// records key positions, then nlohmann's plain parse for the DOM. (nlohmann's callback
// parser would do both at once, but it rescans the parent object at every object end,
// which is quadratic in the number of tensors.)
#include "base/json_document.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

#include "base/byte_cursor.h"
#include "base/string_util.h"

namespace qtk {
namespace {

// A char iterator that remembers the last character the lexer looked at, so the SAX
// handler knows where the parser is: nlohmann reports positions only for errors.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* position, const char** last_read)
      : position_(position), last_read_(last_read) {}

  reference operator*() const {
    *last_read_ = position_;
    return *position_;
  }
  TrackingIterator& operator++() {
    ++position_;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator copy = *this;
    ++position_;
    return copy;
  }
  bool operator==(const TrackingIterator& other) const { return position_ == other.position_; }

 private:
  const char* position_;
  const char** last_read_;
};

// The start of the string whose closing quote is at `close`: the nearest earlier quote that
// is not escaped (inside a JSON string every quote is escaped).
size_t OpeningQuote(std::string_view text, size_t close) {
  for (size_t i = close; i-- > 0;) {
    if (text[i] != '"') continue;
    size_t backslashes = 0;
    while (backslashes < i && text[i - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return i;
  }
  return 0;
}

class PositionRecorder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  PositionRecorder(std::string_view text, const char** last_read, std::string_view path,
                   uint64_t base_offset, std::string_view subject, JsonDocument& document)
      : text_(text),
        last_read_(last_read),
        path_(path),
        base_offset_(base_offset),
        subject_(subject),
        document_(document) {}

  Status status() const { return status_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }

  bool start_object(std::size_t) override { return Open(/*is_object=*/true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(/*is_object=*/false); }
  bool end_array() override { return Close(); }

  bool key(string_t& name) override {
    const size_t close = static_cast<size_t>(*last_read_ - text_.data());
    const uint64_t offset = base_offset_ + OpeningQuote(text_, close);
    Level& level = levels_.back();
    if (!level.keys.Insert(name)) {
      return Fail(offset, "duplicate key '" + Printable(name) + "'");
    }
    if (levels_.size() == 1) {
      document_.keys.push_back({name, offset});
      root_key_ = name;
    } else if (levels_.size() == 2 && levels_[0].is_object && levels_[1].is_object) {
      document_.nested_keys[root_key_].push_back({name, offset});
    }
    return true;
  }

  bool parse_error(std::size_t byte, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) override {
    // `byte` counts from 1 and points at the character that could not be used.
    const uint64_t offset = base_offset_ + (byte > 0 ? byte - 1 : 0);
    status_ = CorruptionAt(path_, offset, subject_, "invalid json: " + Describe(error.what()));
    return false;
  }

 private:
  // The keys of one object. Most objects (a tensor's dtype/shape/data_offsets) have a few
  // keys: a linear search over a small vector is much cheaper than a hash set per object.
  class KeySet {
   public:
    // False if `key` is already in the set.
    bool Insert(const std::string& key) {
      if (large_.empty()) {
        if (std::find(small_.begin(), small_.end(), key) != small_.end()) return false;
        small_.push_back(key);
        if (small_.size() == kSmallKeys) large_.insert(small_.begin(), small_.end());
        return true;
      }
      return large_.insert(key).second;
    }

   private:
    static constexpr size_t kSmallKeys = 16;
    std::vector<std::string> small_;
    std::unordered_set<std::string> large_;
  };

  struct Level {
    bool is_object = false;
    KeySet keys;
  };

  bool Value() { return true; }

  bool Open(bool is_object) {
    if (levels_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      const auto offset = base_offset_ + static_cast<uint64_t>(*last_read_ - text_.data());
      return Fail(offset, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    levels_.push_back({is_object, {}});
    return true;
  }

  bool Close() {
    levels_.pop_back();
    return true;
  }

  bool Fail(uint64_t offset, const std::string& problem) {
    status_ = CorruptionAt(path_, offset, subject_, problem);
    return false;
  }

  // nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 9: syntax
  // error while parsing value - invalid literal; last read: 'tru,'; expected ..." without
  // the position and the echo of the input (the offset says where), made printable.
  static std::string Describe(std::string_view what) {
    const size_t column = what.find("column ");
    const size_t colon = what.find(": ", column == std::string_view::npos ? 0 : column);
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
    std::string text(what);
    const size_t echo = text.find("; last read: '");
    if (echo != std::string::npos) {
      const size_t expected = text.find("'; expected", echo);
      text.erase(echo, expected == std::string::npos ? std::string::npos : expected + 1 - echo);
    }
    // What is left is nlohmann's own ASCII wording (the input's bytes were in the echo).
    for (char& c : text) {
      if (c < 0x20 || c == 0x7F) c = '?';
    }
    return text;
  }

  std::string_view text_;
  const char** last_read_;
  std::string_view path_;
  uint64_t base_offset_;
  std::string_view subject_;
  JsonDocument& document_;
  std::vector<Level> levels_;
  std::string root_key_;
  Status status_;
};

}  // namespace

uint64_t JsonDocument::KeyOffset(std::string_view key, uint64_t fallback) const {
  for (const JsonKey& k : keys) {
    if (k.name == key) return k.offset;
  }
  return fallback;
}

std::span<const JsonKey> JsonDocument::NestedKeys(std::string_view key) const {
  auto it = nested_keys.find(key);
  if (it == nested_keys.end()) return {};
  return it->second;
}

namespace {

// The SAX pass: syntax, duplicate keys, depth; records the key positions in `document`.
Status ScanJson(std::string_view text, std::string_view path, uint64_t base_offset,
                std::string_view subject, JsonDocument& document) {
  const char* last_read = text.data();
  PositionRecorder recorder(text, &last_read, path, base_offset, subject, document);
  const TrackingIterator begin(text.data(), &last_read);
  const TrackingIterator end(text.data() + text.size(), &last_read);
  if (nlohmann::json::sax_parse(begin, end, &recorder)) return Status::Ok();
  if (!recorder.status().ok()) return recorder.status();
  return CorruptionAt(path, base_offset, subject, "invalid json");
}

}  // namespace

Result<JsonDocument> ParseJsonDocument(std::string_view text, std::string_view path,
                                       uint64_t base_offset, std::string_view subject) {
  JsonDocument document;
  QTK_RETURN_IF_ERROR(ScanJson(text, path, base_offset, subject, document));
  // The text is known to be valid JSON now; nlohmann only throws on allocation failure.
  document.root = nlohmann::json::parse(text.begin(), text.end());
  return document;
}

Status CheckJsonText(std::string_view text, std::string_view path, uint64_t base_offset,
                     std::string_view subject) {
  JsonDocument unused;
  return ScanJson(text, path, base_offset, subject, unused);
}

std::string JsonTypeWithArticle(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "a value";
  }
}

std::string JsonSnippet(const nlohmann::json& value, size_t max_chars) {
  return Printable(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_chars);
}

}  // namespace qtk
