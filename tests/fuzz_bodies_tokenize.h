// The body of fuzz/fuzz_tokenizer.cc (shared with tests/fuzz_corpus_test.cc):
//
//   FuzzTokenizer: the first byte picks what the rest is.
//     even: a tokenizer.json. If it parses, a few texts encode (or are refused with a
//           message); every id it gives is below n_ids().
//     odd:  text for a fixed byte-level tokenizer that has every byte in its vocabulary
//           (Llama 3's split regex, a few merges, one added token). Well-formed UTF-8 always
//           encodes, and the pieces, read back through the byte-level alphabet, spell the
//           text exactly; anything else is refused as not UTF-8.
//
// A broken invariant aborts (FuzzFinding).
#ifndef QTK_TESTS_FUZZ_BODIES_TOKENIZE_H_
#define QTK_TESTS_FUZZ_BODIES_TOKENIZE_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_bodies.h"
#include "qtk/tokenize/tokenizer.h"

namespace qtk::testing {

// GPT-2's byte-level alphabet, written out independently of src/tokenize/byte_level.cc.
inline std::vector<std::string> FuzzByteAlphabet() {
  std::vector<std::string> alphabet(256);
  int next = 256;
  for (int byte = 0; byte < 256; ++byte) {
    const bool itself = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
    const int code_point = itself ? byte : next++;
    std::string utf8;
    if (code_point < 0x80) {
      utf8.push_back(static_cast<char>(code_point));
    } else {
      utf8.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
      utf8.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    }
    alphabet[static_cast<size_t>(byte)] = utf8;
  }
  return alphabet;
}

inline std::string FuzzTokenizerJson() {
  const std::vector<std::string> alphabet = FuzzByteAlphabet();
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t byte = 0; byte < 256; ++byte) vocab[alphabet[byte]] = byte;
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"a", "b"}, {"ab", "c"}, {"Ġ", "Ġ"}, {"1", "2"}};
  nlohmann::json merge_list = nlohmann::json::array();
  int id = 256;
  for (const auto& [left, right] : merges) {
    if (!vocab.contains(left + right)) vocab[left + right] = id++;
    merge_list.push_back({left, right});
  }
  nlohmann::json json = {
      {"added_tokens",
       {{{"id", 300}, {"content", "<|x|>"}, {"special", true}, {"normalized", false}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex",
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
      {"post_processor", nullptr},
      {"model",
       {{"type", "BPE"}, {"ignore_merges", true}, {"vocab", vocab}, {"merges", merge_list}}}};
  return json.dump();
}

inline void FuzzEncodeWithOwnTokenizer(std::string_view json) {
  Result<Tokenizer> tokenizer = Tokenizer::FromJson(json, "fuzz.json");
  if (!tokenizer.ok()) return;
  for (std::string_view text : {"", "Hello world", "  a\n\nb 123456 ", "<s></s>"}) {
    Result<std::vector<int32_t>> ids = tokenizer->Encode(text, true);
    if (!ids.ok()) continue;  // a vocabulary without some byte: refused, with a message
    for (int32_t id : *ids) {
      if (id < 0 || id >= tokenizer->n_ids()) FuzzFinding("an id outside the vocabulary");
    }
  }
}

inline void FuzzEncodeText(std::string_view text) {
  static const std::string kJson = FuzzTokenizerJson();
  Result<Tokenizer> tokenizer = Tokenizer::FromJson(kJson, "fuzz.json");
  if (!tokenizer.ok())
    FuzzFinding("the fixed tokenizer is refused: " + tokenizer.status().message());
  Result<std::vector<int32_t>> ids = tokenizer->Encode(text, false);
  if (!ids.ok()) {
    if (ids.status().code() != Status::Code::kInvalidArgument) {
      FuzzFinding("well-formed text refused: " + ids.status().message());
    }
    return;
  }
  // Read the pieces back: the added token as itself, the rest through the alphabet.
  const std::vector<std::string> alphabet = FuzzByteAlphabet();
  std::map<std::string, char> byte_of;
  for (size_t byte = 0; byte < 256; ++byte) byte_of[alphabet[byte]] = static_cast<char>(byte);
  std::string spelled;
  for (int32_t id : *ids) {
    const std::string_view piece = tokenizer->Piece(id);
    if (id == 300) {
      spelled += piece;
      continue;
    }
    for (size_t at = 0; at < piece.size();) {
      const size_t length = static_cast<unsigned char>(piece[at]) < 0x80 ? 1 : 2;
      auto it = byte_of.find(std::string(piece.substr(at, length)));
      if (it == byte_of.end()) FuzzFinding("a piece outside the byte-level alphabet");
      spelled.push_back(it->second);
      at += length;
    }
  }
  if (spelled != text) FuzzFinding("the pieces do not spell the text");
}

inline void FuzzTokenizer(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const std::string_view rest(reinterpret_cast<const char*>(bytes.data()) + 1, bytes.size() - 1);
  if (bytes[0] % 2 == 0) {
    FuzzEncodeWithOwnTokenizer(rest);
  } else {
    FuzzEncodeText(rest);
  }
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_FUZZ_BODIES_TOKENIZE_H_
