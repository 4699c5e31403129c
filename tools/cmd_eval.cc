// qtk eval MODEL... (--file TEXT | --tokens IDS.json) [--ctx N] [--chunks K] [--base MODEL]
// [--activations ggml|f32] [--kv-type f16|q8_0|q4_0] [--threads N] [--json]: perplexity, and KL
// divergence against a base, as llama-perplexity computes them, by one library job (RunEvalJob).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "commands.h"
#include "eval_render.h"
#include "logging.h"
#include "progress.h"
#include "qtk/eval/eval_job.h"
#include "signals.h"

namespace qtk::cli {
namespace {

struct EvalArgs {
  std::vector<std::string> models;
  std::string file;
  std::string tokens;
  std::string base;
  std::string activations = "ggml";
  std::string kv_type = "f16";
  int64_t ctx = 512;
  int64_t chunks = 0;
  int threads = 0;
  bool json = false;
  bool quiet = false;
};

int RunEval(const EvalArgs& args) {
  SetUpLogging(args.quiet ? Verbosity::kQuiet : Verbosity::kNormal);
  if (args.file.empty() == args.tokens.empty()) {
    return ReportError(Status::InvalidArgument("give either --file TEXT or --tokens IDS.json"));
  }
  if (args.activations != "ggml" && args.activations != "f32") {
    return ReportError(
        Status::InvalidArgument("--activations: '" + args.activations + "' is not ggml or f32"));
  }
  std::string kv = args.kv_type;
  std::transform(kv.begin(), kv.end(), kv.begin(), [](unsigned char c) { return std::tolower(c); });
  if (kv != "f16" && kv != "q8_0" && kv != "q4_0") {
    return ReportError(
        Status::InvalidArgument("--kv-type: '" + args.kv_type + "' is not f16, q8_0 or q4_0"));
  }
  InstallStopHandlers();
  // Chunks, counted once per model: the bar on a terminal only (no line per chunk).
  Progress progress(
      !args.quiet && isatty(STDERR_FILENO) != 0 ? Verbosity::kNormal : Verbosity::kQuiet, "chunks");
  EvalJob job;
  job.models = args.models;
  if (!args.base.empty()) job.base = args.base;
  job.text_file = args.file;
  job.tokens_file = args.tokens;
  job.n_ctx = args.ctx;
  job.max_chunks = args.chunks;
  job.n_threads = args.threads;
  job.ggml_arithmetic = args.activations == "ggml";
  job.kv_type = kv == "q8_0"   ? KvCacheType::kQ8_0
                : kv == "q4_0" ? KvCacheType::kQ4_0
                               : KvCacheType::kF16;
  job.should_stop = [] { return StopRequested(); };
  job.progress = [&](const EvalProgress& event) {
    progress.Update(static_cast<size_t>(event.done), static_cast<size_t>(event.total),
                    static_cast<uint64_t>(event.done), static_cast<uint64_t>(event.total),
                    "chunks evaluated");
  };
  Result<EvalResult> result = RunEvalJob(job);
  progress.Finish();
  if (!result.ok()) {
    if (result.status().code() == Status::Code::kCancelled) return StopExitCode();
    return ReportError(result.status());
  }
  const std::string out = args.json ? FormatEvalJson(*result) : FormatEvalText(*result);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitInputError;
}

}  // namespace

void AddEvalCommand(CLI::App& app, CommandRunner& runner) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* command = app.add_subcommand(
      "eval", "Perplexity of models on a text, and KL divergence against a base model");
  command->add_option("models", args->models, "Models to evaluate (GGUF, safetensors, directory)")
      ->required();
  command->add_option("-f,--file", args->file, "The text, tokenized with the model's tokenizer");
  command->add_option("--tokens", args->tokens,
                      "Token ids instead of a text: a JSON array, or an object with \"tokens\"");
  command->add_option("-c,--ctx", args->ctx, "Tokens per chunk (default 512)");
  command->add_option("--chunks", args->chunks, "Evaluate at most this many chunks (default all)");
  command->add_option("--base", args->base, "Base model: adds KL divergence against it");
  command->add_option("--activations", args->activations,
                      "ggml (default): round activations and q/k/v as llama.cpp's CPU backend "
                      "does; f32: F32 throughout");
  command->add_option("--kv-type", args->kv_type,
                      "K/V storage of the evaluated models (not the base): f16 (default), q8_0 "
                      "or q4_0, as llama.cpp's -ctk/-ctv with flash attention");
  command->add_option("-j,--threads", args->threads, "Threads (default: all)");
  command->add_flag("--json", args->json, "Print the qtk.eval/1 JSON document");
  command->add_flag("-q,--quiet", args->quiet, "No progress");
  command->callback([&runner, args] { runner.run = [args] { return RunEval(*args); }; });
}

}  // namespace qtk::cli
