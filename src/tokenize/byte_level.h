// GPT-2's byte-level alphabet (internal): each of the 256 byte values as one printable
// Unicode character, so that any UTF-8 text becomes a string BPE can work on and every
// byte sequence has a spelling in the vocabulary ("Ġ" is the space byte 0x20).
//
// Bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves (as code points); the other
// 68 bytes, in increasing order, become U+0100, U+0101, ... (bytes_to_unicode in GPT-2's
// encoder.py and in `tokenizers`).
#ifndef QTK_TOKENIZE_BYTE_LEVEL_H_
#define QTK_TOKENIZE_BYTE_LEVEL_H_

#include <string>
#include <string_view>

namespace qtk {

// `bytes` spelled in the byte-level alphabet, as UTF-8.
std::string ToByteLevel(std::string_view bytes);

// GPT-2's pre-tokenizer regex, which ByteLevel with "use_regex": true splits by.
inline constexpr std::string_view kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace qtk

#endif  // QTK_TOKENIZE_BYTE_LEVEL_H_
