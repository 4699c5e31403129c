// Small string helpers shared by the readers and the planner (internal).
#ifndef QTK_BASE_STRING_UTIL_H_
#define QTK_BASE_STRING_UTIL_H_

#include <string>
#include <string_view>

namespace qtk {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// True if `bytes` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// The length of the UTF-8 sequence that starts with `lead` (1 to 4).
// REQUIRES: `lead` starts a well-formed sequence.
inline size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  return 4;
}

// The offset of the first byte that does not start a well-formed UTF-8 sequence, or
// bytes.size() if there is none.
size_t FirstInvalidUtf8(std::string_view bytes);

// `text` with control characters, quotes, backslashes and bytes that are not valid UTF-8
// escaped as \xNN, cut to about `max_chars`, for error messages.
std::string Printable(std::string_view text, size_t max_chars = 64);

}  // namespace qtk

#endif  // QTK_BASE_STRING_UTIL_H_
