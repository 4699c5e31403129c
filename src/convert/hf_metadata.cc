// config.json -> GGUF metadata, by the rules of the architecture table (prepare_metadata,
// set_gguf_meta_model, TextModel/LlamaModel.set_gguf_parameters, LlamaModel.set_vocab).
#include <limits>

#include "base/json_util.h"
#include "base/string_util.h"
#include "convert/hf_naming.h"
#include "qtk/convert/architecture.h"

namespace qtk {
namespace {

constexpr uint32_t kGgmlQuantizationVersion = 2;  // GGML_QNT_VERSION

// ModelBase.load_hparams + TextModel.__init__: text_config's keys move to the top level.
Result<Json> LoadHparams(std::string_view text, std::string_view path) {
  QTK_ASSIGN_OR_RETURN(Json config, ParseJsonObject(text, path));
  if (const Json* text_config = FindNonNull(config, "text_config")) {
    // A copy: update() inserts into `config`, which may move the object text_config points
    // into (an ordered_json object is a vector).
    if (text_config->is_object()) config.update(Json(*text_config));
  }
  return config;
}

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

// The rope scaling keys TextModel.set_gguf_parameters writes; the kinds that need more than
// a type and a factor are refused rather than half-converted.
Status ApplyRopeScaling(const HparamRule& rule, const RuleContext& ctx, const Json& rope) {
  const Json* type = FindNonNull(rope, "rope_type");
  if (type == nullptr) return Status::Ok();
  if (!type->is_string()) return JsonTypeError(ctx.config.path, "rope_type", "a string", *type);
  const std::string name = type->get<std::string>();
  const Json* factor = FindNonNull(rope, "factor");
  if (name == "linear" && factor != nullptr) {
    ctx.out.push_back({KeyOf(rule, ctx.prefix), GgufValue::String("linear")});
    QTK_ASSIGN_OR_RETURN(GgufValue value,
                         ToGguf(*factor, GgufValueType::kFloat32, ctx.config.path, "factor"));
    ctx.out.push_back({ctx.prefix + ".rope.scaling.factor", std::move(value)});
  } else if (name == "yarn" || name == "su" || name == "longrope" ||
             EqualsIgnoreCase(name, "llama3")) {
    return Status::Unsupported(ctx.config.path + ": rope scaling type '" + name +
                               "' is not supported by qtk's converter yet");
  } else if (name != "linear" && name != "dynamic") {
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
  config.path = std::move(path);
  config.text = std::move(text);
  return config;
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
  AppendNaming(NameModel(name_or_path, options.model_dir_name, options.total_parameters), out);

  const RuleContext ctx{config, hparams, options, arch, out, result.warnings};
  for (const HparamRule& rule : spec.common_hparams) QTK_RETURN_IF_ERROR(ApplyRule(rule, ctx));
  for (const HparamRule& rule : spec.hparams) QTK_RETURN_IF_ERROR(ApplyRule(rule, ctx));
  out.push_back({"general.quantization_version", GgufValue::Uint32(kGgmlQuantizationVersion)});
  for (GgufKeyValue& kv : tokenizer_metadata) SetValue(out, std::move(kv.key), std::move(kv.value));
  return result;
}

Result<ModelMetadata> BuildTokenizerMetadata(const HfModelConfig& config,
                                             const SentencePieceModel& model,
                                             VocabSources sources) {
  sources.config_json = config.text;
  sources.config_path = config.path;
  ModelMetadata result;
  if (sources.tokenizer_config_json) {
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
  QTK_ASSIGN_OR_RETURN(VocabResult vocab, BuildSentencePieceVocab(model, sources));
  result.warnings = vocab.warnings;
  for (GgufKeyValue& kv : SentencePieceVocabMetadata(vocab)) {
    SetValue(result.metadata, std::move(kv.key), std::move(kv.value));
  }
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
    if (vocab.special.chat_template) {
      SetValue(result.metadata, "tokenizer.chat_template",
               GgufValue::String(*vocab.special.chat_template));
    }
  }
  if (vocab_size == 49152)
    SetValue(result.metadata, "tokenizer.ggml.add_bos_token", GgufValue::Bool(false));
  return result;
}

}  // namespace qtk
