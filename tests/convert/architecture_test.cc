// The architecture table and its generic steps on handcrafted configs and tensor lists.
#include "qtk/convert/architecture.h"

#include <catch2/catch.hpp>

#include "base/protobuf_wire.h"
#include "convert/hf_naming.h"

namespace qtk {
namespace {

const char* const kConfig = R"({
  "architectures": ["LlamaForCausalLM"],
  "hidden_size": 64, "intermediate_size": 100, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 6,
  "max_position_embeddings": 128, "rms_norm_eps": 1e-06, "rope_theta": 500000.0,
  "bos_token_id": 1, "eos_token_id": 2
})";

HfModelConfig Config(std::string text = kConfig) {
  Result<HfModelConfig> config = ParseHfModelConfig(std::move(text), "config.json");
  REQUIRE(config.ok());
  return std::move(*config);
}

std::vector<std::string> Keys(const std::vector<GgufKeyValue>& metadata) {
  std::vector<std::string> keys;
  for (const GgufKeyValue& kv : metadata) keys.push_back(kv.key);
  return keys;
}

const GgufValue& ValueOf(const std::vector<GgufKeyValue>& metadata, const std::string& key) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) return kv.value;
  }
  FAIL("no key " << key);
  throw std::logic_error("unreachable");
}

TEST_CASE("the registry finds the Llama and Qwen families", "[architecture]") {
  REQUIRE(FindArchitecture("LlamaForCausalLM") != nullptr);
  CHECK(FindArchitecture("MistralForCausalLM") == FindArchitecture("LlamaForCausalLM"));
  CHECK(FindArchitecture("MixtralForCausalLM") == FindArchitecture("LlamaForCausalLM"));
  CHECK(FindArchitecture("LlamaForCausalLM")->gguf_architecture == "llama");
  for (const auto& [hf, gguf] :
       {std::pair{"Qwen2ForCausalLM", "qwen2"}, std::pair{"Qwen2MoeForCausalLM", "qwen2moe"},
        std::pair{"Qwen3ForCausalLM", "qwen3"}, std::pair{"Qwen3MoeForCausalLM", "qwen3moe"}}) {
    INFO(hf);
    REQUIRE(FindArchitecture(hf) != nullptr);
    CHECK(FindArchitecture(hf)->gguf_architecture == gguf);
  }
  CHECK(FindArchitecture("GPT2LMHeadModel") == nullptr);
}

TEST_CASE("text_config values override the top level, new keys included", "[architecture]") {
  // Many new keys make the merged object grow while text_config is read (a use after free
  // once, found by fuzz_config; this runs under AddressSanitizer in CI).
  std::string text = R"({"architectures": ["LlamaForCausalLM"], "text_config": {)"
                     R"("num_hidden_layers": 3, "num_attention_heads": 8)";
  for (int i = 0; i < 64; ++i)
    text += ", \"extra_" + std::to_string(i) + "\": " + std::to_string(i);
  text += "}}";
  const HfModelConfig config = Config(text);
  CHECK(config.n_layer == 3);
  CHECK(config.n_head == 8);
  CHECK(config.n_head_kv == 8);
}

TEST_CASE("outtypes and file types", "[architecture]") {
  CHECK(LlamaFileType(ConvertOutType::kF32) == 0);
  CHECK(LlamaFileType(ConvertOutType::kF16) == 1);
  CHECK(LlamaFileType(ConvertOutType::kQ8_0) == 7);
  CHECK(LlamaFileType(ConvertOutType::kBF16) == 32);
  CHECK(ParseConvertOutType("Q8_0") == ConvertOutType::kQ8_0);
  CHECK_FALSE(ParseConvertOutType("q4_0"));
  CHECK(ResolveAutoOutType("BF16") == ConvertOutType::kBF16);
  CHECK(ResolveAutoOutType("F32") == ConvertOutType::kF16);
}

TEST_CASE("config.json errors", "[architecture]") {
  auto error = [](std::string text) {
    Result<HfModelConfig> config = ParseHfModelConfig(std::move(text), "m/config.json");
    REQUIRE_FALSE(config.ok());
    return config.status();
  };
  Status unsupported = error(R"({"architectures": ["GPT2LMHeadModel"]})");
  CHECK(unsupported.code() == Status::Code::kUnsupported);
  CHECK(unsupported.message() ==
        "m/config.json: architecture 'GPT2LMHeadModel' is not supported (qtk converts "
        "LlamaForCausalLM, LLaMAForCausalLM, MistralForCausalLM, MixtralForCausalLM, "
        "Qwen2ForCausalLM, Qwen2MoeForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM)");
  CHECK(error("{}").message() ==
        "m/config.json: no \"architectures\" entry, cannot tell the model");
  CHECK(error(R"({"architectures": "LlamaForCausalLM"})").message() ==
        "m/config.json: architectures: expected a list of strings, got a string "
        "\"LlamaForCausalLM\"");
  CHECK(error(R"({"architectures": ["LlamaForCausalLM"], "num_attention_heads": 4})").message() ==
        "m/config.json: none of n_layers, num_hidden_layers, n_layer, num_layers is set");
  CHECK(error(R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2,
                  "num_attention_heads": 2.5})")
            .message() ==
        "m/config.json: num_attention_heads: expected a positive integer, got a "
        "number 2.5");
  CHECK(error("[1]").message() == "m/config.json: top level is an array, expected an object");
}

TEST_CASE("kv heads default to the head count", "[architecture]") {
  HfModelConfig config = Config(R"({"architectures": ["MistralForCausalLM"],
      "num_hidden_layers": 1, "num_attention_heads": 8})");
  CHECK(config.n_head_kv == 8);
}

TEST_CASE("the rotary permutation interleaves the two halves of each head", "[architecture]") {
  // 2 heads of 4 rows: per head rows [a0 a1 b0 b1] become [a0 b0 a1 b1].
  const std::vector<int64_t> expected = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int64_t row = 0; row < 8; ++row) CHECK(RopePermuteSourceRow(row, 8, 2) == expected[row]);
  const std::vector<float> src = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7};
  std::vector<float> dst(src.size());
  REQUIRE(PermuteRopeRows(src, dst, 8, 2, 2).ok());
  CHECK(dst == std::vector<float>{0, 0, 2, 2, 1, 1, 3, 3, 4, 4, 6, 6, 5, 5, 7, 7});
  CHECK(PermuteRopeRows(src, dst, 8, 2, 3).message() ==
        "rope permutation: 8 rows do not split into 3 heads of rotary pairs");
  CHECK(PermuteRopeRows(std::span<const float>(src).first(6), dst, 8, 2, 2).code() ==
        Status::Code::kInvalidArgument);
}

std::vector<HfTensor> LlamaTensors(bool with_lm_head) {
  std::vector<HfTensor> tensors = {
      {"model.embed_tokens.weight", {6, 64}, "model.safetensors"},
      {"model.norm.weight", {64}, "model.safetensors"},
  };
  if (with_lm_head) tensors.push_back({"lm_head.weight", {6, 64}, "model.safetensors"});
  for (int layer : {1, 0}) {  // input order must not matter
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    tensors.push_back({p + "self_attn.q_proj.weight", {64, 64}, "model.safetensors"});
    tensors.push_back({p + "self_attn.k_proj.weight", {32, 64}, "model.safetensors"});
    tensors.push_back({p + "self_attn.v_proj.weight", {32, 64}, "model.safetensors"});
    tensors.push_back({p + "self_attn.o_proj.weight", {64, 64}, "model.safetensors"});
    tensors.push_back({p + "self_attn.rotary_emb.inv_freq", {8}, "model.safetensors"});
    tensors.push_back({p + "mlp.gate_proj.weight", {100, 64}, "model.safetensors"});
    tensors.push_back({p + "mlp.up_proj.weight", {100, 64}, "model.safetensors"});
    tensors.push_back({p + "mlp.down_proj.weight", {64, 100}, "model.safetensors"});
    tensors.push_back({p + "input_layernorm.weight", {64}, "model.safetensors"});
    tensors.push_back({p + "post_attention_layernorm.weight", {64}, "model.safetensors"});
  }
  return tensors;
}

TEST_CASE("the tensor plan: order, names, skips, transforms and types", "[architecture]") {
  const HfModelConfig config = Config();
  Result<ConversionPlan> plan = PlanTensors(config, LlamaTensors(true), ConvertOutType::kQ8_0);
  REQUIRE(plan.ok());
  std::vector<std::string> names;
  for (const ConvertedTensor& t : plan->tensors) names.push_back(t.gguf_name);
  CHECK(names == std::vector<std::string>{
                     "output.weight",         "token_embd.weight",     "blk.0.attn_norm.weight",
                     "blk.0.ffn_down.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight",
                     "blk.0.ffn_norm.weight", "blk.0.attn_k.weight",   "blk.0.attn_output.weight",
                     "blk.0.attn_q.weight",   "blk.0.attn_v.weight",   "blk.1.attn_norm.weight",
                     "blk.1.ffn_down.weight", "blk.1.ffn_gate.weight", "blk.1.ffn_up.weight",
                     "blk.1.ffn_norm.weight", "blk.1.attn_k.weight",   "blk.1.attn_output.weight",
                     "blk.1.attn_q.weight",   "blk.1.attn_v.weight",   "output_norm.weight"});
  const ConvertedTensor& q = plan->tensors[9];
  CHECK(q.transform == TensorTransform::kPermuteRopeQ);
  CHECK(q.permute_heads == 4);
  const ConvertedTensor& k = plan->tensors[7];
  CHECK(k.transform == TensorTransform::kPermuteRopeK);
  CHECK(k.permute_heads == 2);
  CHECK(k.shape == std::vector<int64_t>{64, 32});
  CHECK(plan->tensors[2].type == GgmlType::kF32);   // norm
  CHECK(plan->tensors[4].type == GgmlType::kQ8_0);  // 64-wide rows
  CHECK(plan->tensors[3].type == GgmlType::kF16);   // ffn_down: 100-wide rows do not fit Q8_0
  CHECK(plan->tensors[3].fell_back);
  REQUIRE(plan->warnings.size() == 2);
  CHECK(plan->warnings[0] ==
        "Can't quantize tensor with shape (64, 100) to Q8_0, falling back to F16");
  CHECK(plan->total_parameters ==
        6 * 64 * 2 + 64 + 2 * (64 * 64 * 2 + 32 * 64 * 2 + 100 * 64 * 3 + 128));
}

TEST_CASE("biases stay F32 and are permuted like their weights", "[architecture]") {
  const HfModelConfig config = Config();
  std::vector<HfTensor> tensors = {{"model.layers.0.self_attn.q_proj.bias", {64}, "a"},
                                   {"model.layers.0.self_attn.o_proj.bias", {64}, "a"}};
  Result<ConversionPlan> plan = PlanTensors(config, tensors, ConvertOutType::kF16);
  REQUIRE(plan.ok());
  CHECK(plan->tensors[0].gguf_name == "blk.0.attn_output.bias");
  CHECK(plan->tensors[1].gguf_name == "blk.0.attn_q.bias");
  CHECK(plan->tensors[1].transform == TensorTransform::kPermuteRopeQ);
  CHECK(plan->tensors[1].type == GgmlType::kF32);
}

TEST_CASE("tensor plan errors", "[architecture]") {
  const HfModelConfig config = Config();
  auto error = [&config](std::vector<HfTensor> tensors) {
    Result<ConversionPlan> plan = PlanTensors(config, std::move(tensors), ConvertOutType::kF16);
    REQUIRE_FALSE(plan.ok());
    return plan.status().message();
  };
  CHECK(error({{"model.layers.2.mlp.up_proj.weight", {100, 64}, "a"}}) ==
        "config.json: cannot map tensor 'model.layers.2.mlp.up_proj.weight' to a GGUF name for "
        "LlamaForCausalLM");
  CHECK(error({{"model.layers.01.mlp.up_proj.weight", {100, 64}, "a"}})
            .starts_with("config.json: cannot map tensor"));
  for (const char* name :
       {"model.layers.-1.mlp.up_proj.weight", "model.layers.+1.mlp.up_proj.weight",
        "model.layers.1x.mlp.up_proj.weight",
        "model.layers.99999999999999999999.mlp.up_proj.weight"}) {
    CHECK(error({{name, {100, 64}, "a"}}).starts_with("config.json: cannot map tensor"));
  }
  // Head counts near the int64 limit do not overflow the rotary split.
  std::string many_heads = kConfig;
  many_heads.replace(many_heads.find("\"num_attention_heads\": 4"), 24,
                     "\"num_attention_heads\": 5000000000000000000");
  const Result<ConversionPlan> heads =
      PlanTensors(Config(many_heads), {{"model.layers.0.self_attn.q_proj.weight", {64, 64}, "a"}},
                  ConvertOutType::kF16);
  REQUIRE_FALSE(heads.ok());
  CHECK(heads.status().message() ==
        "tensor 'model.layers.0.self_attn.q_proj.weight': 64 rows do not split into "
        "5000000000000000000 heads of rotary pairs");
  // A config with 2^31 - 1 layers maps names without counting through them.
  std::string huge = kConfig;
  huge.replace(huge.find("\"num_hidden_layers\": 2"), 22, "\"num_hidden_layers\": 2147483647");
  const Result<ConversionPlan> many =
      PlanTensors(Config(huge), {{"model.layers.2147483646.mlp.up_proj.weight", {100, 64}, "a"}},
                  ConvertOutType::kF16);
  REQUIRE(many.ok());
  CHECK(many->tensors[0].gguf_name == "blk.2147483646.ffn_up.weight");
  CHECK(error({{"vision.patch.weight", {4}, "a"}}).starts_with("config.json: cannot map tensor"));
  CHECK(error({{"model.norm.weight", {64}, "b"}, {"model.norm.weight", {64}, "a"}}) ==
        "tensor 'model.norm.weight' is in both a and b");
  CHECK(error({{"model.layers.0.self_attn.k_proj.weight", {30, 64}, "a"}}) ==
        "tensor 'model.layers.0.self_attn.k_proj.weight': 30 rows do not split into 2 heads of "
        "rotary pairs");
  CHECK(error({{"model.norm.weight", {1, 1, 1, 1, 64}, "a"}}) ==
        "tensor 'model.norm.weight': 5 dimensions, GGUF allows at most 4");
  CHECK(PlanTensors(config, {}, ConvertOutType::kAuto).status().code() ==
        Status::Code::kInvalidArgument);
}

TEST_CASE("metadata keys, order and types from config.json", "[architecture]") {
  const HfModelConfig config = Config();
  Result<ModelMetadata> metadata = BuildModelMetadata(config,
                                                      {.model_dir_name = "tiny-llama",
                                                       .out_type = ConvertOutType::kBF16,
                                                       .total_parameters = 123456},
                                                      {});
  REQUIRE(metadata.ok());
  CHECK(Keys(metadata->metadata) ==
        std::vector<std::string>{"general.architecture", "general.type", "general.name",
                                 "general.size_label", "llama.block_count", "llama.context_length",
                                 "llama.embedding_length", "llama.feed_forward_length",
                                 "llama.attention.head_count", "llama.attention.head_count_kv",
                                 "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon",
                                 "general.file_type", "llama.vocab_size",
                                 "llama.rope.dimension_count", "general.quantization_version"});
  const auto& m = metadata->metadata;
  CHECK(*ValueOf(m, "general.name").AsString() == "Tiny Llama");
  CHECK(*ValueOf(m, "general.size_label").AsString() == "123K");
  CHECK(ValueOf(m, "general.file_type") == GgufValue::Uint32(32));
  CHECK(ValueOf(m, "llama.rope.freq_base") == GgufValue::Float32(500000.0f));
  CHECK(ValueOf(m, "llama.attention.layer_norm_rms_epsilon") == GgufValue::Float32(1e-06f));
  CHECK(ValueOf(m, "llama.rope.dimension_count") == GgufValue::Uint32(16));
}

TEST_CASE("head_dim, rope scaling, is_causal and _name_or_path", "[architecture]") {
  const HfModelConfig config = Config(R"({
    "architectures": ["LlamaForCausalLM"], "_name_or_path": "meta-llama/Llama-2-7b-hf",
    "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 6,
    "head_dim": 32, "is_causal": false, "rope_theta": 10000,
    "rope_scaling": {"type": "linear", "factor": 4}
  })");
  Result<ModelMetadata> metadata = BuildModelMetadata(
      config,
      {.model_dir_name = "x", .out_type = ConvertOutType::kF32, .total_parameters = 6738415616},
      {});
  REQUIRE(metadata.ok());
  CHECK(Keys(metadata->metadata) == std::vector<std::string>{"general.architecture",
                                                             "general.type",
                                                             "general.name",
                                                             "general.organization",
                                                             "general.finetune",
                                                             "general.basename",
                                                             "general.size_label",
                                                             "llama.block_count",
                                                             "llama.embedding_length",
                                                             "llama.attention.head_count",
                                                             "llama.attention.causal",
                                                             "llama.rope.scaling.type",
                                                             "llama.rope.scaling.factor",
                                                             "llama.rope.freq_base",
                                                             "llama.attention.key_length",
                                                             "llama.attention.value_length",
                                                             "general.file_type",
                                                             "llama.vocab_size",
                                                             "llama.rope.dimension_count",
                                                             "general.quantization_version"});
  const auto& m = metadata->metadata;
  CHECK(*ValueOf(m, "general.name").AsString() == "Llama 2 7b Hf");
  CHECK(*ValueOf(m, "general.organization").AsString() == "Meta Llama");
  CHECK(*ValueOf(m, "general.finetune").AsString() == "hf");
  CHECK(*ValueOf(m, "general.basename").AsString() == "Llama-2");
  CHECK(*ValueOf(m, "general.size_label").AsString() == "7B");
  CHECK(ValueOf(m, "llama.rope.scaling.type") == GgufValue::String("linear"));
  CHECK(ValueOf(m, "llama.rope.scaling.factor") == GgufValue::Float32(4.0f));
  CHECK(ValueOf(m, "llama.attention.causal") == GgufValue::Bool(false));
  CHECK(ValueOf(m, "llama.rope.dimension_count") == GgufValue::Uint32(32));
}

TEST_CASE("rope scaling kinds qtk cannot convert are refused", "[architecture]") {
  const HfModelConfig config = Config(R"({
    "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "vocab_size": 6,
    "rope_scaling": {"rope_type": "longrope", "factor": 8.0}})");
  Result<ModelMetadata> metadata = BuildModelMetadata(config, {.model_dir_name = "x"}, {});
  REQUIRE_FALSE(metadata.ok());
  CHECK(metadata.status().code() == Status::Code::kUnsupported);
  CHECK(metadata.status().message() ==
        "config.json: rope scaling type 'longrope' is not supported by qtk's converter");
}

TEST_CASE("rope scaling: linear and yarn keys, llama3 as a tensor", "[architecture]") {
  const std::string head = R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "rope_theta": 1000000.0, )";
  SECTION("yarn") {
    const HfModelConfig config = Config(head + R"("rope_scaling": {"type": "yarn",
        "factor": 4.0, "original_max_position_embeddings": 32768, "beta_fast": 32}})");
    Result<ModelMetadata> metadata = BuildModelMetadata(config, {.model_dir_name = "x"}, {});
    REQUIRE(metadata.ok());
    CHECK(ValueOf(metadata->metadata, "qwen2.rope.scaling.type") == GgufValue::String("yarn"));
    CHECK(ValueOf(metadata->metadata, "qwen2.rope.scaling.factor") == GgufValue::Float32(4.0f));
    CHECK(ValueOf(metadata->metadata, "qwen2.rope.scaling.original_context_length") ==
          GgufValue::Uint32(32768));
    CHECK(ValueOf(metadata->metadata, "qwen2.rope.scaling.yarn_beta_fast") ==
          GgufValue::Float32(32.0f));
  }
  SECTION("yarn without its original context is refused") {
    const HfModelConfig config =
        Config(head + R"("rope_scaling": {"type": "yarn", "factor": 4.0}})");
    CHECK_FALSE(BuildModelMetadata(config, {.model_dir_name = "x"}, {}).ok());
  }
  SECTION("llama3: no key; LlamaModel's factors") {
    const HfModelConfig config = Config(R"({"architectures": ["LlamaForCausalLM"],
        "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 6,
        "head_dim": 16, "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3",
        "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}})");
    Result<ModelMetadata> metadata = BuildModelMetadata(config, {.model_dir_name = "x"}, {});
    REQUIRE(metadata.ok());
    for (const std::string& key : Keys(metadata->metadata))
      CHECK(key.find("scaling") == std::string::npos);
    Result<std::optional<std::vector<float>>> factors = Llama3RopeFactors(config);
    REQUIRE(factors.ok());
    REQUIRE(factors->has_value());
    // Llama 3.1 8B's head_dim 128 gives 64; here 8: the first four wavelengths are below
    // 8192 / 4, the last three above 8192, one in between.
    REQUIRE((*factors)->size() == 8);
    CHECK((**factors)[0] == 1.0f);
    CHECK((**factors)[3] == 1.0f);
    CHECK((**factors)[4] > 1.0f);
    CHECK((**factors)[4] < 8.0f);
    CHECK((**factors)[7] == 8.0f);
    Result<ConversionPlan> plan = PlanTensors(config, {}, ConvertOutType::kF32);
    REQUIRE(plan.ok());
    REQUIRE(plan->tensors.size() == 1);
    CHECK(plan->tensors[0].gguf_name == "rope_freqs.weight");
    CHECK(plan->tensors[0].type == GgmlType::kF32);
    CHECK(plan->tensors[0].values == **factors);
  }
}

TEST_CASE("wrongly typed or missing hparams", "[architecture]") {
  auto error = [](std::string text) {
    const HfModelConfig config = Config(std::move(text));
    Result<ModelMetadata> metadata = BuildModelMetadata(config, {.model_dir_name = "x"}, {});
    REQUIRE_FALSE(metadata.ok());
    return metadata.status().message();
  };
  CHECK(error(R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2,
                  "num_attention_heads": 4, "hidden_size": 64})") ==
        "config.json: vocab_size is required for llama.vocab_size");
  CHECK(error(R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2,
                  "num_attention_heads": 4, "hidden_size": 64, "vocab_size": 6,
                  "max_position_embeddings": -1})") ==
        "config.json: max_position_embeddings: expected an integer in 0..4294967295, got an "
        "integer -1");
  CHECK(error(R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2,
                  "num_attention_heads": 4, "hidden_size": 64, "vocab_size": 6,
                  "rms_norm_eps": "small"})") ==
        "config.json: rms_norm_eps: expected a number, got a string \"small\"");
}

SentencePieceModel MakeTinyTokenizer() {
  SentencePieceModel model;
  model.pieces = {{"<unk>", 0, PieceType::kUnknown},
                  {"<s>", 0, PieceType::kControl},
                  {"</s>", 0, PieceType::kControl},
                  {"a", -1, PieceType::kNormal}};
  return model;
}

const SentencePieceModel* TinyTokenizer() {
  static const SentencePieceModel kModel = MakeTinyTokenizer();
  return &kModel;
}

TEST_CASE("Llama's set_vocab extras", "[architecture]") {
  const std::string tokenizer_config = R"({"add_prefix_space": false, "add_bos_token": true})";
  SECTION("add_prefix_space comes first") {
    Result<ModelMetadata> vocab = BuildTokenizerMetadata(
        Config(), TinyTokenizer(), {.tokenizer_config_json = tokenizer_config});
    REQUIRE(vocab.ok());
    CHECK(Keys(vocab->metadata).front() == "tokenizer.ggml.add_space_prefix");
    CHECK(vocab->metadata.front().value == GgufValue::Bool(false));
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.tokens").strings() ==
          std::vector<std::string>{"<unk>", "<s>", "</s>", "a", "[PAD4]", "[PAD5]"});
  }
  SECTION("vocab_size 49152 never adds BOS") {
    const HfModelConfig config = Config(R"({"architectures": ["LlamaForCausalLM"],
        "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 49152})");
    Result<ModelMetadata> vocab = BuildTokenizerMetadata(
        config, TinyTokenizer(), {.tokenizer_config_json = tokenizer_config});
    REQUIRE(vocab.ok());
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.add_bos_token") == GgufValue::Bool(false));
    CHECK(Keys(vocab->metadata).back() == "tokenizer.ggml.add_bos_token");  // replaced in place
  }
  SECTION("CodeLlama's infill tokens") {
    const HfModelConfig config = Config(R"({"architectures": ["LlamaForCausalLM"],
        "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 32016})");
    Result<ModelMetadata> vocab = BuildTokenizerMetadata(config, TinyTokenizer(), {});
    REQUIRE(vocab.ok());
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.prefix_token_id") == GgufValue::Uint32(32007));
    CHECK(ValueOf(vocab->metadata, "tokenizer.ggml.eot_token_id") == GgufValue::Uint32(32010));
  }
}

TEST_CASE("model ids are split as gguf-py's Metadata does", "[architecture][naming]") {
  SECTION("plain directory names") {
    const ModelIdComponents c = GetModelIdComponents("synth-a", 1705216);
    CHECK(c.full_name == "synth-a");
    CHECK_FALSE(c.basename);
    CHECK_FALSE(c.size_label);
    CHECK(IdToTitle("synth-a") == "Synth A");
    CHECK(IdToTitle("stories260K") == "stories260K");
  }
  SECTION("type and finetune parts") {
    const ModelIdComponents c = GetModelIdComponents("stories260K-bf16-sharded", 260032);
    CHECK(c.basename == "stories260K");
    CHECK(c.finetune == "sharded");
    CHECK(IdToTitle("stories260K-bf16-sharded") == "stories260K Bf16 Sharded");
  }
  SECTION("size, finetune and version") {
    const ModelIdComponents c =
        GetModelIdComponents("mistralai/Mistral-7B-Instruct-v0.2", 7241732096);
    CHECK(c.organization == "mistralai");
    CHECK(c.basename == "Mistral");
    CHECK(c.size_label == "7B");
    CHECK(c.finetune == "Instruct");
    CHECK(c.version == "v0.2");
    CHECK(IdToTitle("Mistral-7B-Instruct-v0.2") == "Mistral 7B Instruct v0.2");
  }
  SECTION("a size far from the parameter count is a context length") {
    const ModelIdComponents c = GetModelIdComponents("Llama-3-8B-Instruct-262k", 8030261248);
    CHECK(c.basename == "Llama-3");
    CHECK(c.size_label == "8B");
    CHECK(c.finetune == "Instruct-262k");
    CHECK_FALSE(c.version);
  }
  SECTION("a sentence is a name") {
    const ModelIdComponents c = GetModelIdComponents("My Model", 10);
    CHECK(c.full_name == "My Model");
    CHECK_FALSE(c.basename);
  }
}

TEST_CASE("size labels round as Python formats them", "[architecture][naming]") {
  CHECK(SizeLabel(1705216) == "1.7M");
  CHECK(SizeLabel(260032) == "260K");
  CHECK(SizeLabel(6738415616) == "6.7B");
  CHECK(SizeLabel(999) == "1.0K");
  CHECK(SizeLabel(400) == "0.40K");
  CHECK(SizeLabel(1000000) == "1000K");
  CHECK(SizeLabel(2500000) == "2.5M");
  CHECK(SizeLabel(15500000) == "16M");
  CHECK(SizeLabel(14500000) == "14M");
  CHECK(SizeLabel(1234567890123) == "1.2T");
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

// A two-expert Qwen3-MoE layer, per-expert tensors as Hugging Face stores them.
std::vector<HfTensor> MoeLayer(int n_experts, std::vector<int64_t> down_shape = {64, 32}) {
  std::vector<HfTensor> tensors = {{"model.layers.0.mlp.gate.weight", {n_experts, 64}, "a"},
                                   {"model.layers.0.input_layernorm.weight", {64}, "a"}};
  for (int e = 0; e < n_experts; ++e) {
    const std::string prefix = "model.layers.0.mlp.experts." + std::to_string(e) + ".";
    tensors.push_back(
        {prefix + "down_proj.weight", e == 0 ? std::vector<int64_t>{64, 32} : down_shape, "a"});
    tensors.push_back({prefix + "gate_proj.weight", {32, 64}, "a"});
    tensors.push_back({prefix + "up_proj.weight", {32, 64}, "a"});
  }
  return tensors;
}

const char* const kMoeConfig = R"({"architectures": ["Qwen3MoeForCausalLM"],
    "num_hidden_layers": 1, "num_attention_heads": 4, "hidden_size": 64, "num_experts": 2,
    "num_experts_per_tok": 1, "moe_intermediate_size": 32})";

TEST_CASE("experts are stacked into one 3-D tensor per projection", "[architecture]") {
  const HfModelConfig config = Config(kMoeConfig);
  Result<ConversionPlan> plan = PlanTensors(config, MoeLayer(2), ConvertOutType::kBF16);
  REQUIRE(plan.ok());
  std::vector<std::string> names;
  for (const ConvertedTensor& t : plan->tensors) names.push_back(t.gguf_name);
  // Emitted where the layer's last expert tensor is visited (experts.1.up_proj), then the
  // router and the norm in name order.
  CHECK(names == std::vector<std::string>{"blk.0.attn_norm.weight", "blk.0.ffn_down_exps.weight",
                                          "blk.0.ffn_gate_exps.weight", "blk.0.ffn_up_exps.weight",
                                          "blk.0.ffn_gate_inp.weight"});
  const ConvertedTensor& down = plan->tensors[1];
  CHECK(down.shape == std::vector<int64_t>{32, 64, 2});
  CHECK(down.type == GgmlType::kBF16);
  CHECK(down.stacked == std::vector<std::string>{"model.layers.0.mlp.experts.0.down_proj.weight",
                                                 "model.layers.0.mlp.experts.1.down_proj.weight"});
  CHECK(plan->tensors[4].type == GgmlType::kF32);  // the router stays F32
  // get_total_parameter_count: each stacked tensor counts one expert's share.
  CHECK(plan->expert_count == 2);
  CHECK(plan->expert_parameters == 3 * 64 * 32);
  CHECK(plan->shared_parameters == 2 * 64 + 64);
  CHECK(plan->total_parameters == 2 * 3 * 64 * 32 + 2 * 64 + 64);
  Result<ModelMetadata> metadata = BuildModelMetadata(config,
                                                      {.model_dir_name = "moe",
                                                       .total_parameters = plan->total_parameters,
                                                       .shared_parameters = plan->shared_parameters,
                                                       .expert_parameters = plan->expert_parameters,
                                                       .expert_count = plan->expert_count},
                                                      {});
  REQUIRE(metadata.ok());
  CHECK(ValueOf(metadata->metadata, "general.size_label") == GgufValue::String("2x6.3K"));
  CHECK(ValueOf(metadata->metadata, "qwen3moe.expert_count") == GgufValue::Uint32(2));
  CHECK(ValueOf(metadata->metadata, "qwen3moe.expert_feed_forward_length") ==
        GgufValue::Uint32(32));
}

TEST_CASE("experts that do not stack are refused", "[architecture]") {
  const HfModelConfig config = Config(kMoeConfig);
  auto error = [&config](std::vector<HfTensor> tensors) {
    Result<ConversionPlan> plan = PlanTensors(config, std::move(tensors), ConvertOutType::kF16);
    REQUIRE_FALSE(plan.ok());
    return plan.status().message();
  };
  CHECK(error(MoeLayer(1)) ==
        "config.json: unprocessed experts (a layer has fewer than 2 of each): "
        "model.layers.0.mlp.experts.0.down_proj.weight, "
        "model.layers.0.mlp.experts.0.gate_proj.weight, "
        "model.layers.0.mlp.experts.0.up_proj.weight");
  CHECK(error(MoeLayer(2, {64, 16})) ==
        "tensor 'model.layers.0.mlp.experts.1.down_proj.weight': shape (64, 16) differs from "
        "expert 0's (64, 32), the experts cannot be stacked");
  std::vector<HfTensor> three = MoeLayer(3);  // expert 2 where expert 1 should be
  three.erase(std::remove_if(
                  three.begin(), three.end(),
                  [](const HfTensor& t) { return t.name.find("experts.1.") != std::string::npos; }),
              three.end());
  CHECK(error(three) ==
        "config.json: expert tensor 'model.layers.0.mlp.experts.1.down_proj.weight' is missing "
        "(2 experts)");
  std::vector<HfTensor> bias = MoeLayer(2);
  bias.push_back({"model.layers.0.mlp.experts.0.down_proj.bias", {64}, "a"});
  CHECK(error(bias) ==
        "config.json: cannot map tensor 'model.layers.0.mlp.experts.0.down_proj.bias' to a GGUF "
        "name for Qwen3MoeForCausalLM");
  const HfModelConfig dense = Config(R"({"architectures": ["Qwen3MoeForCausalLM"],
      "num_hidden_layers": 1, "num_attention_heads": 4})");
  Result<ConversionPlan> no_count = PlanTensors(dense, MoeLayer(2), ConvertOutType::kF16);
  REQUIRE_FALSE(no_count.ok());
  CHECK(no_count.status().message() ==
        "config.json: tensor 'model.layers.0.mlp.experts.0.down_proj.weight' is an expert, but "
        "the config sets no expert count");
}

TEST_CASE("Mixtral's experts stack as w1, w2, w3", "[architecture]") {
  const HfModelConfig config = Config(R"({"architectures": ["MixtralForCausalLM"],
      "num_hidden_layers": 1, "num_attention_heads": 4, "num_local_experts": 2})");
  std::vector<HfTensor> tensors = {{"model.layers.0.block_sparse_moe.gate.weight", {2, 64}, "a"}};
  for (int e = 0; e < 2; ++e) {
    for (const char* w : {"w1", "w2", "w3"}) {
      tensors.push_back(
          {"model.layers.0.block_sparse_moe.experts." + std::to_string(e) + "." + w + ".weight",
           {32, 64},
           "a"});
    }
  }
  Result<ConversionPlan> plan = PlanTensors(config, tensors, ConvertOutType::kF16);
  REQUIRE(plan.ok());
  std::vector<std::string> names;
  for (const ConvertedTensor& t : plan->tensors) names.push_back(t.gguf_name);
  CHECK(names == std::vector<std::string>{"blk.0.ffn_gate_exps.weight",
                                          "blk.0.ffn_down_exps.weight", "blk.0.ffn_up_exps.weight",
                                          "blk.0.ffn_gate_inp.weight"});
}

}  // namespace
}  // namespace qtk
