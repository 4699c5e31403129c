// llama-perplexity's per-position arithmetic and statistics on values worked out by hand.
#include "eval/eval_stats.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace qtk {
namespace {

TEST_CASE("eval stats: nll is log-sum-exp minus the token's logit", "[eval]") {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(NegativeLogLikelihood(logits, 0) == Approx(lse - 1.0).epsilon(1e-6));
  CHECK(NegativeLogLikelihood(logits, 2) == Approx(lse - 3.0).epsilon(1e-6));
}

TEST_CASE("eval stats: the 16-bit base keeps log-probabilities to 16/65535", "[eval]") {
  const std::vector<float> logits = {0.5f, -3.0f, 4.0f, -30.0f, 4.0f};
  const BaseLogProbs base = EncodeBaseLogProbs(logits);
  CHECK(base.scale == Approx(16.0f / 65535.f));  // max − lmin = 16: −30 is clamped
  const double lse = std::log(std::exp(0.5) + std::exp(-3.0) + 2 * std::exp(4.0) + std::exp(-30.0));
  for (size_t i : {0, 1, 2, 4}) {
    CHECK(base.LogProb(i) == Approx(logits[i] - lse).margin(2e-4));
  }
  CHECK(base.q[3] == 0);  // at or below max − 16
  CHECK(base.LogProb(3) == Approx(4.0 - 16.0 - lse).margin(1e-5));

  // A model equal to the base: KLD ≈ 0, same top (the first maximum, index 2), Δp ≈ 0.
  const KldPosition same = ComparePosition(base, logits, 0);
  CHECK(std::abs(same.kld) < 1e-4);
  CHECK(same.same_top);
  CHECK(std::abs(same.p_diff) < 1e-4);
  // Another argmax: not the same top, and a positive KLD.
  const std::vector<float> other = {0.5f, -3.0f, 3.0f, -30.0f, 4.5f};
  const KldPosition diff = ComparePosition(base, other, 0);
  CHECK_FALSE(diff.same_top);
  CHECK(diff.kld > 0.1);
}

TEST_CASE("eval stats: perplexity and its error as llama-perplexity prints them", "[eval]") {
  PerplexityAccumulator accumulator;
  for (double nll : {1.0, 2.0, 3.0, 2.0}) accumulator.Add(nll);
  const PerplexityStats stats = accumulator.Finish();
  CHECK(stats.n_scored == 4);
  CHECK(stats.perplexity == Approx(std::exp(2.0)));
  // var = mean(nll²) − mean² = 4.5 − 4 = 0.5; error = PPL · sqrt(0.5 / 3).
  CHECK(stats.perplexity_error == Approx(std::exp(2.0) * std::sqrt(0.5 / 3)));
}

TEST_CASE("eval stats: percentiles interpolate at fraction·(n − 1)", "[eval]") {
  const std::vector<double> sorted = {0.0, 1.0, 2.0, 3.0, 4.0, 10.0};
  CHECK(Percentile(sorted, 0.5) == Approx(2.5));
  CHECK(Percentile(sorted, 0.9) == Approx(4.0 + 0.5 * 6.0));
  CHECK(Percentile(sorted, 0.0) == 0.0);
  CHECK(Percentile(sorted, 1.0) == 10.0);

  KldAccumulator kld;
  for (double value : {0.0, 1.0, 2.0, 3.0, 4.0, 10.0}) {
    KldPosition position;
    position.kld = value;
    position.same_top = value < 2.5;
    kld.Add(position);
  }
  const KldStats stats = kld.Finish();
  CHECK(stats.mean == Approx(20.0 / 6));
  CHECK(stats.median == Approx(2.5));
  CHECK(stats.max == 10.0);
  CHECK(stats.same_top_p == Approx(0.5));
  CHECK(stats.same_top_p_error == Approx(std::sqrt(0.25 / 5)));
}

}  // namespace
}  // namespace qtk
