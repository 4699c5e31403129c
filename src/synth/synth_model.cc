// `qtk synth`: the presets, the tensor list, config.json and generation_config.json of each
// model family, with the keys and values a real checkpoint of the family carries (Llama
// 3.1-8B-Instruct, Qwen2.5-0.5B-Instruct, Qwen3-0.6B and Qwen3-30B-A3B, shrunk).
#include <nlohmann/json.hpp>

#include "qtk/synth/synth.h"
#include "synth/synth_bpe.h"

namespace qtk {
namespace {

// The sizes every family shares.
SynthShape PresetSizes(SynthPreset preset) {
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

// Experts per layer, per token, and each expert's width: about the parameters of the dense
// preset, the expert width a multiple of 256 so that K-quants apply without fallback.
void SetExperts(SynthPreset preset, SynthShape& s) {
  switch (preset) {
    case SynthPreset::kTiny:
      s.n_experts = 4, s.n_experts_used = 2, s.expert_intermediate_size = 256;
      return;
    case SynthPreset::kSmall:
      s.n_experts = 8, s.n_experts_used = 2, s.expert_intermediate_size = 256;
      return;
    case SynthPreset::k1B:
      s.n_experts = 16, s.n_experts_used = 4, s.expert_intermediate_size = 512;
      return;
  }
}

bool HasQkNorm(SynthArch arch) { return arch == SynthArch::kQwen3 || arch == SynthArch::kQwen3Moe; }

}  // namespace

SynthShape PresetShape(SynthPreset preset, SynthArch arch) {
  SynthShape s = PresetSizes(preset);
  s.arch = arch;
  s.head_dim = s.hidden_size / s.n_head;
  switch (arch) {
    case SynthArch::kLlama:
      break;
    case SynthArch::kLlama3:
      s.rope_theta = 500000.0;
      s.context_length = 131072;  // 8192 * the rope scaling factor 8
      s.tie_word_embeddings = false;
      break;
    case SynthArch::kQwen2:
      s.rope_theta = 1000000.0;
      s.rms_norm_eps = 1e-6;
      s.context_length = 32768;
      s.tie_word_embeddings = true;
      break;
    case SynthArch::kQwen3:
    case SynthArch::kQwen3Moe:
      s.rope_theta = 1000000.0;
      s.rms_norm_eps = 1e-6;
      s.context_length = 40960;
      s.tie_word_embeddings = true;
      if (arch == SynthArch::kQwen3Moe) SetExperts(preset, s);
      break;
  }
  return s;
}

std::vector<SynthTensor> SynthTensors(const SynthShape& s) {
  const int64_t head_dim = s.head_size();
  const int64_t q_dim = head_dim * s.n_head;
  const int64_t kv_dim = head_dim * s.n_head_kv;
  const bool biases = s.arch == SynthArch::kQwen2;
  std::vector<SynthTensor> tensors;
  tensors.push_back(
      {"model.embed_tokens.weight", {s.vocab_size, s.hidden_size}, SynthTensorKind::kEmbedding});
  for (int64_t layer = 0; layer < s.n_layer; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    const auto linear = [&](const std::string& name, int64_t rows, int64_t columns) {
      tensors.push_back({p + name, {rows, columns}, SynthTensorKind::kLinear});
    };
    const auto projection = [&](const std::string& name, int64_t rows) {
      linear("self_attn." + name + ".weight", rows, s.hidden_size);
      if (biases) {
        tensors.push_back({p + "self_attn." + name + ".bias", {rows}, SynthTensorKind::kBias});
      }
    };
    const auto norm = [&](const std::string& name, int64_t length) {
      tensors.push_back({p + name, {length}, SynthTensorKind::kNorm});
    };
    projection("q_proj", q_dim);
    projection("k_proj", kv_dim);
    projection("v_proj", kv_dim);
    linear("self_attn.o_proj.weight", s.hidden_size, q_dim);
    if (HasQkNorm(s.arch)) {
      norm("self_attn.q_norm.weight", head_dim);
      norm("self_attn.k_norm.weight", head_dim);
    }
    if (s.n_experts > 0) {
      linear("mlp.gate.weight", s.n_experts, s.hidden_size);
      for (int64_t expert = 0; expert < s.n_experts; ++expert) {
        const std::string e = "mlp.experts." + std::to_string(expert) + ".";
        linear(e + "gate_proj.weight", s.expert_intermediate_size, s.hidden_size);
        linear(e + "up_proj.weight", s.expert_intermediate_size, s.hidden_size);
        linear(e + "down_proj.weight", s.hidden_size, s.expert_intermediate_size);
      }
    } else {
      linear("mlp.gate_proj.weight", s.intermediate_size, s.hidden_size);
      linear("mlp.up_proj.weight", s.intermediate_size, s.hidden_size);
      linear("mlp.down_proj.weight", s.hidden_size, s.intermediate_size);
    }
    norm("input_layernorm.weight", s.hidden_size);
    norm("post_attention_layernorm.weight", s.hidden_size);
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

// Llama 2 style, in the key order of the shared synth-a checkpoint (kept: the demo's and the
// benchmarks' pinned bytes depend on it).
std::string LlamaConfigJson(const SynthShape& s, SynthDtype dtype) {
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

// What every family's config.json has (nlohmann::json keeps keys sorted, as transformers'
// to_json_string writes them).
nlohmann::json CommonConfig(const SynthShape& s, SynthDtype dtype) {
  nlohmann::json config;
  config["attention_dropout"] = 0.0;
  config["hidden_act"] = "silu";
  config["hidden_size"] = s.hidden_size;
  config["initializer_range"] = 0.02;
  config["intermediate_size"] = s.intermediate_size;
  config["max_position_embeddings"] = s.context_length;
  config["num_attention_heads"] = s.n_head;
  config["num_hidden_layers"] = s.n_layer;
  config["num_key_value_heads"] = s.n_head_kv;
  config["rms_norm_eps"] = s.rms_norm_eps;
  config["rope_theta"] = s.rope_theta;
  config["tie_word_embeddings"] = s.tie_word_embeddings;
  config["torch_dtype"] = TorchDtype(dtype);
  config["use_cache"] = true;
  config["vocab_size"] = s.vocab_size;
  return config;
}

// Llama-3.1-8B-Instruct's keys.
nlohmann::json Llama3Config(const SynthShape& s) {
  nlohmann::json config;
  config["architectures"] = {"LlamaForCausalLM"};
  config["model_type"] = "llama";
  config["attention_bias"] = false;
  config["mlp_bias"] = false;
  config["pretraining_tp"] = 1;
  config["head_dim"] = s.head_size();
  config["rope_scaling"] = {{"factor", 8.0},
                            {"high_freq_factor", 4.0},
                            {"low_freq_factor", 1.0},
                            {"original_max_position_embeddings", 8192},
                            {"rope_type", "llama3"}};
  config["bos_token_id"] = SynthSpecialTokenId(s, "<|begin_of_text|>");
  config["eos_token_id"] = {SynthSpecialTokenId(s, "<|end_of_text|>"),
                            SynthSpecialTokenId(s, "<|eom_id|>"),
                            SynthSpecialTokenId(s, "<|eot_id|>")};
  config["transformers_version"] = "4.45.0";
  return config;
}

// Qwen2.5-0.5B-Instruct's, Qwen3-0.6B's and Qwen3-30B-A3B's keys.
nlohmann::json QwenConfig(const SynthShape& s) {
  nlohmann::json config;
  config["max_window_layers"] = s.n_layer;
  config["use_sliding_window"] = false;
  config["bos_token_id"] = SynthSpecialTokenId(s, "<|endoftext|>");
  config["eos_token_id"] = SynthSpecialTokenId(s, "<|im_end|>");
  switch (s.arch) {
    case SynthArch::kQwen2:
      config["architectures"] = {"Qwen2ForCausalLM"};
      config["model_type"] = "qwen2";
      config["sliding_window"] = s.context_length;
      config["transformers_version"] = "4.43.1";
      return config;
    case SynthArch::kQwen3:
      config["architectures"] = {"Qwen3ForCausalLM"};
      config["model_type"] = "qwen3";
      config["rope_theta"] = static_cast<int64_t>(s.rope_theta);  // Qwen3-0.6B writes an int
      break;
    case SynthArch::kQwen3Moe:
      config["architectures"] = {"Qwen3MoeForCausalLM"};
      config["model_type"] = "qwen3_moe";
      config["decoder_sparse_step"] = 1;
      config["mlp_only_layers"] = nlohmann::json::array();
      config["moe_intermediate_size"] = s.expert_intermediate_size;
      config["norm_topk_prob"] = true;
      config["num_experts"] = s.n_experts;
      config["num_experts_per_tok"] = s.n_experts_used;
      config["output_router_logits"] = false;
      config["router_aux_loss_coef"] = 0.001;
      break;
    case SynthArch::kLlama:
    case SynthArch::kLlama3:
      break;
  }
  config["attention_bias"] = false;
  config["head_dim"] = s.head_size();
  config["rope_scaling"] = nullptr;
  config["sliding_window"] = nullptr;
  config["transformers_version"] = "4.51.0";
  return config;
}

}  // namespace

std::string SynthConfigJson(const SynthShape& s, SynthDtype dtype) {
  if (s.arch == SynthArch::kLlama) return LlamaConfigJson(s, dtype);
  nlohmann::json config = CommonConfig(s, dtype);
  config.update(s.arch == SynthArch::kLlama3 ? Llama3Config(s) : QwenConfig(s));
  return config.dump(2) + "\n";
}

std::string SynthGenerationConfigJson(const SynthShape& s) {
  nlohmann::json config;
  config["do_sample"] = true;
  switch (s.arch) {
    case SynthArch::kLlama:
      break;
    case SynthArch::kLlama3:  // Llama-3.1-8B-Instruct
      config["bos_token_id"] = SynthSpecialTokenId(s, "<|begin_of_text|>");
      config["eos_token_id"] = {SynthSpecialTokenId(s, "<|end_of_text|>"),
                                SynthSpecialTokenId(s, "<|eom_id|>"),
                                SynthSpecialTokenId(s, "<|eot_id|>")};
      config["temperature"] = 0.6;
      config["top_p"] = 0.9;
      config["transformers_version"] = "4.45.0";
      break;
    case SynthArch::kQwen2:  // Qwen2.5-0.5B-Instruct
    case SynthArch::kQwen3:  // Qwen3-0.6B, Qwen3-30B-A3B
    case SynthArch::kQwen3Moe: {
      const int32_t end_of_text = SynthSpecialTokenId(s, "<|endoftext|>");
      config["bos_token_id"] = end_of_text;
      config["eos_token_id"] = {SynthSpecialTokenId(s, "<|im_end|>"), end_of_text};
      config["pad_token_id"] = end_of_text;
      const bool qwen2 = s.arch == SynthArch::kQwen2;
      if (qwen2) config["repetition_penalty"] = 1.1;
      config["temperature"] = qwen2 ? 0.7 : 0.6;
      config["top_k"] = 20;
      config["top_p"] = qwen2 ? 0.8 : 0.95;
      config["transformers_version"] = qwen2 ? "4.37.0" : "4.51.0";
      break;
    }
  }
  return config.dump(2) + "\n";
}

}  // namespace qtk
