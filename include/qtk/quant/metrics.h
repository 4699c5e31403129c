// Quantization error metrics: how far a reconstruction x̂ is from the original x.
//
// ErrorStats accumulates, in one pass and in double precision, the sums every metric needs
// (Σ(x−x̂)², Σx², Σx̂², Σx·x̂, max|x−x̂|). Stats of disjoint pieces merge exactly into the stats
// of their union, so a report can measure chunks, tensors or whole models and add them up.
#ifndef QTK_QUANT_METRICS_H_
#define QTK_QUANT_METRICS_H_

#include <cstdint>
#include <span>

namespace qtk {

struct ErrorStats {
  int64_t n_elements = 0;
  double sum_sq_error = 0;   // Σ (x − x̂)²
  double sum_sq_signal = 0;  // Σ x²
  double sum_sq_recon = 0;   // Σ x̂²
  double sum_product = 0;    // Σ x·x̂
  double max_abs_error = 0;  // max |x − x̂|

  void Add(float x, float x_hat) {
    const double xd = x;
    const double yd = x_hat;
    const double error = xd - yd;
    ++n_elements;
    sum_sq_error += error * error;
    sum_sq_signal += xd * xd;
    sum_sq_recon += yd * yd;
    sum_product += xd * yd;
    const double abs_error = error < 0 ? -error : error;
    if (abs_error > max_abs_error) max_abs_error = abs_error;
  }

  // Adds the elements `other` measured (the sums of the union of both pieces).
  void Merge(const ErrorStats& other);

  // sqrt(Σ(x−x̂)² / n); 0 for no elements.
  double Rmse() const;
  // 10·log10(Σx² / Σ(x−x̂)²) in dB; +infinity when the error is exactly zero, -infinity when
  // the signal is zero but the error is not.
  double SnrDb() const;
  // Σx·x̂ / (‖x‖·‖x̂‖); 1 when both are all zeros, 0 when exactly one of them is.
  double Cosine() const;
};

// Stats of x against x_hat. The sums are accumulated over fixed blocks and merged in order,
// so the result is the same bits for any thread count.
// REQUIRES: x.size() == x_hat.size().
ErrorStats MeasureError(std::span<const float> x, std::span<const float> x_hat, int n_threads = 1);

}  // namespace qtk

#endif  // QTK_QUANT_METRICS_H_
