#include "qtk/quant/metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace qtk {
namespace {

TEST_CASE("error stats of a hand-computed example", "[generic][metrics]") {
  const std::vector<float> x = {1, 2, 3};
  const std::vector<float> x_hat = {1, 2, 4};
  const ErrorStats stats = MeasureError(x, x_hat);
  CHECK(stats.n_elements == 3);
  CHECK(stats.sum_sq_error == 1);
  CHECK(stats.max_abs_error == 1);
  CHECK(stats.Rmse() == Approx(std::sqrt(1.0 / 3.0)));
  CHECK(stats.SnrDb() == Approx(10 * std::log10(14.0)));
  CHECK(stats.Cosine() == Approx(17.0 / (std::sqrt(14.0) * std::sqrt(21.0))));
}

TEST_CASE("error stats edge cases", "[generic][metrics]") {
  const ErrorStats empty;
  CHECK(empty.Rmse() == 0);
  CHECK(empty.Cosine() == 1);

  const std::vector<float> zeros(5, 0.0f);
  const std::vector<float> ones(5, 1.0f);
  const ErrorStats exact = MeasureError(ones, ones);
  CHECK(exact.SnrDb() == std::numeric_limits<double>::infinity());
  CHECK(exact.Cosine() == Approx(1.0));
  const ErrorStats lost = MeasureError(ones, zeros);
  CHECK(lost.SnrDb() == Approx(0.0));
  CHECK(lost.Cosine() == 0);
  const ErrorStats invented = MeasureError(zeros, ones);
  CHECK(invented.SnrDb() == -std::numeric_limits<double>::infinity());
  CHECK(MeasureError(zeros, zeros).Cosine() == 1);
}

TEST_CASE("error stats merge and do not depend on the thread count", "[generic][metrics]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(20000), x_hat(20000);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = normal(rng);
    x_hat[i] = x[i] + 0.01f * normal(rng);
  }
  const ErrorStats one = MeasureError(x, x_hat, 1);
  for (int threads : {2, 3, 8}) {
    const ErrorStats many = MeasureError(x, x_hat, threads);
    CHECK(many.sum_sq_error == one.sum_sq_error);
    CHECK(many.sum_product == one.sum_product);
    CHECK(many.max_abs_error == one.max_abs_error);
  }
  // Two halves merged give the whole, up to the order of the additions.
  const std::span<const float> xs(x), ys(x_hat);
  ErrorStats merged = MeasureError(xs.first(7000), ys.first(7000));
  merged.Merge(MeasureError(xs.subspan(7000), ys.subspan(7000)));
  CHECK(merged.n_elements == one.n_elements);
  CHECK(merged.sum_sq_error == Approx(one.sum_sq_error).epsilon(1e-12));
  CHECK(merged.Cosine() == Approx(one.Cosine()).epsilon(1e-12));
  CHECK(merged.max_abs_error == one.max_abs_error);
  CHECK(one.SnrDb() == Approx(40.0).margin(0.5));  // noise 1/100 of the signal
}

}  // namespace
}  // namespace qtk
