#include "tokenize/byte_level.h"

#include <array>
#include <cstdint>

namespace qtk {
namespace {

bool StandsForItself(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else {  // the alphabet stays below U+0800: two bytes
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// The code point of each byte value.
std::array<uint32_t, 256> MakeAlphabet() {
  std::array<uint32_t, 256> alphabet{};
  uint32_t next = 256;
  for (int byte = 0; byte < 256; ++byte) {
    alphabet[static_cast<size_t>(byte)] =
        StandsForItself(byte) ? static_cast<uint32_t>(byte) : next++;
  }
  return alphabet;
}

}  // namespace

std::string ToByteLevel(std::string_view bytes) {
  static const std::array<uint32_t, 256> kAlphabet = MakeAlphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(kAlphabet[static_cast<unsigned char>(c)], out);
  return out;
}

}  // namespace qtk
