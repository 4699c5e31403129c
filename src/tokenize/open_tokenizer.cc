// OpenTokenizer: which file of a path holds the tokenizer, and which kind it is.
#include <filesystem>

#include "base/json_util.h"
#include "qtk/base/byte_source.h"
#include "qtk/format/gguf.h"
#include "qtk/tokenize/sentencepiece_model.h"
#include "qtk/tokenize/tokenizer.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

std::string_view TextOf(const ByteSource& source) {
  const std::span<const uint8_t> bytes = source.bytes();
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// add_bos_token / add_eos_token of the tokenizer_config.json beside a tokenizer.model, if
// there is one (absent or null keys keep LlamaTokenizer's defaults).
Result<SentencePieceOptions> ReadSentencePieceOptions(const fs::path& dir) {
  SentencePieceOptions options;
  std::error_code error;
  const fs::path config = dir / "tokenizer_config.json";
  if (!fs::exists(config, error)) return options;
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(config.string()));
  QTK_ASSIGN_OR_RETURN(const Json json, ParseJsonObject(TextOf(*source), config.string()));
  for (auto [key, flag] : {std::pair{"add_bos_token", &options.add_bos},
                           std::pair{"add_eos_token", &options.add_eos}}) {
    const Json* value = FindNonNull(json, key);
    if (value == nullptr) continue;
    if (!value->is_boolean()) return JsonTypeError(config.string(), key, "true or false", *value);
    *flag = value->get<bool>();
  }
  return options;
}

Result<Tokenizer> OpenSentencePiece(const fs::path& file, const SentencePieceOptions& options) {
  QTK_ASSIGN_OR_RETURN(const SentencePieceModel model, ReadSentencePieceModel(file.string()));
  return Tokenizer::FromSentencePiece(model, options, file.string());
}

Result<Tokenizer> OpenDirectory(const fs::path& dir) {
  std::error_code error;
  const fs::path json = dir / "tokenizer.json";
  const fs::path model = dir / "tokenizer.model";
  const bool has_model = fs::exists(model, error);
  if (fs::exists(json, error)) {
    QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(json.string()));
    Result<Tokenizer> tokenizer = Tokenizer::FromJson(TextOf(*source), json.string());
    // Llama 2's tokenizer.json (byte_fallback, Metaspace) is the fast twin of its
    // tokenizer.model, which this encoder reads.
    if (tokenizer.ok() || tokenizer.status().code() != Status::Code::kUnsupported || !has_model) {
      return tokenizer;
    }
  }
  if (!has_model) {
    return Status::NotFound(dir.string() + ": no tokenizer.json or tokenizer.model");
  }
  QTK_ASSIGN_OR_RETURN(const SentencePieceOptions options, ReadSentencePieceOptions(dir));
  return OpenSentencePiece(model, options);
}

}  // namespace

Result<Tokenizer> OpenTokenizer(const std::string& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) return OpenDirectory(path);
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
  if (HasGgufMagic(source->bytes())) {
    QTK_ASSIGN_OR_RETURN(const GgufFile file, ParseGguf(source));
    return Tokenizer::FromGguf(file);
  }
  if (fs::path(path).extension() == ".model") return OpenSentencePiece(path, {});
  return Tokenizer::FromJson(TextOf(*source), path);
}

}  // namespace qtk
