// The regex splits of tokenizer.json's pre-tokenizers, on Oniguruma (internal).
//
// Hugging Face's `tokenizers` compiles its Split and ByteLevel regexes with Oniguruma's
// default syntax; so does this, so \p{L}, \s, (?i:...) and (?!...) behave identically.
#ifndef QTK_TOKENIZE_REGEX_SPLIT_H_
#define QTK_TOKENIZE_REGEX_SPLIT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

class RegexSplitter {
 public:
  // Errors: InvalidArgument "regex '<pattern>': <Oniguruma's message>".
  static Result<std::unique_ptr<RegexSplitter>> Compile(std::string_view pattern);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // The "Isolated" split: every match, and every non-empty stretch between matches, in
  // order. Together they are `text`. REQUIRES: `text` is well-formed UTF-8.
  std::vector<std::string_view> SplitIsolated(std::string_view text) const;

 private:
  explicit RegexSplitter(void* regex) : regex_(regex) {}
  void* regex_;  // Oniguruma's regex_t (kept out of this header)
};

}  // namespace qtk

#endif  // QTK_TOKENIZE_REGEX_SPLIT_H_
