// The token ids an evaluation runs on, and its chunks (internal to eval/).
#ifndef QTK_EVAL_EVAL_TOKENS_H_
#define QTK_EVAL_EVAL_TOKENS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

// The ids of a JSON file: an array of integers, or an object whose "tokens" is one (as
// llama.cpp's reference stories260K-eval-tokens.json).
// Errors: NotFound/IOError for the file; Corruption naming the first bad value.
Result<std::vector<int32_t>> ReadTokenFile(const std::string& path);

// The text of `text_path` with one trailing '\n' removed (llama-perplexity's -f), encoded
// by `model_path`'s tokenizer (OpenTokenizer) with its special tokens (BOS) added.
// Errors: the file's; OpenTokenizer's (Unsupported for a vocabulary it cannot encode yet);
// Corruption for text the tokenizer refuses.
Result<std::vector<int32_t>> TokenizeTextFile(const std::string& model_path,
                                              const std::string& text_path);

// llama-perplexity's chunks: min(⌊n / n_ctx⌋, max_chunks) (all when max_chunks <= 0) runs of
// n_ctx ids, the first id of each replaced by `bos` when bos >= 0.
// REQUIRES: tokens.size() >= n_ctx.
std::vector<std::vector<int32_t>> MakeChunks(const std::vector<int32_t>& tokens, int64_t n_ctx,
                                             int64_t max_chunks, int32_t bos);

}  // namespace qtk

#endif  // QTK_EVAL_EVAL_TOKENS_H_
