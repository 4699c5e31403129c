// What a tokenizer.json holds, once parsed (internal: tokenizer_json.cc fills it,
// tokenizer.cc encodes with it).
#ifndef QTK_TOKENIZE_TOKENIZER_DATA_H_
#define QTK_TOKENIZE_TOKENIZER_DATA_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenize/bpe.h"
#include "tokenize/regex_split.h"

namespace qtk {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool normalized = false;  // matched after normalization rather than on the raw text
};

enum class NormalizerKind { kNone, kNfc };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel };
  Kind kind = Kind::kSplit;
  std::unique_ptr<RegexSplitter> regex;  // kSplit, or kByteLevel with use_regex
  bool add_prefix_space = false;         // kByteLevel
};

struct TokenizerData {
  NormalizerKind normalizer = NormalizerKind::kNone;
  std::vector<PreTokenizerStep> pre_tokenizer;
  BpeModel bpe;
  std::vector<AddedToken> added;  // longest content first
  // Indices into `added` by the first byte of their content (longest first within each), so
  // that the split looks only at the tokens that can start where it stands.
  std::array<std::vector<uint32_t>, 256> added_by_first_byte;
  std::vector<int32_t> special_prefix;  // TemplateProcessing's single: before $A
  std::vector<int32_t> special_suffix;  // ... and after it
};

// Parses tokenizer.json (tokenizer_json.cc).
Result<std::unique_ptr<TokenizerData>> ParseTokenizerJson(std::string_view text,
                                                          std::string_view path);

}  // namespace qtk

#endif  // QTK_TOKENIZE_TOKENIZER_DATA_H_
