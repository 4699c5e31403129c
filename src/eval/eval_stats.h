// The per-position arithmetic of llama-perplexity and the statistics over positions
// (internal to eval/). Each function cites the step of tools/perplexity/perplexity.cpp it
// reproduces; the formulas are in eval_job.h and docs/eval.md.
#ifndef QTK_EVAL_EVAL_STATS_H_
#define QTK_EVAL_EVAL_STATS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "qtk/eval/eval_job.h"

namespace qtk {

// nll of `token` under `logits`: max + log Σ expf(l − max) − l_tok, the sum in double.
double NegativeLogLikelihood(std::span<const float> logits, int32_t token);

// One position of the base model as --kl-divergence-base stores it: lmin = max(min l,
// max − 16), scale = (max − lmin)/65535, min_log_prob = lmin − max − log Σ exp(l − max),
// q_i = nearest_int((l_i − lmin)/scale) (0 where l_i <= lmin).
struct BaseLogProbs {
  float scale = 0;
  float min_log_prob = 0;
  std::vector<uint16_t> q;

  float LogProb(size_t i) const { return scale * static_cast<float>(q[i]) + min_log_prob; }
};
BaseLogProbs EncodeBaseLogProbs(std::span<const float> logits);

// What one scored position contributes to the KLD statistics.
struct KldPosition {
  double kld = 0;      // Σ over log p_i > −16 of p_i (log p_i − log q_i)
  float nll = 0;       // the model's
  float nll_base = 0;  // from the 16-bit base
  float p_diff = 0;    // q(tok) − p(tok)
  bool same_top = false;
};
KldPosition ComparePosition(const BaseLogProbs& base, std::span<const float> logits, int32_t token);

// Sums in the order positions are added (chunk order), so results do not depend on threads.
class PerplexityAccumulator {
 public:
  void Add(double nll);
  PerplexityStats Finish() const;

 private:
  int64_t n_ = 0;
  double sum_ = 0;
  double sum2_ = 0;
};

class KldAccumulator {
 public:
  void Add(const KldPosition& position);
  // REQUIRES: at least two positions added.
  KldStats Finish() const;

 private:
  std::vector<double> klds_;
  int64_t n_same_top_ = 0;
  double sum_kld_ = 0, sum_kld2_ = 0;
  double sum_nll_ = 0, sum_nll2_ = 0;
  double sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
  double sum_dp_ = 0, sum_dp2_ = 0, sum_dp4_ = 0;
};

// llama-perplexity's percentile: linear interpolation at fraction·(n − 1) of sorted values.
double Percentile(std::span<const double> sorted, double fraction);

}  // namespace qtk

#endif  // QTK_EVAL_EVAL_STATS_H_
