// Command-line options shared by `qtk report` and `qtk quantize`: the CI gates
// (--max-size, --min-snr, --max-rmse, --must-fit) and the deployment setting the memory
// figures assume (--context, --batch, --kv-types, --budget, --overhead, model shape).
#ifndef QTK_TOOLS_GATE_ARGS_H_
#define QTK_TOOLS_GATE_ARGS_H_

#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/report/gates.h"
#include "qtk/report/report.h"

namespace CLI {
class App;
}

namespace qtk::cli {

struct GateArgs {
  std::string max_size;
  std::string min_snr;
  std::string max_rmse;
  std::string must_fit;
};

struct DeploymentArgs {
  int64_t context = 0;  // 0: the model's
  int64_t batch = 1;
  std::vector<std::string> kv_types;  // each may be comma-separated
  std::vector<std::string> budgets;
  std::string overhead = "512MiB";
  double overhead_percent = 5;
  int64_t layers = 0;  // 0: the model's
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
};

void AddGateOptions(CLI::App& command, GateArgs& args);
// `with_budgets`: also --budget (report shows budgets; quantize only gates).
void AddDeploymentOptions(CLI::App& command, DeploymentArgs& args, bool with_budgets);

// Errors: InvalidArgument naming the option.
Result<Gates> InterpretGates(const GateArgs& args);
Result<MemoryOptions> InterpretDeployment(const DeploymentArgs& args);

// Splits "a,b,,c" into {"a", "b", "c"}.
std::vector<std::string> SplitCommaList(const std::vector<std::string>& lists);

// Prints "qtk: gate failed: <line>" for each breach on stderr; returns kExitGateFailed
// when there is one, kExitOk otherwise.
int ReportBreaches(const std::vector<std::string>& breaches);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_GATE_ARGS_H_
