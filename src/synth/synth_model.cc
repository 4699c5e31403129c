// `qtk synth`: the presets, the tensor list and config.json of a checkpoint.
#include <nlohmann/json.hpp>

#include "qtk/synth/synth.h"

namespace qtk {

SynthShape PresetShape(SynthPreset preset) {
  switch (preset) {
    case SynthPreset::kTiny:
      return {.hidden_size = 256,
              .intermediate_size = 768,
              .n_layer = 2,
              .n_head = 4,
              .n_head_kv = 2,
              .vocab_size = 512,
              .context_length = 2048};
    case SynthPreset::kSmall:
      return {.hidden_size = 512,
              .intermediate_size = 1536,
              .n_layer = 8,
              .n_head = 8,
              .n_head_kv = 4,
              .vocab_size = 8000,
              .context_length = 2048,
              .tie_word_embeddings = false};
    case SynthPreset::k1B:
      return {.hidden_size = 2048,
              .intermediate_size = 8192,
              .n_layer = 16,
              .n_head = 32,
              .n_head_kv = 8,
              .vocab_size = 32000,
              .context_length = 4096,
              .rope_theta = 500000.0};
  }
  return {};
}

std::vector<SynthTensor> SynthTensors(const SynthShape& s) {
  const int64_t head_dim = s.hidden_size / s.n_head;
  const int64_t kv_dim = head_dim * s.n_head_kv;
  std::vector<SynthTensor> tensors;
  tensors.push_back(
      {"model.embed_tokens.weight", {s.vocab_size, s.hidden_size}, SynthTensorKind::kEmbedding});
  for (int64_t layer = 0; layer < s.n_layer; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    const auto linear = [&](const std::string& name, int64_t rows, int64_t columns) {
      tensors.push_back({p + name, {rows, columns}, SynthTensorKind::kLinear});
    };
    linear("self_attn.q_proj.weight", s.hidden_size, s.hidden_size);
    linear("self_attn.k_proj.weight", kv_dim, s.hidden_size);
    linear("self_attn.v_proj.weight", kv_dim, s.hidden_size);
    linear("self_attn.o_proj.weight", s.hidden_size, s.hidden_size);
    linear("mlp.gate_proj.weight", s.intermediate_size, s.hidden_size);
    linear("mlp.up_proj.weight", s.intermediate_size, s.hidden_size);
    linear("mlp.down_proj.weight", s.hidden_size, s.intermediate_size);
    tensors.push_back({p + "input_layernorm.weight", {s.hidden_size}, SynthTensorKind::kNorm});
    tensors.push_back(
        {p + "post_attention_layernorm.weight", {s.hidden_size}, SynthTensorKind::kNorm});
  }
  tensors.push_back({"model.norm.weight", {s.hidden_size}, SynthTensorKind::kNorm});
  if (!s.tie_word_embeddings) {
    tensors.push_back({"lm_head.weight", {s.vocab_size, s.hidden_size}, SynthTensorKind::kOutput});
  }
  return tensors;
}

namespace {

std::string_view TorchDtype(SynthDtype dtype) {
  switch (dtype) {
    case SynthDtype::kF32:
      return "float32";
    case SynthDtype::kF16:
      return "float16";
    case SynthDtype::kBF16:
      return "bfloat16";
  }
  return "?";
}

}  // namespace

std::string SynthConfigJson(const SynthShape& s, SynthDtype dtype) {
  nlohmann::ordered_json config;
  config["architectures"] = {"LlamaForCausalLM"};
  config["model_type"] = "llama";
  config["hidden_size"] = s.hidden_size;
  config["intermediate_size"] = s.intermediate_size;
  config["num_hidden_layers"] = s.n_layer;
  config["num_attention_heads"] = s.n_head;
  config["num_key_value_heads"] = s.n_head_kv;
  config["vocab_size"] = s.vocab_size;
  config["max_position_embeddings"] = s.context_length;
  config["rms_norm_eps"] = s.rms_norm_eps;
  config["rope_theta"] = s.rope_theta;
  config["hidden_act"] = "silu";
  config["tie_word_embeddings"] = s.tie_word_embeddings;
  config["bos_token_id"] = 1;
  config["eos_token_id"] = 2;
  config["torch_dtype"] = TorchDtype(dtype);
  return config.dump(2) + "\n";
}

}  // namespace qtk
