// The llama-family graph over WeightsOf, a layer at a time.
#include "eval/forward.h"

#include <map>

#include "base/parallel.h"
#include "qtk/format/ggml_type.h"
#include "qtk/plan/file_type.h"

namespace qtk {

struct ForwardModel::LayerWeights {
  DenseWeight attn_norm, q, k, v, q_bias, k_bias, v_bias, q_norm, k_norm, output;
  DenseWeight ffn_norm, gate, up, down;
  DenseWeight router;  // mixture of experts: gate/up/down hold every expert
};

namespace {

// A tensor the graph reads, with its GGUF shape ([cols] for a vector).
struct TensorSpec {
  std::string name;
  int64_t cols = 0;
  int64_t rows = 1;
  bool is_vector = false;
  int64_t n_matrices = 0;  // > 0: a stack of matrices (one per expert)
};

std::string LayerTensor(int64_t layer, const char* name) {
  return "blk." + std::to_string(layer) + "." + name;
}

// Every tensor of layer `layer`, by graph variant.
std::vector<TensorSpec> LayerSpecs(const EvalModelConfig& c, int64_t layer) {
  const int64_t q_width = c.n_head * c.head_dim;
  const int64_t kv_width = c.n_head_kv * c.head_dim;
  std::vector<TensorSpec> specs = {
      {LayerTensor(layer, "attn_norm.weight"), c.n_embd, 1, true},
      {LayerTensor(layer, "attn_q.weight"), c.n_embd, q_width},
      {LayerTensor(layer, "attn_k.weight"), c.n_embd, kv_width},
      {LayerTensor(layer, "attn_v.weight"), c.n_embd, kv_width},
      {LayerTensor(layer, "attn_output.weight"), q_width, c.n_embd},
      {LayerTensor(layer, "ffn_norm.weight"), c.n_embd, 1, true},
  };
  if (c.is_moe()) {
    specs.push_back({LayerTensor(layer, "ffn_gate_inp.weight"), c.n_embd, c.n_expert});
    specs.push_back(
        {LayerTensor(layer, "ffn_gate_exps.weight"), c.n_embd, c.n_ff_expert, false, c.n_expert});
    specs.push_back(
        {LayerTensor(layer, "ffn_up_exps.weight"), c.n_embd, c.n_ff_expert, false, c.n_expert});
    specs.push_back(
        {LayerTensor(layer, "ffn_down_exps.weight"), c.n_ff_expert, c.n_embd, false, c.n_expert});
  } else {
    specs.push_back({LayerTensor(layer, "ffn_gate.weight"), c.n_embd, c.n_ff});
    specs.push_back({LayerTensor(layer, "ffn_up.weight"), c.n_embd, c.n_ff});
    specs.push_back({LayerTensor(layer, "ffn_down.weight"), c.n_ff, c.n_embd});
  }
  if (c.graph == EvalArchitecture::kQwen2) {
    specs.push_back({LayerTensor(layer, "attn_q.bias"), q_width, 1, true});
    specs.push_back({LayerTensor(layer, "attn_k.bias"), kv_width, 1, true});
    specs.push_back({LayerTensor(layer, "attn_v.bias"), kv_width, 1, true});
  }
  if (c.graph == EvalArchitecture::kQwen3) {
    specs.push_back({LayerTensor(layer, "attn_q_norm.weight"), c.head_dim, 1, true});
    specs.push_back({LayerTensor(layer, "attn_k_norm.weight"), c.head_dim, 1, true});
  }
  return specs;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t d = 0; d < shape.size(); ++d) text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

// The scheme of a file qtk wrote with one (qtk.quant.scheme); llama.cpp's file type name
// when general.file_type names one and no tensor is a scheme; otherwise the type most
// matrices have (the first such type on a tie).
std::string TypeNameOf(const std::vector<GgufKeyValue>& metadata,
                       const std::vector<WeightInfo>& weights) {
  for (const GgufKeyValue& kv : metadata) {  // a file qtk wrote with a generic scheme
    if (kv.key == "qtk.quant.scheme" && kv.value.AsString()) return *kv.value.AsString();
  }
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  bool has_scheme = false;
  for (const WeightInfo& w : weights) {
    if (w.shape.size() < 2) continue;
    if (!GgmlTypeFromName(w.type)) has_scheme = true;
    if (counts[w.type]++ == 0) order.push_back(w.type);
  }
  if (!has_scheme) {
    for (const GgufKeyValue& kv : metadata) {
      if (kv.key != "general.file_type") continue;
      if (std::optional<uint64_t> id = kv.value.AsUint()) {
        if (std::optional<FileType> type = FileTypeFromId(static_cast<uint32_t>(*id))) {
          return std::string(Info(*type).name);
        }
      }
    }
  }
  std::string best = "F32";
  int best_count = 0;
  for (const std::string& type : order) {
    if (counts[type] > best_count) {
      best = type;
      best_count = counts[type];
    }
  }
  return best;
}

}  // namespace

ForwardModel::ForwardModel(EvalModelConfig config, std::unique_ptr<WeightSource> weights,
                           ForwardOptions options)
    : config_(std::move(config)), options_(options), weights_(std::move(weights)) {}

Result<std::unique_ptr<ForwardModel>> ForwardModel::Open(std::unique_ptr<ModelInput> input,
                                                         const ForwardOptions& options) {
  const std::vector<GgufKeyValue> metadata = input->metadata();
  const std::string path = input->path();
  // A converted checkpoint is presented as F32; its type is what its files store ("BF16").
  std::vector<WeightInfo> stored;
  if (input->is_conversion()) {
    for (size_t i = 0; i < input->tensors().size(); ++i) {
      stored.push_back(
          {input->tensors()[i].name, input->stored_type_name(i), input->tensors()[i].shape, 0});
    }
  }
  QTK_ASSIGN_OR_RETURN(EvalModelConfig config, ReadEvalModelConfig(metadata, path));
  if (options.kv_type != KvCacheType::kF16) {
    if (!options.ggml_arithmetic) {
      return Status::InvalidArgument(
          "a quantized KV cache is llama.cpp's arithmetic: it needs "
          "ggml activations");
    }
    if (config.head_dim % 32 != 0 || (config.head_dim & (config.head_dim - 1)) != 0) {
      return Status::InvalidArgument(
          path +
          ": a quantized KV cache needs a head size that is a power of two and a multiple "
          "of 32 (llama.cpp refuses other sizes for the blocks; qtk's Hadamard rotation needs "
          "a power of two); this model's is " +
          std::to_string(config.head_dim));
    }
  }
  std::unique_ptr<ForwardModel> model(
      new ForwardModel(std::move(config), WeightsOf(std::move(input)), options));
  model->type_name_ =
      stored.empty() ? TypeNameOf(metadata, model->weights_->weights()) : TypeNameOf({}, stored);
  QTK_RETURN_IF_ERROR(model->Index());
  return model;
}

Status ForwardModel::Index() {
  std::map<std::string, const WeightInfo*> by_name;
  for (const WeightInfo& w : weights_->weights()) by_name[w.name] = &w;
  auto find = [&](const std::string& name) -> const WeightInfo* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  };
  const WeightInfo* embd = find("token_embd.weight");
  if (embd == nullptr || embd->shape.size() != 2 || embd->shape[0] != config_.n_embd) {
    return Status::Corruption(
        path() + ": tensor 'token_embd.weight' " +
        (embd == nullptr ? std::string("is missing") : "has shape " + ShapeText(embd->shape)) +
        ", expected [" + std::to_string(config_.n_embd) + ", n_vocab]");
  }
  n_vocab_ = embd->shape[1];
  output_name_ = find("output.weight") != nullptr ? "output.weight" : "token_embd.weight";
  std::vector<TensorSpec> specs = {{"output_norm.weight", config_.n_embd, 1, true},
                                   {output_name_, config_.n_embd, n_vocab_}};
  has_rope_freqs_ = find("rope_freqs.weight") != nullptr;
  if (has_rope_freqs_) {
    specs.push_back({"rope_freqs.weight", config_.n_rot / 2, 1, true});
  }
  for (int64_t layer = 0; layer < config_.n_layer; ++layer) {
    for (TensorSpec& spec : LayerSpecs(config_, layer)) specs.push_back(std::move(spec));
  }
  for (const TensorSpec& spec : specs) {
    const WeightInfo* info = find(spec.name);
    std::vector<int64_t> expected = {spec.cols};
    if (!spec.is_vector) expected.push_back(spec.rows);
    if (spec.n_matrices > 0) expected.push_back(spec.n_matrices);
    if (info == nullptr) {
      return Status::Corruption(path() + ": tensor '" + spec.name + "' is missing (a " +
                                config_.architecture + " model needs it)");
    }
    if (info->shape != expected) {
      return Status::Corruption(path() + ": tensor '" + spec.name + "' has shape " +
                                ShapeText(info->shape) + ", expected " + ShapeText(expected));
    }
  }
  return Status::Ok();
}

Result<DenseWeight> ForwardModel::Read(const std::string& name, int n_threads) const {
  const std::vector<WeightInfo>& all = weights_->weights();
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].name != name) continue;
    DenseWeight weight;
    QTK_ASSIGN_OR_RETURN(weight.values, weights_->ReadF32(i, n_threads));
    weights_->Release(i);
    weight.cols = all[i].shape[0];
    weight.rows = all[i].n_elements() / weight.cols;  // every matrix of a stack
    if (options_.ggml_arithmetic) weight.activations = GgmlActivationFormat(all[i].type);
    return weight;
  }
  return Status::Corruption(path() + ": tensor '" + name + "' is missing");
}

Result<ForwardModel::LayerWeights> ForwardModel::ReadLayer(int64_t layer, int n_threads) const {
  LayerWeights w;
  auto read = [&](const char* name, DenseWeight& into) -> Status {
    QTK_ASSIGN_OR_RETURN(into, Read(LayerTensor(layer, name), n_threads));
    return Status::Ok();
  };
  QTK_RETURN_IF_ERROR(read("attn_norm.weight", w.attn_norm));
  QTK_RETURN_IF_ERROR(read("attn_q.weight", w.q));
  QTK_RETURN_IF_ERROR(read("attn_k.weight", w.k));
  QTK_RETURN_IF_ERROR(read("attn_v.weight", w.v));
  QTK_RETURN_IF_ERROR(read("attn_output.weight", w.output));
  QTK_RETURN_IF_ERROR(read("ffn_norm.weight", w.ffn_norm));
  if (config_.is_moe()) {
    QTK_RETURN_IF_ERROR(read("ffn_gate_inp.weight", w.router));
    QTK_RETURN_IF_ERROR(read("ffn_gate_exps.weight", w.gate));
    QTK_RETURN_IF_ERROR(read("ffn_up_exps.weight", w.up));
    QTK_RETURN_IF_ERROR(read("ffn_down_exps.weight", w.down));
  } else {
    QTK_RETURN_IF_ERROR(read("ffn_gate.weight", w.gate));
    QTK_RETURN_IF_ERROR(read("ffn_up.weight", w.up));
    QTK_RETURN_IF_ERROR(read("ffn_down.weight", w.down));
  }
  if (config_.graph == EvalArchitecture::kQwen2) {
    QTK_RETURN_IF_ERROR(read("attn_q.bias", w.q_bias));
    QTK_RETURN_IF_ERROR(read("attn_k.bias", w.k_bias));
    QTK_RETURN_IF_ERROR(read("attn_v.bias", w.v_bias));
  }
  if (config_.graph == EvalArchitecture::kQwen3) {
    QTK_RETURN_IF_ERROR(read("attn_q_norm.weight", w.q_norm));
    QTK_RETURN_IF_ERROR(read("attn_k_norm.weight", w.k_norm));
  }
  return w;
}

void ForwardModel::RunLayer(const LayerWeights& w, const RopeTable& rope, Matrix& x) const {
  const EvalModelConfig& c = config_;
  Matrix normed = x;
  RmsNorm(normed, w.attn_norm, c.rms_eps, c.n_embd);
  Matrix q, k, v;
  Linear(normed, w.q, w.q_bias, q);
  Linear(normed, w.k, w.k_bias, k);
  Linear(normed, w.v, w.v_bias, v);
  if (c.graph == EvalArchitecture::kQwen3) {
    RmsNorm(q, w.q_norm, c.rms_eps, c.head_dim);
    RmsNorm(k, w.k_norm, c.rms_eps, c.head_dim);
  }
  ApplyRope(q, c.n_head, c.head_dim, rope, c.rope_style);
  ApplyRope(k, c.n_head_kv, c.head_dim, rope, c.rope_style);
  const bool quantized_kv = options_.ggml_arithmetic && options_.kv_type != KvCacheType::kF16;
  if (options_.ggml_arithmetic) {
    const ActivationFormat cache = options_.kv_type == KvCacheType::kQ8_0 ? ActivationFormat::kQ8_0
                                   : options_.kv_type == KvCacheType::kQ4_0
                                       ? ActivationFormat::kQ4_0
                                       : ActivationFormat::kF16;
    if (quantized_kv) {
      RotateHadamard(q, c.head_dim);
      RotateHadamard(k, c.head_dim);
      RotateHadamard(v, c.head_dim);
    }
    RoundRows(q, cache == ActivationFormat::kF16 ? cache : ActivationFormat::kQ8_0);
    RoundRows(k, cache);
    RoundRows(v, cache);
  }
  Matrix attention, projected;
  CausalAttention(q, k, v, c.n_head, c.n_head_kv, c.head_dim, attention);
  if (quantized_kv) RotateHadamard(attention, c.head_dim);
  Linear(attention, w.output, {}, projected);
  x += projected;

  normed = x;
  RmsNorm(normed, w.ffn_norm, c.rms_eps, c.n_embd);
  if (c.is_moe()) {
    MixtureOfExperts(normed, {w.router, w.gate, w.up, w.down, c.n_expert, c.n_expert_used},
                     projected);
  } else {
    Matrix gate, up;
    Linear(normed, w.gate, {}, gate);
    Linear(normed, w.up, {}, up);
    SwiGlu(gate, up);
    Linear(gate, w.down, {}, projected);
  }
  x += projected;
}

Status ForwardModel::Run(std::span<const std::vector<int32_t>> sequences, int64_t first_row,
                         int n_threads, const LogitsFn& on_logits,
                         const std::function<bool()>& should_stop) const {
  if (sequences.empty()) return Status::Ok();
  const int64_t n_tokens = static_cast<int64_t>(sequences[0].size());
  for (const std::vector<int32_t>& sequence : sequences) {
    for (int32_t id : sequence) {
      if (id < 0 || id >= n_vocab_) {
        return Status::InvalidArgument("token id " + std::to_string(id) +
                                       " is outside the vocabulary of " + path() + " (" +
                                       std::to_string(n_vocab_) + " ids)");
      }
    }
  }
  auto stop = [&] { return should_stop && should_stop(); };
  std::vector<Matrix> hidden(sequences.size());
  {
    QTK_ASSIGN_OR_RETURN(const DenseWeight embd, Read("token_embd.weight", n_threads));
    const Eigen::Map<const Matrix> table = embd.matrix();
    for (size_t s = 0; s < sequences.size(); ++s) {
      hidden[s].resize(n_tokens, config_.n_embd);
      for (int64_t t = 0; t < n_tokens; ++t) hidden[s].row(t) = table.row(sequences[s][t]);
    }
  }
  DenseWeight freq_factors;
  if (has_rope_freqs_) {
    QTK_ASSIGN_OR_RETURN(freq_factors, Read("rope_freqs.weight", n_threads));
  }
  const RopeTable rope = MakeRopeTable(n_tokens, config_.n_rot, config_.rope_freq_base,
                                       config_.rope_freq_scale, freq_factors.values);
  const int64_t n_sequences = static_cast<int64_t>(sequences.size());
  for (int64_t layer = 0; layer < config_.n_layer; ++layer) {
    if (stop()) return Status::Cancelled("stopped");
    QTK_ASSIGN_OR_RETURN(const LayerWeights weights, ReadLayer(layer, n_threads));
    ParallelFor(n_threads, n_sequences, [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s) RunLayer(weights, rope, hidden[s]);
    });
  }
  if (stop()) return Status::Cancelled("stopped");
  QTK_ASSIGN_OR_RETURN(const DenseWeight norm, Read("output_norm.weight", n_threads));
  QTK_ASSIGN_OR_RETURN(const DenseWeight output, Read(output_name_, n_threads));
  ParallelFor(n_threads, n_sequences, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      Matrix x = hidden[s].bottomRows(n_tokens - first_row);
      hidden[s] = Matrix();
      RmsNorm(x, norm, config_.rms_eps, config_.n_embd);
      Matrix logits;
      Linear(x, output, {}, logits);
      on_logits(static_cast<size_t>(s), logits);
    }
  });
  return Status::Ok();
}

}  // namespace qtk
