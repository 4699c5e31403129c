// Hyperparameters from GGUF metadata, with llama.cpp's defaults.
#include "eval/model_config.h"

#include <cmath>
#include <optional>

namespace qtk {
namespace {

const GgufValue* Find(const std::vector<GgufKeyValue>& metadata, const std::string& key) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

class MetadataReader {
 public:
  MetadataReader(const std::vector<GgufKeyValue>& metadata, const std::string& path)
      : metadata_(metadata), path_(path) {}

  // A positive integer key; `fallback` when absent (nullopt: required).
  Result<int64_t> Count(const std::string& key, std::optional<int64_t> fallback) const {
    const GgufValue* value = Find(metadata_, key);
    if (value == nullptr) {
      if (fallback) return *fallback;
      return Status::Corruption(path_ + ": metadata key '" + key + "' is missing");
    }
    const std::optional<int64_t> n = value->AsInt();
    if (!n || *n <= 0 || *n > (int64_t{1} << 31)) {
      return Status::Corruption(path_ + ": metadata key '" + key + "' is " +
                                value->ToDisplayString() + ", expected a positive integer");
    }
    return *n;
  }

  Result<double> Real(const std::string& key, std::optional<double> fallback) const {
    const GgufValue* value = Find(metadata_, key);
    if (value == nullptr) {
      if (fallback) return *fallback;
      return Status::Corruption(path_ + ": metadata key '" + key + "' is missing");
    }
    const std::optional<double> x = value->AsDouble();
    if (!x || !std::isfinite(*x)) {
      return Status::Corruption(path_ + ": metadata key '" + key + "' is " +
                                value->ToDisplayString() + ", expected a finite number");
    }
    return *x;
  }

  const std::string* String(const std::string& key) const {
    const GgufValue* value = Find(metadata_, key);
    return value == nullptr ? nullptr : value->AsString();
  }

  std::optional<bool> Bool(const std::string& key) const {
    const GgufValue* value = Find(metadata_, key);
    return value == nullptr ? std::nullopt : value->AsBool();
  }

  std::optional<int64_t> Int(const std::string& key) const {
    const GgufValue* value = Find(metadata_, key);
    return value == nullptr ? std::nullopt : value->AsInt();
  }

 private:
  const std::vector<GgufKeyValue>& metadata_;
  const std::string& path_;
};

Result<EvalArchitecture> GraphOf(const std::string& architecture, const std::string& path) {
  if (architecture == "llama") return EvalArchitecture::kLlama;
  if (architecture == "qwen2") return EvalArchitecture::kQwen2;
  if (architecture == "qwen3" || architecture == "qwen3moe") return EvalArchitecture::kQwen3;
  return Status::Unsupported(path + ": architecture '" + architecture +
                             "': qtk eval runs llama, qwen2, qwen3 and qwen3moe models");
}

Status ReadRope(const MetadataReader& read, const std::string& arch, const std::string& path,
                EvalModelConfig& config) {
  QTK_ASSIGN_OR_RETURN(const int64_t n_rot,
                       read.Count(arch + ".rope.dimension_count", config.head_dim));
  if (n_rot > config.head_dim || n_rot % 2 != 0) {
    return Status::Corruption(path + ": " + arch + ".rope.dimension_count is " +
                              std::to_string(n_rot) +
                              ", expected an even number <= " + std::to_string(config.head_dim));
  }
  config.n_rot = n_rot;
  QTK_ASSIGN_OR_RETURN(const double base, read.Real(arch + ".rope.freq_base", 10000.0));
  config.rope_freq_base = static_cast<float>(base);
  const std::string* scaling = read.String(arch + ".rope.scaling.type");
  if (scaling != nullptr && *scaling != "none" && *scaling != "linear") {
    return Status::Unsupported(path + ": " + arch + ".rope.scaling.type '" + *scaling +
                               "': qtk eval implements linear scaling only");
  }
  QTK_ASSIGN_OR_RETURN(const double factor, read.Real(arch + ".rope.scaling.factor", 0.0));
  if (factor < 0) {
    return Status::Corruption(path + ": " + arch + ".rope.scaling.factor is negative");
  }
  // As llama.cpp: a factor of 0 (absent) means no scaling.
  config.rope_freq_scale = factor == 0.0 ? 1.0f : static_cast<float>(1.0 / factor);
  config.rope_style =
      config.graph == EvalArchitecture::kLlama ? RopeStyle::kNorm : RopeStyle::kNeox;
  return Status::Ok();
}

Status ReadExperts(const MetadataReader& read, const std::string& arch, const std::string& path,
                   EvalModelConfig& config) {
  QTK_ASSIGN_OR_RETURN(config.n_expert, read.Count(arch + ".expert_count", 0));
  if (!config.is_moe()) return Status::Ok();
  QTK_ASSIGN_OR_RETURN(config.n_expert_used, read.Count(arch + ".expert_used_count", std::nullopt));
  if (config.n_expert_used > config.n_expert) {
    return Status::Corruption(path + ": " + arch + ".expert_used_count is " +
                              std::to_string(config.n_expert_used) + ", more than the " +
                              std::to_string(config.n_expert) + " experts");
  }
  QTK_ASSIGN_OR_RETURN(config.n_ff_expert,
                       read.Count(arch + ".expert_feed_forward_length", config.n_ff));
  return Status::Ok();
}

}  // namespace

Result<EvalModelConfig> ReadEvalModelConfig(const std::vector<GgufKeyValue>& metadata,
                                            const std::string& path) {
  const MetadataReader read(metadata, path);
  EvalModelConfig config;
  const std::string* arch = read.String("general.architecture");
  if (arch == nullptr) {
    return Status::Corruption(path + ": metadata key 'general.architecture' is missing");
  }
  config.architecture = *arch;
  QTK_ASSIGN_OR_RETURN(config.graph, GraphOf(*arch, path));
  QTK_ASSIGN_OR_RETURN(config.n_layer, read.Count(*arch + ".block_count", std::nullopt));
  QTK_ASSIGN_OR_RETURN(config.n_embd, read.Count(*arch + ".embedding_length", std::nullopt));
  QTK_ASSIGN_OR_RETURN(config.n_ff, read.Count(*arch + ".feed_forward_length", std::nullopt));
  QTK_ASSIGN_OR_RETURN(config.n_head, read.Count(*arch + ".attention.head_count", std::nullopt));
  QTK_ASSIGN_OR_RETURN(config.n_head_kv,
                       read.Count(*arch + ".attention.head_count_kv", config.n_head));
  if (config.n_head % config.n_head_kv != 0) {
    return Status::Corruption(
        path + ": " + *arch + ".attention.head_count " + std::to_string(config.n_head) +
        " is not a multiple of head_count_kv " + std::to_string(config.n_head_kv));
  }
  QTK_ASSIGN_OR_RETURN(config.head_dim,
                       read.Count(*arch + ".attention.key_length", config.n_embd / config.n_head));
  QTK_ASSIGN_OR_RETURN(const double eps,
                       read.Real(*arch + ".attention.layer_norm_rms_epsilon", std::nullopt));
  config.rms_eps = static_cast<float>(eps);
  QTK_RETURN_IF_ERROR(ReadRope(read, *arch, path, config));
  QTK_RETURN_IF_ERROR(ReadExperts(read, *arch, path, config));

  // llama.cpp's vocabulary: SentencePiece ("llama") adds BOS unless told otherwise, the
  // others only when tokenizer.ggml.add_bos_token says so.
  const std::string* tokenizer_model = read.String("tokenizer.ggml.model");
  config.add_bos = tokenizer_model != nullptr && *tokenizer_model == "llama";
  if (std::optional<bool> add_bos = read.Bool("tokenizer.ggml.add_bos_token")) {
    config.add_bos = *add_bos;
  }
  config.bos_id = static_cast<int32_t>(read.Int("tokenizer.ggml.bos_token_id").value_or(-1));
  if (config.add_bos && config.bos_id < 0) {
    return Status::Corruption(path +
                              ": the vocabulary adds a BOS token but "
                              "tokenizer.ggml.bos_token_id is missing");
  }
  return config;
}

}  // namespace qtk
