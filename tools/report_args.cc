#include "report_args.h"

#include <set>

#include "qtk/base/units.h"
#include "quantize_args.h"

namespace qtk::cli {
namespace {

Result<ReportFormat> ParseFormat(const std::string& text) {
  if (text == "text") return ReportFormat::kText;
  if (text == "markdown" || text == "md") return ReportFormat::kMarkdown;
  if (text == "csv") return ReportFormat::kCsv;
  if (text == "json") return ReportFormat::kJson;
  return Status::InvalidArgument("--format: '" + text + "' is not text, markdown, csv or json");
}

// Every listed type once, in the order given.
Result<std::vector<ReportTarget>> ParseTargets(const std::vector<std::string>& lists) {
  std::vector<std::string> names = SplitCommaList(lists);
  if (names.empty()) names = SplitCommaList({kDefaultReportTypes});
  std::vector<ReportTarget> targets;
  std::set<std::string> seen;
  for (const std::string& name : names) {
    Result<QuantizeTarget> target = ParseQuantizeTarget(name);
    if (!target.ok()) return target.status().WithPrefix("--types");
    if (!seen.insert(target->name).second) continue;
    targets.push_back({target->name, target->file_type, target->scheme});
  }
  return targets;
}

}  // namespace

Result<ReportJob> InterpretReportArgs(const ReportArgs& args) {
  ReportJob job;
  job.path = args.path;
  QTK_ASSIGN_OR_RETURN(job.format, ParseFormat(args.format));
  if (!ParseCsvTable(args.table, &job.table)) {
    return Status::InvalidArgument("--table: '" + args.table +
                                   "' is not targets, breakdown, memory or tensors");
  }
  if (args.table != "targets" && job.format != ReportFormat::kCsv) {
    return Status::InvalidArgument("--table only applies to --format csv");
  }
  job.plot = args.plot;
  QTK_ASSIGN_OR_RETURN(job.options.targets, ParseTargets(args.types));
  job.options.plan.pure = args.pure;
  if (!args.params.empty()) {
    Result<double> params = ParseCount(args.params);
    if (!params.ok()) return params.status().WithPrefix("--params");
    job.options.hypothetical_params = *params;
  }
  QTK_ASSIGN_OR_RETURN(job.options.memory, InterpretDeployment(args.deployment));
  QTK_ASSIGN_OR_RETURN(job.gates, InterpretGates(args.gates));
  if (args.sample < 0) {
    return Status::InvalidArgument("--sample: " + std::to_string(args.sample) +
                                   " must be 0 (every row) or a number of rows");
  }
  if (args.no_quality && job.gates.needs_quality()) {
    return Status::InvalidArgument("--min-snr and --max-rmse need the error: drop --no-quality");
  }
  job.options.measure_quality = !args.no_quality;
  job.options.quality.sample_rows = args.sample;
  job.options.quality.n_threads = args.threads;
  return job;
}

}  // namespace qtk::cli
