// The quality part of a report: every planned tensor quantized in memory, decoded and
// compared with the input, one input tensor at a time for all targets.
#include <cmath>

#include "qtk/quant/quantize.h"
#include "qtk/report/report.h"

namespace qtk {
namespace {

// The rows a measurement looks at: all of them, or `sample_rows` evenly spaced ones.
struct Sample {
  std::vector<float> values;  // empty: use the whole tensor
  std::vector<int64_t> shape;
};

Sample TakeSample(const InputTensor& tensor, std::span<const float> values, int64_t sample_rows) {
  Sample sample;
  const int64_t n_rows = tensor.n_rows();
  if (sample_rows <= 0 || sample_rows >= n_rows) return sample;
  const int64_t row_length = tensor.row_length();
  sample.values.resize(static_cast<size_t>(sample_rows * row_length));
  for (int64_t i = 0; i < sample_rows; ++i) {
    const int64_t row = i * n_rows / sample_rows;  // distinct, since sample_rows < n_rows
    std::copy_n(values.begin() + row * row_length, row_length,
                sample.values.begin() + i * row_length);
  }
  sample.shape = {row_length, sample_rows};
  return sample;
}

// The error of one planned tensor on `values` (rows of `shape`).
Result<ErrorStats> MeasureTensor(const PlannedTensor& tensor, std::span<const float> values,
                                 std::span<const int64_t> shape, int n_threads) {
  if (tensor.scheme) return MeasureScheme(*tensor.scheme, shape, values, n_threads);
  const int64_t row_length = shape.empty() ? 1 : shape[0];
  const int64_t n_rows = row_length == 0 ? 0 : static_cast<int64_t>(values.size()) / row_length;
  std::vector<uint8_t> bytes(static_cast<size_t>(n_rows) * GgmlRowBytes(tensor.type, row_length));
  QuantizeOptions options;
  options.n_threads = n_threads;
  QTK_RETURN_IF_ERROR(QuantizeRows(tensor.type, values, row_length, bytes, options));
  std::vector<float> decoded(values.size());
  QTK_RETURN_IF_ERROR(DequantizeRows(tensor.type, bytes, row_length, decoded, n_threads));
  return MeasureError(values, decoded, n_threads);
}

// For each plan, the position of each input tensor in it (-1: absent or not measured).
std::vector<std::vector<int64_t>> PositionsOf(const std::vector<OutputPlan>& plans,
                                              const std::vector<TargetQuality>& quality,
                                              size_t n_inputs) {
  std::vector<std::vector<int64_t>> positions(plans.size(), std::vector<int64_t>(n_inputs, -1));
  for (size_t p = 0; p < plans.size(); ++p) {
    if (!quality[p].unavailable.empty()) continue;
    for (size_t t = 0; t < plans[p].tensors.size(); ++t) {
      const PlannedTensor& tensor = plans[p].tensors[t];
      if (tensor.quantize) positions[p][tensor.input_index] = static_cast<int64_t>(t);
    }
  }
  return positions;
}

}  // namespace

const TensorError* TargetQuality::worst() const {
  const TensorError* worst = nullptr;
  for (const TensorError& tensor : tensors) {
    if (worst == nullptr || tensor.stats.SnrDb() < worst->stats.SnrDb()) worst = &tensor;
  }
  return worst;
}

Result<std::vector<TargetQuality>> MeasureQuality(const ModelInput& input,
                                                  const std::vector<OutputPlan>& plans,
                                                  const QualityOptions& options) {
  std::vector<TargetQuality> quality(plans.size());
  for (size_t p = 0; p < plans.size(); ++p) {
    const Status kernels = CheckKernelsExist(plans[p]);
    if (!kernels.ok()) quality[p].unavailable = kernels.message();
  }
  const auto& tensors = input.tensors();
  const auto positions = PositionsOf(plans, quality, tensors.size());
  std::vector<float> values;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (options.should_stop && options.should_stop()) return Status::Cancelled("interrupted");
    bool needed = false;
    for (const auto& by_input : positions) needed = needed || by_input[i] >= 0;
    if (needed) {
      const InputTensor& tensor = tensors[i];
      values.resize(static_cast<size_t>(tensor.n_elements()));
      QTK_RETURN_IF_ERROR(input.ReadF32(i, values, options.n_threads));
      const Sample sample = TakeSample(tensor, values, options.sample_rows);
      const std::span<const float> measured = sample.values.empty() ? values : sample.values;
      const std::vector<int64_t>& shape = sample.values.empty() ? tensor.shape : sample.shape;
      for (size_t p = 0; p < plans.size(); ++p) {
        if (positions[p][i] < 0) continue;
        const PlannedTensor& planned = plans[p].tensors[static_cast<size_t>(positions[p][i])];
        Result<ErrorStats> stats = MeasureTensor(planned, measured, shape, options.n_threads);
        if (!stats.ok()) {
          return stats.status().WithPrefix(input.path() + ": tensor '" + tensor.name + "' as " +
                                           planned.TypeName());
        }
        quality[p].total.Merge(*stats);
        quality[p].tensors.push_back({tensor.name, planned.TypeName(), *stats});
      }
      input.Release(i);
    }
    if (options.progress) options.progress({i + 1, tensors.size(), tensors[i].name});
  }
  for (size_t p = 0; p < plans.size(); ++p) quality[p].target = plans[p].spec.path;
  return quality;
}

}  // namespace qtk
