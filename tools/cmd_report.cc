// qtk report PATH [--types ...]: sizes, breakdown, deployment memory and weight error of a
// model in several precisions, without writing any model file; gates for CI.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "commands.h"
#include "logging.h"
#include "progress.h"
#include "report_args.h"
#include "signals.h"

namespace qtk::cli {
namespace {

Status WriteTextFile(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return Status::IOError(path + ": cannot write the plot");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status::IOError(path + ": cannot write the plot");
  }
  return Status::Ok();
}

std::string Render(const Report& report, const ReportJob& job,
                   const std::vector<std::string>& breaches) {
  switch (job.format) {
    case ReportFormat::kText:
      return FormatReportText(report);
    case ReportFormat::kMarkdown:
      return FormatReportMarkdown(report);
    case ReportFormat::kCsv:
      return FormatReportCsv(report, job.table);
    case ReportFormat::kJson:
      return FormatReportJson(report, breaches);
  }
  return "";
}

int RunReport(const ReportArgs& args) {
  SetUpLogging(args.quiet ? Verbosity::kQuiet : Verbosity::kNormal);
  Result<ReportJob> job = InterpretReportArgs(args);
  if (!job.ok()) return ReportError(job.status());
  Result<std::unique_ptr<ModelInput>> input = OpenModelInput(job->path);
  if (!input.ok()) return ReportError(input.status());
  InstallStopHandlers();
  const bool show_progress = !args.quiet && (args.verbose || isatty(STDERR_FILENO) != 0);
  Progress progress(show_progress ? (args.verbose ? Verbosity::kVerbose : Verbosity::kNormal)
                                  : Verbosity::kQuiet);
  job->options.quality.should_stop = [] { return StopRequested(); };
  job->options.quality.progress = [&](const QualityProgress& event) {
    progress.Update(event.tensor_index, event.n_tensors, event.tensor_index, event.n_tensors,
                    std::string(event.name));
  };
  Result<Report> report = BuildReport(**input, job->options);
  progress.Finish();
  if (!report.ok()) {
    if (report.status().code() == Status::Code::kCancelled) return StopExitCode();
    return ReportError(report.status());
  }
  const std::vector<std::string> breaches = CheckGates(job->gates, GateSubjects(*report));
  std::fputs(Render(*report, *job, breaches).c_str(), stdout);
  std::fflush(stdout);
  if (!job->plot.empty()) {
    const Status written = WriteTextFile(job->plot, FormatReportSvg(*report));
    if (!written.ok()) return ReportError(written);
  }
  return ReportBreaches(breaches);
}

}  // namespace

void AddReportCommand(CLI::App& app, CommandRunner& runner) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* command = app.add_subcommand(
      "report",
      "Sizes, memory and weight error of a model in several precisions (writes no model)");
  command->footer(std::string("Default types: ") + kDefaultReportTypes +
                  "\nExit codes: 0 ok, 1 input error, 2 usage error, 3 a gate failed. "
                  "See docs/report.md.");
  command->add_option("path", args->path, "GGUF file, safetensors file or model directory")
      ->required();
  command
      ->add_option("-t,--types,--type", args->types,
                   "Types to report on, comma-separated (llama.cpp types or qtk schemes)")
      ->allow_extra_args(false);
  command->add_option("--format", args->format, "text (default), markdown, csv or json");
  command->add_option("--table", args->table,
                      "With --format csv: targets (default), breakdown, memory or tensors");
  command->add_option("--plot", args->plot, "Also write an SVG figure to this file");
  command->add_option("--params", args->params,
                      "Also show sizes for a model of this many parameters, e.g. 7e9 or 70B");
  command->add_flag("--pure", args->pure, "Plan every quantizable tensor in the default type");
  command->add_flag("--no-quality", args->no_quality, "Skip the weight-error measurement");
  command->add_option("--sample", args->sample,
                      "Measure the error on this many evenly spaced rows per tensor (0: all)");
  command->add_option("-j,--threads", args->threads, "Threads (default: all)");
  command->add_flag("-q,--quiet", args->quiet, "No progress, no warnings");
  command->add_flag("-v,--verbose", args->verbose, "One progress line per tensor");
  AddDeploymentOptions(*command, args->deployment, /*with_budgets=*/true);
  AddGateOptions(*command, args->gates);
  command->callback([&runner, args] { runner.run = [args] { return RunReport(*args); }; });
}

}  // namespace qtk::cli
