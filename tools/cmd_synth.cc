// qtk synth OUT_DIR [--arch llama|llama3|qwen2|qwen3|qwen3moe] [--preset tiny|small|1b]
// [--seed N] [--dtype f32|f16|bf16]: write a deterministic Hugging Face checkpoint of one
// model family (qtk/synth/synth.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "qtk/base/units.h"
#include "qtk/synth/synth.h"

namespace qtk::cli {
namespace {

struct SynthCommandOptions {
  std::string out_dir;
  std::string arch = "llama";
  std::string preset = "tiny";
  uint64_t seed = 0;
  std::string dtype = "bf16";
  std::string max_shard_size = "1GB";
  int threads = 0;
  bool force = false;
};

// "5GB" (10^9), "512MiB" (2^20), "1000000": transformers' convert_file_size_to_int.
int RunSynth(const SynthCommandOptions& command) {
  SynthOptions options;
  options.arch = *ParseSynthArch(command.arch);  // CLI11 checked the names
  options.preset = *ParseSynthPreset(command.preset);
  options.dtype = *ParseSynthDtype(command.dtype);
  options.seed = command.seed;
  options.n_threads = command.threads;
  options.overwrite = command.force;
  const Result<uint64_t> shard_bytes = ParseByteSize(command.max_shard_size);
  if (!shard_bytes.ok()) return ReportError(shard_bytes.status().WithPrefix("--max-shard-size"));
  if (*shard_bytes == 0) {
    return ReportError(Status::InvalidArgument("--max-shard-size: must be more than 0 bytes"));
  }
  options.max_shard_bytes = *shard_bytes;
  if (isatty(STDERR_FILENO) != 0) {
    options.progress = [](const SynthProgress& p) {
      std::fprintf(stderr, "\rqtk: synth: %3d%% (%zu/%zu tensors)",
                   static_cast<int>(100.0 * static_cast<double>(p.bytes_done) /
                                    static_cast<double>(p.bytes_total)),
                   p.tensor_index, p.n_tensors);
      if (p.tensor_index == p.n_tensors) std::fprintf(stderr, "\n");
    };
  }
  Result<SynthResult> result = WriteSynthCheckpoint(command.out_dir, options);
  if (!result.ok()) return ReportError(result.status());
  std::printf("wrote %s: %s, preset %s, seed %" PRIu64 ", %s, %" PRIu64 " parameters, %" PRIu64
              " bytes of weights\n",
              command.out_dir.c_str(), command.arch.c_str(), command.preset.c_str(), command.seed,
              command.dtype.c_str(), result->n_parameters, result->n_data_bytes);
  for (const std::string& file : result->files) std::printf("  %s\n", file.c_str());
  return kExitOk;
}

}  // namespace

void AddSynthCommand(CLI::App& app, CommandRunner& runner) {
  auto options = std::make_shared<SynthCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "synth",
      "Write a deterministic Hugging Face checkpoint of a model family (no download needed)");
  command->add_option("out_dir", options->out_dir, "Directory to write the checkpoint into")
      ->required();
  std::vector<std::string> arch_names;
  for (SynthArch arch : SynthArchs()) arch_names.emplace_back(SynthArchName(arch));
  command
      ->add_option("--arch", options->arch,
                   "Model family: llama (Llama 2, SentencePiece), llama3, qwen2, qwen3, qwen3moe "
                   "(tokenizer.json BPE)")
      ->check(CLI::IsMember(arch_names))
      ->capture_default_str();
  command->add_option("--preset", options->preset, "Model size: tiny (1.7M), small (33M), 1b")
      ->check(CLI::IsMember({"tiny", "small", "1b"}))
      ->capture_default_str();
  command->add_option("--seed", options->seed, "Seed: the same seed gives the same bytes")
      ->capture_default_str();
  command->add_option("--dtype", options->dtype, "Weight dtype")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}))
      ->capture_default_str();
  command
      ->add_option("--max-shard-size", options->max_shard_size,
                   "Split the weights into shards of at most this size (5GB, 500MiB, bytes)")
      ->capture_default_str();
  command->add_option("-t,--threads", options->threads, "Threads (0: all cores)")
      ->capture_default_str();
  command->add_flag("-f,--force", options->force, "Overwrite existing files");
  command->callback([&runner, options] { runner.run = [options] { return RunSynth(*options); }; });
}

}  // namespace qtk::cli
