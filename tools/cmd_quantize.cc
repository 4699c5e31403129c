// qtk quantize [options] IN [OUT] TYPE [NTHREADS]: llama-quantize's command line, for GGUF
// and Hugging Face inputs, several output types in one pass.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "gate_args.h"
#include "logging.h"
#include "progress.h"
#include "qtk/pipeline/quantize_job.h"
#include "quantize_args.h"
#include "quantize_report.h"
#include "signals.h"

namespace qtk::cli {
namespace {

struct QuantizeFlags {
  QuantizeArgs args;
  bool quiet = false;
  bool verbose = false;
  bool json = false;
  GateArgs gates;
  DeploymentArgs deployment;
};

void LogLine(LogLevel level, const std::string& line) {
  if (level == LogLevel::kWarning) {
    spdlog::warn("{}", line);
  } else {
    spdlog::info("{}", line);
  }
}

// --dry-run: each output's plan, and a warning where a kernel is missing.
void PrintPlans(const std::vector<OutputPlan>& plans) {
  for (const OutputPlan& plan : plans) {
    std::printf("plan for %s\n%s", plan.spec.path.c_str(), FormatPlanTable(plan).c_str());
    Status kernels = CheckKernelsExist(plan);
    if (!kernels.ok()) spdlog::warn("{}", kernels.message());
  }
}

int RunQuantize(const QuantizeFlags& flags) {
  const Verbosity verbosity = flags.quiet     ? Verbosity::kQuiet
                              : flags.verbose ? Verbosity::kVerbose
                                              : Verbosity::kNormal;
  SetUpLogging(verbosity);
  InstallFileSignalHandlers();
  const auto start = std::chrono::steady_clock::now();
  Result<QuantizeJob> job = InterpretQuantizeArgs(flags.args);
  if (!job.ok()) return ReportError(job.status());
  Result<Gates> gates = InterpretGates(flags.gates);
  if (!gates.ok()) return ReportError(gates.status());
  Result<MemoryOptions> memory = InterpretDeployment(flags.deployment);
  if (!memory.ok()) return ReportError(memory.status());
  job->gates = *gates;
  job->memory = *memory;
  const bool dry_run = job->dry_run;

  Progress progress(flags.json && verbosity == Verbosity::kNormal ? Verbosity::kQuiet : verbosity);
  const std::vector<OutputPlan>* planned = nullptr;
  if (!dry_run) {
    InstallStopHandlers();
    job->options.should_stop = [] { return StopRequested(); };
    job->options.progress = [&](const ProgressEvent& event) {
      progress.Update(event.tensor_index, event.n_tensors, event.input_bytes_done,
                      event.input_bytes_total, FormatTensorLine(*planned, event.tensor_index - 1));
    };
  }
  QuantizeJobCallbacks callbacks;
  callbacks.log = LogLine;
  callbacks.planned = [&](const std::vector<OutputPlan>& plans) { planned = &plans; };
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(*job), callbacks);
  progress.Finish();
  if (!result.ok()) {
    if (result.status().code() == Status::Code::kCancelled) {
      std::fprintf(stderr, "qtk: interrupted; no output was written\n");
      return StopExitCode();
    }
    return ReportError(result.status());
  }
  if (!result->size_breaches.empty()) return ReportBreaches(result->size_breaches);
  if (dry_run && !flags.json && !flags.quiet) PrintPlans(result->plans);
  if (result->summary && result->summary->n_nonfinite_zeroed > 0) {
    spdlog::warn("replaced {} nan/inf values with 0 (--nan-policy zero)",
                 result->summary->n_nonfinite_zeroed);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (flags.json) {
    std::fputs(FormatJsonReport(*result->input, result->plans, dry_run, seconds).c_str(), stdout);
  } else if (!flags.quiet) {
    std::fputs(FormatSizeReport(*result->input, result->plans, dry_run).c_str(), stdout);
  }
  std::fflush(stdout);
  return ReportBreaches(result->error_breaches);
}

}  // namespace

void AddQuantizeCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<QuantizeFlags>();
  QuantizeArgs& a = flags->args;
  CLI::App* command = app.add_subcommand(
      "quantize", "Quantize a GGUF file or a Hugging Face checkpoint into llama.cpp-ready GGUF");
  command->footer(
      "Types: llama.cpp file types (Q4_K_M, Q5_K_M, Q6_K, Q8_0, Q4_0, IQ4_XS, F16, BF16, F32, "
      "...)\nor their numeric ids. See docs/quantize.md.");
  command->add_option("args", a.positionals, "IN [OUT] TYPE [NTHREADS], as llama-quantize")
      ->expected(1, 4)
      ->required();
  command->add_option("-t,--type", a.types, "Output type(s); repeat or comma-separate")
      ->allow_extra_args(false);
  command->add_option("-o,--output", a.output_pattern,
                      "Output path; '{type}' is replaced by each type's name");
  command->add_option("-j,--threads", a.threads, "Threads (default: all)");
  command->add_flag("--pure", a.pure, "Every quantizable tensor gets the default type");
  command->add_option("--output-tensor-type", a.output_tensor_type, "Type for output.weight");
  command->add_option("--token-embedding-type", a.token_embedding_type,
                      "Type for token_embd.weight");
  command
      ->add_option("--tensor-type", a.tensor_types,
                   "PATTERN=TYPE: tensors matching the regex get TYPE (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--tensor-type-file", a.tensor_type_file, "A file of PATTERN=TYPE lines");
  command->add_flag("--leave-output-tensor", a.leave_output_tensor, "Keep output.weight as it is");
  command->add_flag("--allow-requantize", a.allow_requantize,
                    "Allow quantizing tensors that are already quantized");
  command
      ->add_option("--override-kv", a.override_kv,
                   "KEY=TYPE:VALUE metadata to set (int, float, bool, str; repeatable)")
      ->allow_extra_args(false);
  command->add_flag("--keep-split", a.keep_split, "Keep a split input's shards");
  command->add_flag("--dry-run", a.dry_run, "Print the plan and the exact sizes; write nothing");
  command->add_option("--imatrix", a.imatrix, "Importance matrix from llama-imatrix");
  command
      ->add_option("--include-weights", a.include_weights,
                   "Use the importance matrix only for these tensors")
      ->allow_extra_args(false);
  command
      ->add_option("--exclude-weights", a.exclude_weights,
                   "Do not use the importance matrix for these tensors")
      ->allow_extra_args(false);
  command->add_option(
      "--vocab-pre", a.vocab_pre,
      "Model directory with a BPE tokenizer whose pre-tokenizer convert_hf_to_gguf.py "
      "does not recognize: the tokenizer.ggml.pre name to write (llama-bpe, qwen2, ...)");
  command->add_option("--nan-policy", a.nan_policy,
                      "What to do with NaN/Inf weights: refuse (default), zero, keep");
  command->add_flag("-f,--force", a.force, "Overwrite existing output files");
  command->add_flag("-q,--quiet", flags->quiet, "Print nothing but errors");
  command->add_flag("-v,--verbose", flags->verbose, "One line per tensor");
  command->add_flag("--json", flags->json, "Print a JSON summary on stdout");
  AddGateOptions(*command, flags->gates);
  AddDeploymentOptions(*command, flags->deployment, /*with_budgets=*/false);
  command->callback([&runner, flags] { runner.run = [flags] { return RunQuantize(*flags); }; });
}

}  // namespace qtk::cli
