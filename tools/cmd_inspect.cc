// qtk inspect PATH [--json]: what a model holds (GGUF file, safetensors file, shard index or
// Hugging Face model directory). Reads headers only.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "qtk/model/model_source.h"
#include "qtk/report/inspect.h"
#include "signals.h"

namespace qtk::cli {
namespace {

struct InspectCommandOptions {
  std::string path;
  bool json = false;
};

int RunInspect(const InspectCommandOptions& options) {
  InstallFileSignalHandlers();
  Result<ModelSource> model = OpenModel(options.path);
  if (!model.ok()) {
    ReportError(model.status());
    return kExitInputError;  // whatever the reason, the input could not be read
  }
  const std::string text = options.json ? FormatInspectJson(*model) : FormatInspectText(*model);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitInputError;
}

}  // namespace

void AddInspectCommand(CLI::App& app, CommandRunner& runner) {
  auto options = std::make_shared<InspectCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "inspect", "Show what a GGUF file, safetensors file, shard index or model directory holds");
  command
      ->add_option("path", options->path, "GGUF file, safetensors file, index or model directory")
      ->required();
  command->add_flag("--json", options->json, "Print one JSON document on stdout");
  command->callback(
      [&runner, options] { runner.run = [options] { return RunInspect(*options); }; });
}

}  // namespace qtk::cli
