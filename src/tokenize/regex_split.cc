#include "tokenize/regex_split.h"

#include <oniguruma.h>

#include <mutex>

#include "base/string_util.h"

namespace qtk {
namespace {

// Oniguruma wants its encodings registered once per process before any regex is compiled.
void InitializeOniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

}  // namespace

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::Compile(std::string_view pattern) {
  InitializeOniguruma();
  regex_t* regex = nullptr;
  OnigErrorInfo error_info;
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  const int code = onig_new(&regex, begin, begin + pattern.size(), ONIG_OPTION_NONE,
                            ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &error_info);
  if (code != ONIG_NORMAL) {
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, code, &error_info);
    return Status::InvalidArgument("regex '" + std::string(pattern) +
                                   "': " + reinterpret_cast<const char*>(message));
  }
  return std::unique_ptr<RegexSplitter>(new RegexSplitter(regex));
}

RegexSplitter::~RegexSplitter() { onig_free(static_cast<regex_t*>(regex_)); }

std::vector<std::string_view> RegexSplitter::SplitIsolated(std::string_view text) const {
  std::vector<std::string_view> pieces;
  auto* regex = static_cast<regex_t*>(regex_);
  OnigRegion* region = onig_region_new();
  const auto* start = reinterpret_cast<const OnigUChar*>(text.data());
  const auto* end = start + text.size();
  size_t gap_begin = 0;  // where the text not yet emitted begins
  size_t from = 0;       // where the next search begins
  while (from < text.size()) {
    const int found = onig_search(regex, start, end, start + from, end, region, ONIG_OPTION_NONE);
    if (found < 0) break;  // ONIG_MISMATCH (or an error: the rest stays one piece)
    const auto match_begin = static_cast<size_t>(region->beg[0]);
    const auto match_end = static_cast<size_t>(region->end[0]);
    if (match_end == match_begin) {  // an empty match splits nothing; move one character on
      from = match_begin + Utf8SequenceLength(static_cast<unsigned char>(text[match_begin]));
      continue;
    }
    if (match_begin > gap_begin) pieces.push_back(text.substr(gap_begin, match_begin - gap_begin));
    pieces.push_back(text.substr(match_begin, match_end - match_begin));
    gap_begin = from = match_end;
  }
  if (gap_begin < text.size()) pieces.push_back(text.substr(gap_begin));
  onig_region_free(region, 1);
  return pieces;
}

}  // namespace qtk
