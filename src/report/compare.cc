// CompareWeights: B against A, tensor by tensor, worst first.
#include "qtk/report/compare.h"

#include <algorithm>
#include <map>

namespace qtk {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// Lowest SNR first; exact tensors (infinite SNR) last; ties by name.
bool WorseFirst(const TensorComparison& x, const TensorComparison& y) {
  const double snr_x = x.stats.SnrDb();
  const double snr_y = y.stats.SnrDb();
  if (snr_x != snr_y) return snr_x < snr_y;
  return x.name < y.name;
}

}  // namespace

Result<Comparison> CompareWeights(const WeightSource& a, const WeightSource& b,
                                  const CompareOptions& options) {
  Comparison result;
  result.path_a = a.path();
  result.path_b = b.path();
  result.description_a = a.Describe();
  result.description_b = b.Describe();
  result.file_bytes_a = a.file_bytes();
  result.file_bytes_b = b.file_bytes();
  std::map<std::string, size_t> in_b;
  for (size_t j = 0; j < b.weights().size(); ++j) in_b[b.weights()[j].name] = j;
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < a.weights().size(); ++i) {
    const WeightInfo& wa = a.weights()[i];
    const auto found = in_b.find(wa.name);
    if (found == in_b.end()) {
      result.only_in_a.push_back(wa.name);
      continue;
    }
    const WeightInfo& wb = b.weights()[found->second];
    if (wa.shape != wb.shape) {
      return Status::InvalidArgument("tensor '" + wa.name + "': shape " + ShapeText(wa.shape) +
                                     " in " + a.path() + ", " + ShapeText(wb.shape) + " in " +
                                     b.path() + "; these are not the same model");
    }
    pairs.emplace_back(i, found->second);
    in_b.erase(found);
  }
  for (const auto& [name, j] : in_b) result.only_in_b.push_back(name);
  if (pairs.empty()) {
    return Status::InvalidArgument(a.path() + " and " + b.path() + " have no tensor in common");
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    if (options.should_stop && options.should_stop()) return Status::Cancelled("interrupted");
    const auto [i, j] = pairs[k];
    const WeightInfo& wa = a.weights()[i];
    const WeightInfo& wb = b.weights()[j];
    QTK_ASSIGN_OR_RETURN(std::vector<float> x, a.ReadF32(i, options.n_threads));
    QTK_ASSIGN_OR_RETURN(std::vector<float> x_hat, b.ReadF32(j, options.n_threads));
    TensorComparison tensor{wa.name,
                            wa.type,
                            wb.type,
                            wa.shape,
                            wa.n_bytes,
                            wb.n_bytes,
                            MeasureError(x, x_hat, options.n_threads)};
    a.Release(i);
    b.Release(j);
    result.total.Merge(tensor.stats);
    result.tensor_bytes_a += wa.n_bytes;
    result.tensor_bytes_b += wb.n_bytes;
    result.tensors.push_back(std::move(tensor));
    if (options.progress) options.progress({k + 1, pairs.size(), wa.name});
  }
  std::sort(result.tensors.begin(), result.tensors.end(), WorseFirst);
  return result;
}

Result<ErrorStats> MeasureWrittenOutput(const ModelInput& input, const OutputPlan& plan,
                                        int n_threads) {
  QTK_ASSIGN_OR_RETURN(std::unique_ptr<ModelInput> output, OpenModelInput(plan.spec.path));
  const std::unique_ptr<WeightSource> written = WeightsOf(std::move(output));
  const std::unique_ptr<WeightSource> source = WeightSourceOf(input);
  CompareOptions options;
  options.n_threads = n_threads;
  QTK_ASSIGN_OR_RETURN(Comparison comparison, CompareWeights(*source, *written, options));
  std::map<std::string, const ErrorStats*> by_name;
  for (const TensorComparison& tensor : comparison.tensors) by_name[tensor.name] = &tensor.stats;
  std::vector<const PlannedTensor*> quantized;
  for (const PlannedTensor& tensor : plan.tensors) {
    if (tensor.quantize) quantized.push_back(&tensor);
  }
  std::sort(quantized.begin(), quantized.end(), [](const PlannedTensor* x, const PlannedTensor* y) {
    return x->input_index < y->input_index;
  });
  ErrorStats total;
  for (const PlannedTensor* tensor : quantized) {
    const auto found = by_name.find(tensor->name);
    if (found == by_name.end()) {
      return Status::InvalidArgument(plan.spec.path + ": tensor '" + tensor->name + "' is missing");
    }
    total.Merge(*found->second);
  }
  return total;
}

}  // namespace qtk
