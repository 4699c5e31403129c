// Interpreting `qtk report`'s command line into ReportOptions, output format and gates.
#ifndef QTK_TOOLS_REPORT_ARGS_H_
#define QTK_TOOLS_REPORT_ARGS_H_

#include <string>
#include <vector>

#include "gate_args.h"
#include "qtk/report/report.h"
#include "report_format.h"

namespace qtk::cli {

// The types reported when --types is not given.
inline constexpr const char* kDefaultReportTypes =
    "F16,Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,int8-channel,int4-g128,nf4";

enum class ReportFormat { kText, kMarkdown, kCsv, kJson };

// The command line as CLI11 collected it.
struct ReportArgs {
  std::string path;
  std::vector<std::string> types;  // each may be a comma-separated list
  std::string format = "text";
  std::string table = "targets";  // --table, with --format csv
  std::string plot;
  std::string params;  // --params 7e9
  bool pure = false;
  bool no_quality = false;
  int64_t sample = 0;
  int threads = 0;
  bool quiet = false;
  bool verbose = false;
  DeploymentArgs deployment;
  GateArgs gates;
};

struct ReportJob {
  std::string path;
  ReportOptions options;
  ReportFormat format = ReportFormat::kText;
  CsvTable table = CsvTable::kTargets;
  std::string plot;
  Gates gates;
};

// Errors: InvalidArgument naming the option.
Result<ReportJob> InterpretReportArgs(const ReportArgs& args);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_REPORT_ARGS_H_
