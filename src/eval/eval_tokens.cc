// Tokens from a JSON file or a text, and llama-perplexity's chunking.
#include "eval/eval_tokens.h"

#include <nlohmann/json.hpp>

#include "qtk/base/byte_source.h"
#include "qtk/tokenize/tokenizer.h"

namespace qtk {

Result<std::vector<int32_t>> ReadTokenFile(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path));
  const nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Status::Corruption(path + ": not valid JSON");
  const nlohmann::json* ids = &document;
  if (document.is_object() && document.contains("tokens")) ids = &document["tokens"];
  if (!ids->is_array()) {
    return Status::Corruption(path +
                              ": expected an array of token ids, or an object with a "
                              "\"tokens\" array");
  }
  std::vector<int32_t> tokens;
  tokens.reserve(ids->size());
  for (size_t i = 0; i < ids->size(); ++i) {
    const nlohmann::json& id = (*ids)[i];
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      return Status::Corruption(path + ": token " + std::to_string(i) + " is " + id.dump() +
                                ", expected an id in [0, 2147483647]");
    }
    tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  return tokens;
}

Result<std::vector<int32_t>> TokenizeTextFile(const std::string& model_path,
                                              const std::string& text_path) {
  QTK_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(text_path));
  if (!text.empty() && text.back() == '\n') text.pop_back();  // as llama-perplexity's -f
  QTK_ASSIGN_OR_RETURN(const Tokenizer tokenizer, OpenTokenizer(model_path));
  Result<std::vector<int32_t>> ids = tokenizer.Encode(text, /*add_special=*/true);
  if (!ids.ok()) return Status::Corruption(text_path + ": " + ids.status().message());
  return ids;
}

std::vector<std::vector<int32_t>> MakeChunks(const std::vector<int32_t>& tokens, int64_t n_ctx,
                                             int64_t max_chunks, int32_t bos) {
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (max_chunks > 0) n_chunks = std::min(n_chunks, max_chunks);
  std::vector<std::vector<int32_t>> chunks(static_cast<size_t>(n_chunks));
  for (int64_t k = 0; k < n_chunks; ++k) {
    chunks[k].assign(tokens.begin() + k * n_ctx, tokens.begin() + (k + 1) * n_ctx);
    if (bos >= 0) chunks[k][0] = bos;
  }
  return chunks;
}

}  // namespace qtk
