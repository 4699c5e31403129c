// llama-perplexity's per-position arithmetic (perplexity.cpp: log_softmax and its KLD
// variant, the --kl-divergence-base encoding, the final statistics), in the same types.
#include "eval/eval_stats.h"

#include <algorithm>
#include <cmath>

namespace qtk {
namespace {

struct SoftmaxSummary {
  float max = 0;
  size_t argmax = 0;  // the first maximum
  float min = 0;
  double sum_exp = 0;
};

SoftmaxSummary Summarize(std::span<const float> logits) {
  SoftmaxSummary s;
  s.max = logits[0];
  s.min = logits[0];
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > s.max) {
      s.max = logits[i];
      s.argmax = i;
    }
    s.min = std::min(s.min, logits[i]);
  }
  for (float l : logits) s.sum_exp += std::exp(l - s.max);
  return s;
}

// sqrt(max(x, 0)): the variance estimates can round below zero.
double SafeSqrt(double x) { return x > 0 ? std::sqrt(x) : 0.0; }

}  // namespace

double NegativeLogLikelihood(std::span<const float> logits, int32_t token) {
  const SoftmaxSummary s = Summarize(logits);
  // perplexity.cpp: log_prob = l_tok − max − log(sum_exp), in double.
  return -(static_cast<double>(logits[token]) - s.max - std::log(s.sum_exp));
}

BaseLogProbs EncodeBaseLogProbs(std::span<const float> logits) {
  const SoftmaxSummary s = Summarize(logits);
  const float min_logit = std::max(s.min, s.max - 16);
  const float log_sum_exp = static_cast<float>(std::log(s.sum_exp));
  BaseLogProbs base;
  base.min_log_prob = min_logit - s.max - log_sum_exp;
  base.scale = (s.max - min_logit) / 65535.f;
  base.q.assign(logits.size(), 0);
  if (base.scale != 0) {
    const float inverse = 1 / base.scale;
    for (size_t i = 0; i < logits.size(); ++i) {
      // ggml's nearest_int rounds half to even, as nearbyint does by default.
      if (logits[i] > min_logit) {
        base.q[i] = static_cast<uint16_t>(std::nearbyint(inverse * (logits[i] - min_logit)));
      }
    }
  }
  return base;
}

KldPosition ComparePosition(const BaseLogProbs& base, std::span<const float> logits,
                            int32_t token) {
  const SoftmaxSummary s = Summarize(logits);
  const float log_sum_exp = static_cast<float>(std::log(s.sum_exp));
  KldPosition position;
  position.nll = s.max + log_sum_exp - logits[token];
  position.nll_base = -base.LogProb(token);
  const float log_normalizer = s.max + log_sum_exp;  // log q_i = l_i − log_normalizer
  double kld = 0;
  size_t argmax_base = 0;
  float max_base = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float log_p = base.LogProb(i);
    if (i == 0 || log_p > max_base) {
      max_base = log_p;
      argmax_base = i;
    }
    if (log_p > -16.f) kld += std::exp(log_p) * (log_p - logits[i] + log_normalizer);
  }
  position.kld = kld;
  position.same_top = argmax_base == s.argmax;
  position.p_diff = std::exp(-position.nll) - std::exp(-position.nll_base);
  return position;
}

void PerplexityAccumulator::Add(double nll) {
  ++n_;
  sum_ += nll;
  sum2_ += nll * nll;
}

PerplexityStats PerplexityAccumulator::Finish() const {
  PerplexityStats stats;
  stats.n_scored = n_;
  if (n_ == 0) return stats;
  const double mean = sum_ / static_cast<double>(n_);
  const double variance = sum2_ / static_cast<double>(n_) - mean * mean;
  stats.mean_nll = mean;
  stats.perplexity = std::exp(mean);
  stats.perplexity_error =
      n_ > 1 ? stats.perplexity * SafeSqrt(variance / static_cast<double>(n_ - 1)) : 0.0;
  return stats;
}

void KldAccumulator::Add(const KldPosition& p) {
  klds_.push_back(p.kld);
  sum_kld_ += p.kld;
  sum_kld2_ += p.kld * p.kld;
  sum_nll_ += p.nll;
  sum_nll2_ += static_cast<double>(p.nll) * p.nll;
  sum_nll_base_ += p.nll_base;
  sum_nll_base2_ += static_cast<double>(p.nll_base) * p.nll_base;
  sum_nll_nll_base_ += static_cast<double>(p.nll) * p.nll_base;
  const double dp2 = static_cast<double>(p.p_diff) * p.p_diff;
  sum_dp_ += p.p_diff;
  sum_dp2_ += dp2;
  sum_dp4_ += dp2 * dp2;
  if (p.same_top) ++n_same_top_;
}

double Percentile(std::span<const double> sorted, double fraction) {
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  double at = fraction * static_cast<double>(sorted.size() - 1);
  const size_t index = static_cast<size_t>(at);
  at -= static_cast<double>(index);
  return (1 - at) * sorted[index] + at * sorted[std::min(index + 1, sorted.size() - 1)];
}

KldStats KldAccumulator::Finish() const {
  const double n = static_cast<double>(klds_.size());
  KldStats stats;
  stats.mean = sum_kld_ / n;
  stats.mean_error = SafeSqrt((sum_kld2_ / n - stats.mean * stats.mean) / (n - 1));

  std::vector<double> sorted = klds_;
  std::sort(sorted.begin(), sorted.end());
  const size_t half = sorted.size() / 2;
  stats.median = sorted.size() % 2 == 0 ? 0.5 * (sorted[half - 1] + sorted[half]) : sorted[half];
  stats.p90 = Percentile(sorted, 0.90);
  stats.p95 = Percentile(sorted, 0.95);
  stats.p99 = Percentile(sorted, 0.99);
  stats.p99_9 = Percentile(sorted, 0.999);
  stats.max = sorted.back();
  stats.min = sorted.front();

  stats.same_top_p = static_cast<double>(n_same_top_) / n;
  stats.same_top_p_error = SafeSqrt(stats.same_top_p * (1 - stats.same_top_p) / (n - 1));

  stats.mean_dp = sum_dp_ / n;
  stats.mean_dp_error = SafeSqrt((sum_dp2_ / n - stats.mean_dp * stats.mean_dp) / (n - 1));
  const double mse = sum_dp2_ / n;
  const double mse_error = SafeSqrt((sum_dp4_ / n - mse * mse) / (n - 1));
  stats.rms_dp = std::sqrt(mse);
  stats.rms_dp_error = stats.rms_dp > 0 ? 0.5 / stats.rms_dp * mse_error : 0.0;

  const double mean_nll = sum_nll_ / n;
  const double mean_nll_base = sum_nll_base_ / n;
  stats.ppl_base_16bit = std::exp(mean_nll_base);
  stats.ln_ppl_ratio = mean_nll - mean_nll_base;
  // var(nll − nll_base) = var(nll) + var(nll_base) − 2 cov, as perplexity.cpp computes it.
  const double var_nll = sum_nll2_ / n - mean_nll * mean_nll;
  const double var_base = sum_nll_base2_ / n - mean_nll_base * mean_nll_base;
  const double cov = sum_nll_nll_base_ / n - mean_nll * mean_nll_base;
  stats.ln_ppl_ratio_error = SafeSqrt((var_nll + var_base - 2 * cov) / (n - 1));
  return stats;
}

}  // namespace qtk
