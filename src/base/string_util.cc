#include "base/string_util.h"

#include <cstdint>
#include <cstdio>

namespace qtk {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace {

// The length of the well-formed UTF-8 sequence starting at bytes[i], or 0 if there is none
// (no overlongs, surrogates or code points > U+10FFFF).
size_t Utf8SequenceLength(std::string_view bytes, size_t i) {
  const auto c = static_cast<uint8_t>(bytes[i]);
  if (c < 0x80) return 1;
  size_t length = 0;
  uint32_t code_point = 0;
  if ((c & 0xE0) == 0xC0) {
    length = 2;
    code_point = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    code_point = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    code_point = c & 0x07u;
  } else {
    return 0;
  }
  if (length > bytes.size() - i) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto continuation = static_cast<uint8_t>(bytes[i + k]);
    if ((continuation & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (continuation & 0x3Fu);
  }
  static constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinForLength[length]) return 0;            // overlong
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;  // surrogate
  if (code_point > 0x10FFFF) return 0;
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) { return FirstInvalidUtf8(bytes) == bytes.size(); }

size_t FirstInvalidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t length = Utf8SequenceLength(bytes, i);
    if (length == 0) return i;
    i += length;
  }
  return bytes.size();
}

std::string Printable(std::string_view text, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<uint8_t>(text[i]);
    const size_t length = c < 0x80 ? 1 : Utf8SequenceLength(text, i);
    if (length > 1) {  // a whole, valid multi-byte character
      out.append(text.substr(i, length));
      i += length - 1;
    } else if (length == 0 || c < 0x20 || c == 0x7F || c == '\'' || c == '\\') {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace qtk
