// A Hugging Face model directory: config.json, safetensors weights (one file, or an index and
// its shards) and tokenizer files. Also a PEFT adapter directory (adapter_config.json +
// adapter_model.safetensors).
//
// Which weights: model.safetensors if present (as transformers does), else
// model.safetensors.index.json and its shards, else adapter_model.safetensors.
// PyTorch pickles (pytorch_model.bin) are not read.
// Implemented in hf_model.cc (the directory) and hf_config.cc (config.json as ModelConfig).
#ifndef QTK_CONVERT_HF_MODEL_H_
#define QTK_CONVERT_HF_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/base/status.h"
#include "qtk/format/safetensors.h"

namespace qtk {

// A read-only view of config.json, free of any JSON library type. Values are addressed by
// dotted path: "hidden_size", "rope_scaling.factor", "architectures.0".
class ModelConfig {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kArray, kObject };

  struct Value {
    Kind kind = Kind::kNull;
    bool boolean = false;
    int64_t integer = 0;  // kInt (unsigned values above INT64_MAX become kFloat)
    double number = 0;    // kFloat, and kInt converted
    std::string text;     // kString
    size_t size = 0;      // elements of a kArray or kObject
  };

  const std::string& path() const { return path_; }
  // The file's text, exactly.
  const std::string& text() const { return text_; }

  // Every value, depth first in file order (below the second level: in key order). Arrays and
  // objects have an entry of their own, then one per element.
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  // The top-level keys, in file order.
  const std::vector<std::string>& keys() const { return keys_; }

  // nullptr if there is no value at `path`.
  const Value* Find(std::string_view path) const;
  // nullopt if absent or of another kind. GetNumber accepts integers too.
  std::optional<int64_t> GetInt(std::string_view path) const;
  std::optional<double> GetNumber(std::string_view path) const;
  std::optional<bool> GetBool(std::string_view path) const;
  std::optional<std::string> GetString(std::string_view path) const;
  // An array of strings (non-strings skipped), or a single string as one element.
  std::vector<std::string> GetStrings(std::string_view path) const;

  // architectures[0] ("LlamaForCausalLM"), else model_type, else "".
  std::string architecture() const;

 private:
  friend class ModelConfigBuilder;

  std::string path_;
  std::string text_;
  std::vector<std::pair<std::string, Value>> entries_;
  std::vector<std::string> keys_;
};

// Parses a config: one JSON object.
// Errors: Corruption (invalid JSON, duplicate key, not an object) naming the offset.
Result<ModelConfig> ParseModelConfig(std::shared_ptr<const ByteSource> source);

struct HfModelDirectory {
  std::string path;
  ModelConfig config;  // config.json, or adapter_config.json for an adapter
  SafetensorsCheckpoint weights;
  // The tokenizer files present, in this order when present: tokenizer.model,
  // tokenizer.json, tokenizer_config.json, special_tokens_map.json, added_tokens.json,
  // vocab.json, merges.txt.
  std::vector<std::string> tokenizer_files;
};

// Opens a model directory and validates its config and weights.
// Errors: NotFound when the directory has no config or no safetensors weights; the
// readers' errors otherwise.
Result<HfModelDirectory> OpenHfModelDirectory(const std::string& path);

}  // namespace qtk

#endif  // QTK_CONVERT_HF_MODEL_H_
