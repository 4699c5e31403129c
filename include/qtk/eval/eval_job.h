// `qtk eval`: perplexity of models on a text, and with a base model the KL divergence of
// each against it, as llama.cpp's llama-perplexity defines them, computed by qtk's own
// reference forward pass (F32, with llama.cpp's CPU rounding of activations and of the KV
// cache by default) with no logits file.
//
// Definitions (llama-perplexity, tools/perplexity/perplexity.cpp; docs/eval.md):
//   - tokens: the text with one trailing '\n' removed, tokenized with BOS as the model's
//     vocabulary adds it; or ids given directly;
//   - chunks: n_chunk = min(⌊n_tokens / n_ctx⌋, max_chunks); chunk k is tokens
//     [k·n_ctx, (k+1)·n_ctx), its first token replaced by BOS when the vocabulary adds one,
//     evaluated alone from position 0;
//   - scored: the logits at positions n_ctx/2 .. n_ctx−2 predict the next token;
//     nll = max + log Σ exp(l − max) − l_tok; PPL = exp(mean nll) ± PPL·sqrt(var(nll)/(N−1));
//   - KLD: the base's log-probabilities stored in 16 bits per value as llama-perplexity's
//     --kl-divergence-base file stores them (values more than 16 below the top clamped),
//     KLD = Σ_{log p > −16} p (log p − log q); percentiles interpolated at fraction·(N−1);
//     same top p: argmax agrees; Δp = q(tok) − p(tok).
//
// Implemented in eval_job.cc (the job), eval_tokens.cc (tokens and chunks), eval_stats.cc
// (the statistics), forward.cc / forward_ops.cc / activation_rounding.cc (the forward pass),
// model_config.cc (hyperparameters).
#ifndef QTK_EVAL_EVAL_JOB_H_
#define QTK_EVAL_EVAL_JOB_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

// How the evaluated models (not the base) store K and V, as llama.cpp's -ctk/-ctv with flash
// attention: F16 (its default), or quantized in blocks of 32 along each head.
enum class KvCacheType { kF16, kQ8_0, kQ4_0 };

struct PerplexityStats {
  int64_t n_scored = 0;
  double perplexity = 0;
  double perplexity_error = 0;  // llama-perplexity's "+/-"
  double mean_nll = 0;
};

// llama-perplexity --kl-divergence's statistics of one model against the base.
struct KldStats {
  double mean = 0;
  double mean_error = 0;
  double median = 0;
  double p90 = 0, p95 = 0, p99 = 0, p99_9 = 0;
  double max = 0, min = 0;
  double same_top_p = 0;  // a fraction, not a percentage
  double same_top_p_error = 0;
  double mean_dp = 0;  // mean q(tok) − p(tok), a fraction
  double mean_dp_error = 0;
  double rms_dp = 0;  // sqrt(mean Δp²), a fraction
  double rms_dp_error = 0;
  double ppl_base_16bit = 0;  // "Mean PPL(base)": from the 16-bit base log-probabilities
  double ln_ppl_ratio = 0;    // "Mean ln(PPL(Q)/PPL(base))", against the 16-bit base
  double ln_ppl_ratio_error = 0;
  double ppl_ratio = 0;  // PPL(Q) / PPL(base), both from F32 logits
};

struct EvalModelResult {
  std::string path;
  std::string type;  // the file's type name: "Q4_K_M", "F32", "int4-g128"
  bool is_base = false;
  PerplexityStats perplexity;
  std::optional<KldStats> kld;  // models other than the base, when there is one
};

struct EvalResult {
  int64_t n_ctx = 0;
  int64_t n_chunks = 0;
  int64_t n_tokens = 0;  // tokens of the text (or the ids given)
  int64_t n_scored = 0;  // per model: n_chunks · (n_ctx − 1 − n_ctx/2)
  bool bos_replaced = false;
  bool ggml_arithmetic = true;              // EvalJob::ggml_arithmetic
  KvCacheType kv_type = KvCacheType::kF16;  // EvalJob::kv_type of the evaluated models
  std::vector<EvalModelResult> results;     // the base first (if any), then each model in order
};

struct EvalProgress {
  int64_t done = 0;  // chunk evaluations done (a chunk counts once per model)
  int64_t total = 0;
};

struct EvalJob {
  std::vector<std::string> models;  // at least one
  std::optional<std::string> base;  // --base: KL divergence of each model against it
  // Exactly one of these: a text file (tokenized with the first model's tokenizer) or a
  // JSON file of token ids (an array, or an object with a "tokens" array).
  std::string text_file;
  std::string tokens_file;
  int64_t n_ctx = 512;     // llama-perplexity -c
  int64_t max_chunks = 0;  // --chunks; <= 0: all
  int n_threads = 0;       // <= 0: all hardware threads
  // Round activations as llama.cpp's CPU backend does before each matrix product (Q8_0 for
  // Q4_0/Q5_0/Q8_0 weights, Q8_K for K-quants, F16 for F16...) and keep q, k, v in F16, as
  // its default F16 KV cache; false: F32 activations throughout. Default: true.
  bool ggml_arithmetic = true;
  // The evaluated models' K/V storage (the base keeps F16): llama-perplexity -ctk T -ctv T
  // -fa on. Quantized types need ggml_arithmetic and a head size that is a multiple of 32,
  // as in llama.cpp (InvalidArgument otherwise).
  KvCacheType kv_type = KvCacheType::kF16;
  std::function<void(const EvalProgress&)> progress;  // optional, from the calling thread
  std::function<bool()> should_stop;                  // optional: true stops (Cancelled)
};

// Opens every model, reads the tokens, and runs all models over the same chunks a batch
// at a time (each model's weights read layer by layer per batch).
// Errors: InvalidArgument for n_ctx < 4 (llama-perplexity needs a scored half), fewer than
// 2·n_ctx tokens, or models whose vocabularies differ in size; the models' open errors
// (Unsupported for an architecture the forward pass does not run); the tokenizer's;
// Corruption for a token id outside the vocabulary, naming the token file and the index.
Result<EvalResult> RunEvalJob(const EvalJob& job);

}  // namespace qtk

#endif  // QTK_EVAL_EVAL_JOB_H_
