// The reference forward pass: a model's logits for token sequences, in F32, as llama.cpp's
// llama graph computes them (internal to eval/).
//
// Per layer: x += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n) with n = rms_norm(x), then
// x += Wdown · (silu(Wgate·m) ⊙ Wup·m) with m = rms_norm(x); at the end the logits are
// output · rms_norm(x) (token_embd when the model has no output.weight). qwen2 adds q/k/v
// biases, qwen3 an RMSNorm of each q/k head before RoPE; both rotate NEOX pairs. With
// expert_count > 1 the FFN is a mixture of experts (MixtureOfExperts in forward_ops.h).
//
// Memory: the weights are read one layer at a time, through WeightsOf (any type qtk
// decodes, generic schemes included), and dropped when the layer is done; what stays is the
// hidden state of every sequence of the batch, and one sequence's q, k, v, scores and FFN
// activations per thread.
#ifndef QTK_EVAL_FORWARD_H_
#define QTK_EVAL_FORWARD_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "eval/forward_ops.h"
#include "eval/model_config.h"
#include "qtk/base/status.h"
#include "qtk/eval/eval_job.h"
#include "qtk/model/model_input.h"
#include "qtk/report/weight_source.h"

namespace qtk {

struct ForwardOptions {
  // Round activations as ggml's CPU backend does (activation_rounding.h) and keep q, k, v
  // in F16 (llama.cpp's default F16 KV cache, flash attention's F16 query), so the logits
  // are llama.cpp's up to summation order. false: F32 throughout. Default: true.
  bool ggml_arithmetic = true;
  // With ggml_arithmetic: how K and V are stored (llama.cpp -ctk/-ctv with flash attention):
  // F16, or Q8_0/Q4_0 blocks of 32 along each head, the query then rounded through Q8_0
  // (the quantized cache's dot-product type).
  KvCacheType kv_type = KvCacheType::kF16;
};

class ForwardModel {
 public:
  // Reads the configuration and checks every tensor the graph needs is there with its
  // shape. Errors: ReadEvalModelConfig's; Corruption naming a missing or misshapen tensor;
  // InvalidArgument for a quantized KV cache without ggml_arithmetic or with a head size
  // that is not a multiple of 32 (llama.cpp refuses those too).
  static Result<std::unique_ptr<ForwardModel>> Open(std::unique_ptr<ModelInput> input,
                                                    const ForwardOptions& options = {});

  const EvalModelConfig& config() const { return config_; }
  int64_t n_vocab() const { return n_vocab_; }
  const std::string& path() const { return weights_->path(); }
  // The file's type name: llama.cpp's file type ("Q4_K_M", from general.file_type) or,
  // without one or with qtk schemes, the most common type of its matrices ("int4-g128").
  const std::string& type_name() const { return type_name_; }

  // Called with sequence s's logits for positions [first_row, n_tokens) (one row each), on
  // the worker thread that ran s; calls for different sequences may run concurrently.
  using LogitsFn = std::function<void(size_t sequence, const Matrix& logits)>;

  // Runs each sequence alone (positions 0.., causal, no cache from another sequence),
  // sequences spread over n_threads, the weights read layer by layer.
  // REQUIRES: every sequence has the same length, > first_row.
  // Errors: InvalidArgument for a token id outside the vocabulary; Cancelled when
  // should_stop (optional) says so between layers; the weights' read errors.
  Status Run(std::span<const std::vector<int32_t>> sequences, int64_t first_row, int n_threads,
             const LogitsFn& on_logits, const std::function<bool()>& should_stop) const;

 private:
  struct LayerWeights;
  ForwardModel(EvalModelConfig config, std::unique_ptr<WeightSource> weights,
               ForwardOptions options);

  Status Index();
  Result<DenseWeight> Read(const std::string& name, int n_threads) const;
  Result<LayerWeights> ReadLayer(int64_t layer, int n_threads) const;
  void RunLayer(const LayerWeights& w, const RopeTable& rope, Matrix& x) const;

  EvalModelConfig config_;
  ForwardOptions options_;
  std::unique_ptr<WeightSource> weights_;
  std::string type_name_;
  int64_t n_vocab_ = 0;
  std::string output_name_;      // output.weight, or token_embd.weight when tied
  bool has_rope_freqs_ = false;  // per-pair frequency divisors (Llama 3.1's scaling)
};

}  // namespace qtk

#endif  // QTK_EVAL_FORWARD_H_
