// config.json -> GGUF metadata, by the rules of the architecture table (prepare_metadata,
// set_gguf_meta_model, TextModel/LlamaModel.set_gguf_parameters, LlamaModel.set_vocab).
#include <cmath>
#include <limits>

#include "base/json_util.h"
#include "base/string_util.h"
#include "convert/hf_naming.h"
#include "convert/hparams.h"
#include "qtk/convert/architecture.h"
#include "qtk/convert/bpe_vocab.h"

namespace qtk {
namespace {

constexpr uint32_t kGgmlQuantizationVersion = 2;  // GGML_QNT_VERSION

// find_hparam(keys): the first key present, even if its value is null.
const Json* FirstPresent(const Json& hparams, std::span<const std::string_view> keys,
                         std::string_view* found = nullptr) {
  for (std::string_view key : keys) {
    auto it = hparams.find(std::string(key));
    if (it != hparams.end()) {
      if (found != nullptr) *found = key;
      return &*it;
    }
  }
  return nullptr;
}

Result<int64_t> RequiredInt(const Json& hparams, std::span<const std::string_view> keys,
                            std::string_view path) {
  std::string_view key;
  const Json* value = FirstPresent(hparams, keys, &key);
  if (value == nullptr || value->is_null()) {
    std::string names;
    for (std::string_view k : keys) names += (names.empty() ? "" : ", ") + std::string(k);
    return Status::Corruption(std::string(path) + ": none of " + names + " is set");
  }
  const std::optional<int64_t> number = PythonInt(*value);
  if (!number || *number <= 0) return JsonTypeError(path, key, "a positive integer", *value);
  return *number;
}

// The value a rule writes, converted as GGUFWriter.add_uint32/add_float32/... would.
Result<GgufValue> ToGguf(const Json& value, GgufValueType type, std::string_view path,
                         std::string_view key) {
  switch (type) {
    case GgufValueType::kUint32: {
      const std::optional<int64_t> n = PythonInt(value);
      if (!n || *n < 0 || *n > std::numeric_limits<uint32_t>::max()) {
        return JsonTypeError(path, key, "an integer in 0..4294967295", value);
      }
      return GgufValue::Uint32(static_cast<uint32_t>(*n));
    }
    case GgufValueType::kFloat32: {
      if (const std::optional<int64_t> n = PythonInt(value)) {
        return GgufValue::Float32(static_cast<float>(static_cast<double>(*n)));
      }
      if (!value.is_number()) return JsonTypeError(path, key, "a number", value);
      return GgufValue::Float32(static_cast<float>(value.get<double>()));
    }
    case GgufValueType::kBool:
      if (!value.is_boolean()) return JsonTypeError(path, key, "a boolean", value);
      return GgufValue::Bool(value.get<bool>());
    case GgufValueType::kString:
      if (!value.is_string()) return JsonTypeError(path, key, "a string", value);
      return GgufValue::String(value.get<std::string>());
    default:
      return Status::InvalidArgument(std::string(key) + ": unsupported rule type");
  }
}

// TextModel.__init__'s rope_parameters, with rope_theta and rope_type mirrored into it.
Json RopeParameters(const Json& hparams, std::span<const std::string_view> theta_keys) {
  Json rope = Json::object();
  if (auto it = hparams.find("rope_parameters"); it != hparams.end()) {
    if (it->is_object()) rope = *it;
  } else if (const Json* scaling = FindNonNull(hparams, "rope_scaling")) {
    if (scaling->is_object()) rope = *scaling;
  }
  if (!rope.contains("full_attention") && !rope.contains("sliding_attention")) {
    const Json* theta = FirstPresent(hparams, theta_keys);
    if (!rope.contains("rope_theta") && theta != nullptr && !theta->is_null()) {
      rope["rope_theta"] = *theta;
    }
    if (!rope.contains("rope_type") && FindNonNull(rope, "type") != nullptr) {
      rope["rope_type"] = rope["type"];
    }
  }
  if (const Json* full = FindNonNull(rope, "full_attention")) return *full;
  return rope;
}

struct RuleContext {
  const HfModelConfig& config;
  const Json& hparams;
  const ModelMetadataOptions& options;
  std::string prefix;  // the GGUF architecture name
  std::vector<GgufKeyValue>& out;
  std::vector<std::string>& warnings;
};

std::string KeyOf(const HparamRule& rule, const std::string& arch) {
  std::string key(rule.key);
  if (key.starts_with("{arch}")) key.replace(0, 6, arch);
  return key;
}

// The rope scaling keys TextModel.set_gguf_parameters writes. llama3 has none: LlamaModel
// writes its factors as the rope_freqs tensor.
Status ApplyRopeScaling(const HparamRule& rule, const RuleContext& ctx, const Json& rope) {
  const Json* type = FindNonNull(rope, "rope_type");
  if (type == nullptr) return Status::Ok();
  if (!type->is_string()) return JsonTypeError(ctx.config.path, "rope_type", "a string", *type);
  const std::string name = type->get<std::string>();
  const Json* factor = FindNonNull(rope, "factor");
  const std::string prefix = ctx.prefix + ".rope.scaling.";
  auto add_float = [&](const std::string& key, const Json& value, std::string_view hf_key) {
    QTK_ASSIGN_OR_RETURN(GgufValue converted,
                         ToGguf(value, GgufValueType::kFloat32, ctx.config.path, hf_key));
    ctx.out.push_back({key, std::move(converted)});
    return Status::Ok();
  };
  if ((name == "linear" || name == "yarn") && factor != nullptr) {
    ctx.out.push_back({KeyOf(rule, ctx.prefix), GgufValue::String(name)});
    QTK_RETURN_IF_ERROR(add_float(prefix + "factor", *factor, "factor"));
    if (name == "linear") return Status::Ok();
    const Json* original = FindNonNull(rope, "original_max_position_embeddings");
    if (original == nullptr) {
      return Status::Corruption(ctx.config.path +
                                ": rope_scaling: yarn needs original_max_position_embeddings");
    }
    QTK_ASSIGN_OR_RETURN(GgufValue context,
                         ToGguf(*original, GgufValueType::kUint32, ctx.config.path,
                                "original_max_position_embeddings"));
    ctx.out.push_back({prefix + "original_context_length", std::move(context)});
    if (const Json* v = FindNonNull(rope, "extrapolation_factor")) {
      QTK_RETURN_IF_ERROR(add_float(prefix + "yarn_ext_factor", *v, "extrapolation_factor"));
    }
    const Json* attn = FindNonNull(rope, "attention_factor");
    if (attn == nullptr && rope.find("attention_factor") == rope.end()) {
      attn = FindNonNull(rope, "attn_factor");
    }
    if (attn != nullptr) {
      QTK_RETURN_IF_ERROR(add_float(prefix + "yarn_attn_factor", *attn, "attention_factor"));
    }
    if (const Json* v = FindNonNull(rope, "beta_fast")) {
      QTK_RETURN_IF_ERROR(add_float(prefix + "yarn_beta_fast", *v, "beta_fast"));
    }
    if (const Json* v = FindNonNull(rope, "beta_slow")) {
      QTK_RETURN_IF_ERROR(add_float(prefix + "yarn_beta_slow", *v, "beta_slow"));
    }
  } else if (name == "su" || name == "longrope") {
    // The script writes only the type; the factors are Phi-3's tensors, which no row makes.
    return Status::Unsupported(ctx.config.path + ": rope scaling type '" + name +
                               "' is not supported by qtk's converter");
  } else if (name != "linear" && name != "yarn" && name != "dynamic" &&
             !EqualsIgnoreCase(name, "llama3")) {
    ctx.warnings.push_back("Unknown RoPE type: " + name);
  }
  return Status::Ok();
}

Status ApplyRule(const HparamRule& rule, const RuleContext& ctx) {
  const std::string key = KeyOf(rule, ctx.prefix);
  const std::string& path = ctx.config.path;
  switch (rule.source) {
    case HparamSource::kFileType:
      ctx.out.push_back({key, GgufValue::Uint32(LlamaFileType(ctx.options.out_type))});
      return Status::Ok();
    case HparamSource::kCausal:
      if (const Json* causal = FindNonNull(ctx.hparams, "is_causal");
          causal != nullptr && causal->is_boolean() && !causal->get<bool>()) {
        ctx.out.push_back({key, GgufValue::Bool(false)});
      }
      return Status::Ok();
    case HparamSource::kRopeScaling:
      return ApplyRopeScaling(rule, ctx, RopeParameters(ctx.hparams, {}));
    case HparamSource::kRopeTheta: {
      const Json rope = RopeParameters(ctx.hparams, rule.hf_keys);
      if (const Json* theta = FindNonNull(rope, "rope_theta")) {
        QTK_ASSIGN_OR_RETURN(GgufValue value, ToGguf(*theta, rule.type, path, "rope_theta"));
        ctx.out.push_back({key, std::move(value)});
      }
      return Status::Ok();
    }
    case HparamSource::kRopeDimension: {
      if (const Json* head_dim = FindNonNull(ctx.hparams, "head_dim")) {
        QTK_ASSIGN_OR_RETURN(GgufValue value, ToGguf(*head_dim, rule.type, path, "head_dim"));
        ctx.out.push_back({key, std::move(value)});
        return Status::Ok();
      }
      static constexpr std::string_view kHidden[] = {"hidden_size"};
      static constexpr std::string_view kHeads[] = {"num_attention_heads"};
      QTK_ASSIGN_OR_RETURN(const int64_t hidden, RequiredInt(ctx.hparams, kHidden, path));
      QTK_ASSIGN_OR_RETURN(const int64_t heads, RequiredInt(ctx.hparams, kHeads, path));
      ctx.out.push_back({key, GgufValue::Uint32(static_cast<uint32_t>(hidden / heads))});
      return Status::Ok();
    }
    case HparamSource::kFirstOf: {
      std::string_view found;
      const Json* value = FirstPresent(ctx.hparams, rule.hf_keys, &found);
      if (value == nullptr || value->is_null()) {
        if (!rule.required) return Status::Ok();
        return Status::Corruption(path + ": " + std::string(rule.hf_keys.front()) +
                                  " is required for " + key);
      }
      QTK_ASSIGN_OR_RETURN(GgufValue converted, ToGguf(*value, rule.type, path, found));
      ctx.out.push_back({key, std::move(converted)});
      return Status::Ok();
    }
  }
  return Status::Ok();
}

void AppendNaming(const ModelNaming& naming, std::vector<GgufKeyValue>& out) {
  out.push_back({"general.name", GgufValue::String(naming.name)});
  auto optional = [&out](const char* key, const std::optional<std::string>& value) {
    if (value) out.push_back({key, GgufValue::String(*value)});
  };
  optional("general.version", naming.version);
  optional("general.organization", naming.organization);
  optional("general.finetune", naming.finetune);
  optional("general.basename", naming.basename);
  optional("general.size_label", naming.size_label);
}

// Metadata.load's generation_config.json settings, written first by set_gguf_meta_model.
// A file that is not valid JSON is ignored, as the script ignores it.
Status AppendSampling(const ModelMetadataOptions& options, std::vector<GgufKeyValue>& out) {
  if (!options.generation_config_json) return Status::Ok();
  const Json config = Json::parse(*options.generation_config_json, nullptr,
                                  /*allow_exceptions=*/false);
  if (!config.is_object()) return Status::Ok();
  struct Setting {
    const char* hf_key;
    const char* gguf_key;
    GgufValueType type;
  };
  static constexpr Setting kSettings[] = {
      {"sequence", "general.sampling.sequence", GgufValueType::kString},
      {"top_k", "general.sampling.top_k", GgufValueType::kInt32},
      {"top_p", "general.sampling.top_p", GgufValueType::kFloat32},
      {"min_p", "general.sampling.min_p", GgufValueType::kFloat32},
      {"xtc_probability", "general.sampling.xtc_probability", GgufValueType::kFloat32},
      {"xtc_threshold", "general.sampling.xtc_threshold", GgufValueType::kFloat32},
      {"temperature", "general.sampling.temp", GgufValueType::kFloat32},
      {"penalty_last_n", "general.sampling.penalty_last_n", GgufValueType::kInt32},
      {"penalty_repeat", "general.sampling.penalty_repeat", GgufValueType::kFloat32},
      {"mirostat", "general.sampling.mirostat", GgufValueType::kInt32},
      {"mirostat_tau", "general.sampling.mirostat_tau", GgufValueType::kFloat32},
      {"mirostat_eta", "general.sampling.mirostat_eta", GgufValueType::kFloat32},
  };
  for (const Setting& setting : kSettings) {
    const Json* value = FindNonNull(config, setting.hf_key);
    if (value == nullptr) continue;
    if (setting.type == GgufValueType::kInt32) {
      const std::optional<int64_t> n = PythonInt(*value);
      if (!n || *n < std::numeric_limits<int32_t>::min() ||
          *n > std::numeric_limits<int32_t>::max()) {
        return JsonTypeError(options.generation_config_path, setting.hf_key, "a 32-bit integer",
                             *value);
      }
      out.push_back({setting.gguf_key, GgufValue::Int32(static_cast<int32_t>(*n))});
      continue;
    }
    QTK_ASSIGN_OR_RETURN(
        GgufValue converted,
        ToGguf(*value, setting.type, options.generation_config_path, setting.hf_key));
    out.push_back({setting.gguf_key, std::move(converted)});
  }
  return Status::Ok();
}

// GGUFWriter.add_key_value: a repeated key keeps its place and takes the new value.
void SetValue(std::vector<GgufKeyValue>& metadata, std::string key, GgufValue value) {
  for (GgufKeyValue& kv : metadata) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata.push_back({std::move(key), std::move(value)});
}

}  // namespace

Result<Json> LoadHparams(std::string_view text, std::string_view path) {
  QTK_ASSIGN_OR_RETURN(Json config, ParseJsonObject(text, path));
  if (const Json* text_config = FindNonNull(config, "text_config")) {
    // A copy: update() inserts into `config`, which may move the object text_config points
    // into (an ordered_json object is a vector).
    if (text_config->is_object()) config.update(Json(*text_config));
  }
  return config;
}

Result<HfModelConfig> ParseHfModelConfig(std::string text, std::string path) {
  QTK_ASSIGN_OR_RETURN(const Json hparams, LoadHparams(text, path));
  HfModelConfig config;
  const Json* architectures = FindNonNull(hparams, "architectures");
  if (architectures == nullptr) {
    return Status::Corruption(path + ": no \"architectures\" entry, cannot tell the model");
  }
  if (!architectures->is_array() || architectures->empty() || !(*architectures)[0].is_string()) {
    return JsonTypeError(path, "architectures", "a list of strings", *architectures);
  }
  config.hf_architecture = (*architectures)[0].get<std::string>();
  config.architecture = FindArchitecture(config.hf_architecture);
  if (config.architecture == nullptr) {
    std::string supported;
    for (const ArchitectureSpec* spec : RegisteredArchitectures()) {
      for (std::string_view name : spec->hf_architectures) {
        supported += (supported.empty() ? "" : ", ") + std::string(name);
      }
    }
    return Status::Unsupported(path + ": architecture '" + Printable(config.hf_architecture) +
                               "' is not supported (qtk converts " + supported + ")");
  }
  // Quantized checkpoints (fp8, gptq, awq, bitsandbytes, ...) store scales beside packed
  // weights; decoding the weights alone would convert garbage.
  if (const Json* quantization = FindNonNull(hparams, "quantization_config")) {
    const Json* method = FindNonNull(*quantization, "quant_method");
    const std::string name = method != nullptr && method->is_string()
                                 ? Printable(method->get_ref<const std::string&>())
                                 : "quantized";
    return Status::Unsupported(path + ": quantization_config: '" + name +
                               "' checkpoints are not supported: their weights need the scales "
                               "stored beside them; convert a dequantized checkpoint");
  }
  static constexpr std::string_view kLayers[] = {"n_layers", "num_hidden_layers", "n_layer",
                                                 "num_layers"};
  static constexpr std::string_view kHeads[] = {"n_heads", "num_attention_heads"};
  static constexpr std::string_view kKvHeads[] = {"n_kv_heads", "num_key_value_heads"};
  QTK_ASSIGN_OR_RETURN(config.n_layer, RequiredInt(hparams, kLayers, path));
  QTK_ASSIGN_OR_RETURN(config.n_head, RequiredInt(hparams, kHeads, path));
  const Json* kv_heads = FirstPresent(hparams, kKvHeads);
  config.n_head_kv = config.n_head;
  if (kv_heads != nullptr && !kv_heads->is_null()) {
    QTK_ASSIGN_OR_RETURN(config.n_head_kv, RequiredInt(hparams, kKvHeads, path));
  }
  static constexpr std::string_view kExperts[] = {"num_local_experts", "num_experts"};
  if (const Json* experts = FirstPresent(hparams, kExperts);
      experts != nullptr && !experts->is_null()) {
    QTK_ASSIGN_OR_RETURN(config.n_experts, RequiredInt(hparams, kExperts, path));
    if (config.n_experts > 65536) {
      return Status::Corruption(path + ": " + std::to_string(config.n_experts) +
                                " experts, more than qtk accepts (65536)");
    }
  }
  config.path = std::move(path);
  config.text = std::move(text);
  return config;
}

Result<std::optional<std::vector<float>>> Llama3RopeFactors(const HfModelConfig& config) {
  using Factors = std::optional<std::vector<float>>;
  QTK_ASSIGN_OR_RETURN(const Json hparams, LoadHparams(config.text, config.path));
  static constexpr std::string_view kTheta[] = {"global_rope_theta", "rope_global_theta",
                                                "rope_theta_global", "rope_theta",
                                                "rotary_emb_base"};
  const Json rope = RopeParameters(hparams, kTheta);
  const Json* type = FindNonNull(rope, "rope_type");
  if (type == nullptr || !type->is_string() ||
      !EqualsIgnoreCase(type->get_ref<const std::string&>(), "llama3")) {
    return Factors();
  }
  const std::string& path = config.path;
  auto number = [&](const Json& object, std::string_view key, double fallback) -> Result<double> {
    const Json* value = FindNonNull(object, key);
    if (value == nullptr) return fallback;
    if (!value->is_number()) return JsonTypeError(path, key, "a number", *value);
    return value->get<double>();
  };
  QTK_ASSIGN_OR_RETURN(const double base, number(rope, "rope_theta", 10000.0));
  int64_t dim = 0;
  if (const Json* head_dim = FindNonNull(hparams, "head_dim")) {
    dim = PythonInt(*head_dim).value_or(0);
    if (dim <= 0) return JsonTypeError(path, "head_dim", "a positive integer", *head_dim);
  } else {
    static constexpr std::string_view kHidden[] = {"hidden_size"};
    static constexpr std::string_view kHeads[] = {"num_attention_heads"};
    QTK_ASSIGN_OR_RETURN(const int64_t hidden, RequiredInt(hparams, kHidden, path));
    QTK_ASSIGN_OR_RETURN(const int64_t heads, RequiredInt(hparams, kHeads, path));
    dim = hidden / heads;
  }
  if (dim > (int64_t{1} << 20)) return Status::Corruption(path + ": head_dim is implausibly large");
  QTK_ASSIGN_OR_RETURN(const double factor, number(rope, "factor", 8.0));
  QTK_ASSIGN_OR_RETURN(const double low_freq_factor, number(rope, "low_freq_factor", 1.0));
  QTK_ASSIGN_OR_RETURN(const double high_freq_factor, number(rope, "high_freq_factor", 4.0));
  // The script reads this one from the top level of config.json, not from rope_scaling.
  QTK_ASSIGN_OR_RETURN(const double old_context,
                       number(hparams, "original_max_position_embeddings", 8192.0));
  const auto low_wavelen = static_cast<float>(old_context / low_freq_factor);
  const auto high_wavelen = static_cast<float>(old_context / high_freq_factor);
  // float32 throughout, as torch computes it; python scalars are rounded to float first.
  std::vector<float> factors;
  for (int64_t i = 0; i < dim; i += 2) {
    const float exponent = static_cast<float>(i) / static_cast<float>(dim);
    const auto power = static_cast<float>(
        std::pow(static_cast<double>(static_cast<float>(base)), static_cast<double>(exponent)));
    const float freq = 1.0f / power;
    const float wavelen = static_cast<float>(2.0 * M_PI) / freq;
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(factor));
    } else {
      const float smooth =
          (static_cast<float>(old_context) / wavelen - static_cast<float>(low_freq_factor)) /
          static_cast<float>(high_freq_factor - low_freq_factor);
      factors.push_back(1.0f / ((1.0f - smooth) / static_cast<float>(factor) + smooth));
    }
  }
  return Factors(std::move(factors));
}

Result<ModelMetadata> BuildModelMetadata(const HfModelConfig& config,
                                         const ModelMetadataOptions& options,
                                         std::vector<GgufKeyValue> tokenizer_metadata) {
  if (options.out_type == ConvertOutType::kAuto) {
    return Status::InvalidArgument("outtype auto must be resolved before writing metadata");
  }
  QTK_ASSIGN_OR_RETURN(const Json hparams, LoadHparams(config.text, config.path));
  QTK_ASSIGN_OR_RETURN(const Json raw, ParseJsonObject(config.text, config.path));
  const ArchitectureSpec& spec = *config.architecture;
  ModelMetadata result;
  std::vector<GgufKeyValue>& out = result.metadata;
  const std::string arch(spec.gguf_architecture);
  out.push_back({"general.architecture", GgufValue::String(arch)});
  out.push_back({"general.type", GgufValue::String("model")});

  std::optional<std::string_view> name_or_path;
  const Json* hf_name = FindNonNull(raw, "_name_or_path");
  if (hf_name != nullptr && hf_name->is_string())
    name_or_path = hf_name->get_ref<const std::string&>();
  QTK_RETURN_IF_ERROR(AppendSampling(options, out));
  AppendNaming(NameModel(name_or_path, options.model_dir_name,
                         {.total = options.total_parameters,
                          .shared = options.shared_parameters,
                          .expert = options.expert_parameters,
                          .expert_count = options.expert_count}),
               out);

  const RuleContext ctx{config, hparams, options, arch, out, result.warnings};
  for (const HparamRule& rule : spec.common_hparams) QTK_RETURN_IF_ERROR(ApplyRule(rule, ctx));
  for (const HparamRule& rule : spec.hparams) QTK_RETURN_IF_ERROR(ApplyRule(rule, ctx));
  out.push_back({"general.quantization_version", GgufValue::Uint32(kGgmlQuantizationVersion)});
  for (GgufKeyValue& kv : tokenizer_metadata) SetValue(out, std::move(kv.key), std::move(kv.value));
  return result;
}

Result<ModelMetadata> BuildTokenizerMetadata(const HfModelConfig& config,
                                             const SentencePieceModel* sentencepiece,
                                             VocabSources sources,
                                             const std::optional<std::string>& vocab_pre) {
  sources.config_json = config.text;
  sources.config_path = config.path;
  const ArchitectureSpec& spec = *config.architecture;
  ModelMetadata result;
  if (spec.llama_vocab_extras && sources.tokenizer_config_json) {
    QTK_ASSIGN_OR_RETURN(
        const Json tokenizer_config,
        ParseJsonObject(*sources.tokenizer_config_json, sources.tokenizer_config_path));
    if (const Json* space = FindNonNull(tokenizer_config, "add_prefix_space")) {
      QTK_ASSIGN_OR_RETURN(
          GgufValue value,
          ToGguf(*space, GgufValueType::kBool, sources.tokenizer_config_path, "add_prefix_space"));
      result.metadata.push_back({"tokenizer.ggml.add_space_prefix", std::move(value)});
    }
    const Json* tokenizer_class = FindNonNull(tokenizer_config, "tokenizer_class");
    if (tokenizer_class != nullptr && *tokenizer_class == "HybridDNATokenizer") {
      return Status::Unsupported(sources.tokenizer_config_path +
                                 ": HybridDNATokenizer vocabularies are not supported");
    }
  }
  if (sentencepiece != nullptr && spec.vocab == VocabKind::kSentencePieceElseGpt2) {
    QTK_ASSIGN_OR_RETURN(VocabResult vocab, BuildSentencePieceVocab(*sentencepiece, sources));
    result.warnings = vocab.warnings;
    for (GgufKeyValue& kv : SentencePieceVocabMetadata(vocab)) {
      SetValue(result.metadata, std::move(kv.key), std::move(kv.value));
    }
  } else if (sources.tokenizer_json) {
    QTK_ASSIGN_OR_RETURN(ModelMetadata bpe, BuildBpeTokenizerMetadata(config, sources, vocab_pre));
    result.warnings = std::move(bpe.warnings);
    for (GgufKeyValue& kv : bpe.metadata)
      SetValue(result.metadata, std::move(kv.key), std::move(kv.value));
  } else {
    return Status::Unsupported(config.path + ": no tokenizer: qtk converts a SentencePiece " +
                               "tokenizer.model or a tokenizer.json (byte-level BPE)");
  }
  if (!spec.llama_vocab_extras) return result;
  // LlamaModel.set_vocab's special cases, keyed on config.json's vocab_size (default 32000).
  QTK_ASSIGN_OR_RETURN(const Json hparams, LoadHparams(config.text, config.path));
  const Json* vocab_size_json = FindNonNull(hparams, "vocab_size");
  const int64_t vocab_size =
      vocab_size_json == nullptr ? 32000 : PythonInt(*vocab_size_json).value_or(-1);
  if (vocab_size == 32016) {  // CodeLlama infill tokens
    const std::pair<const char*, uint32_t> kInfill[] = {
        {"prefix", 32007}, {"suffix", 32008}, {"middle", 32009}, {"eot", 32010}};
    for (const auto& [type, id] : kInfill) {
      SetValue(result.metadata, SpecialTokenIdKey(type), GgufValue::Uint32(id));
    }
    // The script's second SpecialVocab sets tokenizer.chat_template again, to the same value.
  }
  if (vocab_size == 49152)
    SetValue(result.metadata, "tokenizer.ggml.add_bos_token", GgufValue::Bool(false));
  return result;
}

}  // namespace qtk
