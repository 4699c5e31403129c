// qtk compare A B: two files of the same model, tensor by tensor (B's error against A).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "compare_format.h"
#include "logging.h"
#include "progress.h"
#include "signals.h"

namespace qtk::cli {
namespace {

struct CompareArgs {
  std::string a;
  std::string b;
  std::string format = "text";
  int threads = 0;
  bool quiet = false;
};

int RunCompare(const CompareArgs& args) {
  SetUpLogging(args.quiet ? Verbosity::kQuiet : Verbosity::kNormal);
  if (args.format != "text" && args.format != "markdown" && args.format != "md" &&
      args.format != "csv" && args.format != "json") {
    return ReportError(Status::InvalidArgument("--format: '" + args.format +
                                               "' is not text, markdown, csv or json"));
  }
  Result<std::unique_ptr<ModelInput>> input_a = OpenModelInput(args.a);
  if (!input_a.ok()) return ReportError(input_a.status());
  Result<std::unique_ptr<ModelInput>> input_b = OpenModelInput(args.b);
  if (!input_b.ok()) return ReportError(input_b.status());
  const std::unique_ptr<WeightSource> a = WeightsOf(std::move(*input_a));
  const std::unique_ptr<WeightSource> b = WeightsOf(std::move(*input_b));
  InstallStopHandlers();
  Progress progress(!args.quiet && isatty(STDERR_FILENO) != 0 ? Verbosity::kNormal
                                                              : Verbosity::kQuiet);
  CompareOptions options;
  options.n_threads = args.threads;
  options.should_stop = [] { return StopRequested(); };
  options.progress = [&](const CompareProgress& event) {
    progress.Update(event.done, event.total, event.done, event.total, std::string(event.name));
  };
  Result<Comparison> comparison = CompareWeights(*a, *b, options);
  progress.Finish();
  if (!comparison.ok()) {
    if (comparison.status().code() == Status::Code::kCancelled) return StopExitCode();
    return ReportError(comparison.status());
  }
  std::string out;
  if (args.format == "text") out = FormatCompareText(*comparison);
  if (args.format == "markdown" || args.format == "md") out = FormatCompareMarkdown(*comparison);
  if (args.format == "csv") out = FormatCompareCsv(*comparison);
  if (args.format == "json") out = FormatCompareJson(*comparison);
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace

void AddCompareCommand(CLI::App& app, CommandRunner& runner) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* command = app.add_subcommand(
      "compare", "Compare two files of the same model tensor by tensor (error of B against A)");
  command->add_option("a", args->a, "Reference model (GGUF file, safetensors, model directory)")
      ->required();
  command->add_option("b", args->b, "Model to compare with it")->required();
  command->add_option("--format", args->format, "text (default), markdown, csv or json");
  command->add_option("-j,--threads", args->threads, "Threads (default: all)");
  command->add_flag("-q,--quiet", args->quiet, "No progress");
  command->callback([&runner, args] { runner.run = [args] { return RunCompare(*args); }; });
}

}  // namespace qtk::cli
