// Gates for CI pipelines: limits a quantization must meet (size, error, memory fit).
// `qtk report` and `qtk quantize` exit with code 3 and print one line per breach.
#ifndef QTK_REPORT_GATES_H_
#define QTK_REPORT_GATES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qtk/quant/metrics.h"

namespace qtk {

struct Gates {
  std::optional<uint64_t> max_size_bytes;  // --max-size: the output file (or hypothetical) size
  std::string max_size_text;               // as the user wrote it, for messages
  std::optional<double> min_snr_db;        // --min-snr: over all quantized tensors
  std::optional<double> max_rmse;          // --max-rmse: over all quantized tensors
  std::optional<uint64_t> must_fit_bytes;  // --must-fit: weights + KV cache + overhead
  std::string must_fit_text;

  bool any() const { return max_size_bytes || min_snr_db || max_rmse || must_fit_bytes; }
  bool needs_quality() const { return min_snr_db || max_rmse; }
};

// What one output is checked on. Absent figures are breaches of the gates that need them
// (a gate never passes silently).
struct GateSubject {
  std::string name;  // "Q4_K_M"
  uint64_t size_bytes = 0;
  std::optional<ErrorStats> quality;
  std::optional<uint64_t> deploy_bytes;  // weights + KV cache + overhead
  std::string deploy_what;               // "context 4096, batch 1, F16 cache"
};

// One line per breach, e.g.
//   "Q8_0: size 1,828,192 bytes (1.83 MB) is above --max-size 1MB (1,000,000 bytes)"
//   "Q2_K: snr 12.41 dB is below --min-snr 20"
//   "F16: needs 15,123,456,789 bytes (15.12 GB) at context 4096, batch 1, F16 kv cache, above
//    --must-fit 8GB (8,000,000,000 bytes)"
std::vector<std::string> CheckGates(const Gates& gates, const std::vector<GateSubject>& subjects);

}  // namespace qtk

#endif  // QTK_REPORT_GATES_H_
