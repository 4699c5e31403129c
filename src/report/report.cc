// BuildReport: sizes, then hypothetical sizes, deployment memory and quality.
#include "qtk/report/report.h"

#include <cmath>

namespace qtk {

uint64_t Report::deployed_bytes(size_t target_index) const {
  if (!hypothetical.empty()) {
    return static_cast<uint64_t>(std::llround(hypothetical[target_index].n_bytes));
  }
  return sizes.targets[target_index].file_bytes;
}

Result<Report> BuildReport(const ModelInput& input, const ReportOptions& options) {
  if (options.targets.empty()) return Status::InvalidArgument("no types to report on");
  Report report;
  report.input_path = input.path();
  report.input_description = input.Describe();
  QTK_ASSIGN_OR_RETURN(report.sizes, ReportSizes(input, options.targets, options.plan));
  report.hypothetical_params = options.hypothetical_params;
  if (options.hypothetical_params) {
    const double params = *options.hypothetical_params;
    for (const TargetSize& size : report.sizes.targets) {
      report.hypothetical.push_back({size.target.name, size.bits_per_weight(),
                                     params * size.bits_per_weight() / 8.0,
                                     params * size.nominal_bits / 8.0});
    }
  }
  std::vector<std::pair<std::string, uint64_t>> weights;
  for (size_t i = 0; i < report.sizes.targets.size(); ++i) {
    weights.emplace_back(report.sizes.targets[i].target.name, report.deployed_bytes(i));
  }
  QTK_ASSIGN_OR_RETURN(report.memory, ReportMemory(input.metadata(), weights, options.memory));
  report.sample_rows = options.quality.sample_rows;
  if (options.measure_quality) {
    QTK_ASSIGN_OR_RETURN(report.quality,
                         MeasureQuality(input, report.sizes.plans, options.quality));
    for (size_t i = 0; i < report.quality.size(); ++i) {
      report.quality[i].target = report.sizes.targets[i].target.name;
    }
    report.quality_measured = true;
  }
  return report;
}

std::vector<GateSubject> GateSubjects(const Report& report) {
  std::vector<GateSubject> subjects;
  const size_t n_kv_types = report.memory.options.kv_types.size();
  for (size_t i = 0; i < report.sizes.targets.size(); ++i) {
    GateSubject subject;
    subject.name = report.sizes.targets[i].target.name;
    subject.size_bytes = report.deployed_bytes(i);
    if (report.quality_measured && report.quality[i].unavailable.empty()) {
      subject.quality = report.quality[i].total;
    }
    if (report.memory.unavailable.empty() && n_kv_types > 0) {
      const MemoryRow& row = report.memory.rows[i * n_kv_types];
      subject.deploy_bytes = row.total_bytes();
      subject.deploy_what = "context " + std::to_string(report.memory.context) + ", batch " +
                            std::to_string(report.memory.options.batch) + ", " +
                            std::string(GgmlTypeName(row.kv_type)) + " kv cache";
    }
    subjects.push_back(std::move(subject));
  }
  return subjects;
}

}  // namespace qtk
