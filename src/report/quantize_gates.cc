// CheckPlanGates and CheckErrorGates: the gates' subjects made from plans and measurements.
#include "qtk/report/quantize_gates.h"

#include "qtk/report/compare.h"

namespace qtk {

Result<std::vector<std::string>> CheckPlanGates(const ModelInput& input,
                                                const std::vector<OutputPlan>& plans,
                                                const Gates& gates, const MemoryOptions& memory) {
  Gates size_gates;
  size_gates.max_size_bytes = gates.max_size_bytes;
  size_gates.max_size_text = gates.max_size_text;
  size_gates.must_fit_bytes = gates.must_fit_bytes;
  size_gates.must_fit_text = gates.must_fit_text;
  if (!size_gates.any()) return std::vector<std::string>();
  std::vector<std::pair<std::string, uint64_t>> weights;
  for (size_t i = 0; i < plans.size(); ++i) {
    weights.emplace_back(OutputTypeName(plans[i].spec), plans[i].layout.file_bytes());
  }
  QTK_ASSIGN_OR_RETURN(MemoryReport report, ReportMemory(input.metadata(), weights, memory));
  const size_t n_kv_types = memory.kv_types.size();
  std::vector<GateSubject> subjects;
  for (size_t i = 0; i < plans.size(); ++i) {
    GateSubject subject{OutputTypeName(plans[i].spec), plans[i].layout.file_bytes(), std::nullopt,
                        std::nullopt, ""};
    if (report.unavailable.empty() && n_kv_types > 0) {
      const MemoryRow& row = report.rows[i * n_kv_types];
      subject.deploy_bytes = row.total_bytes();
      subject.deploy_what = "context " + std::to_string(report.context) + ", batch " +
                            std::to_string(memory.batch) + ", " +
                            std::string(GgmlTypeName(row.kv_type)) + " kv cache";
    }
    subjects.push_back(std::move(subject));
  }
  return CheckGates(size_gates, subjects);
}

Result<std::vector<std::string>> CheckErrorGates(const ModelInput& input,
                                                 const std::vector<OutputPlan>& plans,
                                                 const Gates& gates, bool written, int n_threads) {
  if (!gates.needs_quality()) return std::vector<std::string>();
  Gates error_gates;
  error_gates.min_snr_db = gates.min_snr_db;
  error_gates.max_rmse = gates.max_rmse;
  std::vector<GateSubject> subjects;
  std::vector<TargetQuality> in_memory;
  if (!written) {
    QualityOptions options;
    options.n_threads = n_threads;
    QTK_ASSIGN_OR_RETURN(in_memory, MeasureQuality(input, plans, options));
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    GateSubject subject{OutputTypeName(plans[i].spec), plans[i].layout.file_bytes(), std::nullopt,
                        std::nullopt, ""};
    if (written) {
      QTK_ASSIGN_OR_RETURN(subject.quality, MeasureWrittenOutput(input, plans[i], n_threads));
    } else if (in_memory[i].unavailable.empty()) {
      subject.quality = in_memory[i].total;
    }
    subjects.push_back(std::move(subject));
  }
  return CheckGates(error_gates, subjects);
}

}  // namespace qtk
