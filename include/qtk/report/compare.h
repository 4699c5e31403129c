// Comparing two files of the same model, tensor by tensor: the type and size of each tensor
// in both, and the error of B against A (A is the reference: x, B the reconstruction: x̂).
#ifndef QTK_REPORT_COMPARE_H_
#define QTK_REPORT_COMPARE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/model/model_input.h"
#include "qtk/plan/output_plan.h"
#include "qtk/quant/metrics.h"
#include "qtk/report/weight_source.h"

namespace qtk {

struct TensorComparison {
  std::string name;
  std::string type_a;
  std::string type_b;
  std::vector<int64_t> shape;
  uint64_t bytes_a = 0;
  uint64_t bytes_b = 0;
  ErrorStats stats;  // B against A
};

struct Comparison {
  std::string path_a, path_b;
  std::string description_a, description_b;
  uint64_t file_bytes_a = 0, file_bytes_b = 0;
  uint64_t tensor_bytes_a = 0, tensor_bytes_b = 0;  // of the tensors in both
  std::vector<TensorComparison> tensors;            // worst first: lowest SNR, then by name
  ErrorStats total;                                 // over every tensor in both
  std::vector<std::string> only_in_a;
  std::vector<std::string> only_in_b;
};

struct CompareProgress {
  size_t done = 0;
  size_t total = 0;
  std::string_view name;
};

struct CompareOptions {
  // Threads for decoding and measuring; <= 0: all hardware threads. Default: all.
  int n_threads = 0;
  std::function<void(const CompareProgress&)> progress;  // optional
  std::function<bool()> should_stop;                     // optional: true stops (Cancelled)
};

// Holds one tensor of each side at a time.
// Errors: InvalidArgument when a tensor's shape differs between the two (not the same
// model) or no tensor is in both; the sources' read errors.
Result<Comparison> CompareWeights(const WeightSource& a, const WeightSource& b,
                                  const CompareOptions& options);

// The error of a written output against its input over the tensors `plan` quantized, read
// back from plan.spec.path: the same figure MeasureQuality computes in memory (summed in the
// same order, so the same bits for ggml types and schemes alike).
// Errors: the file's read errors; InvalidArgument if it does not match the input.
Result<ErrorStats> MeasureWrittenOutput(const ModelInput& input, const OutputPlan& plan,
                                        int n_threads);

}  // namespace qtk

#endif  // QTK_REPORT_COMPARE_H_
