// qtk inspect PATH [--json]: what a model file holds.
#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "format.h"
#include "qtk/gguf.h"
#include "signals.h"

namespace qtk::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
};

int RunInspect(const InspectOptions& options) {
  InstallFileSignalHandlers();
  Result<GgufFile> file = ReadGgufFile(options.path);
  if (!file.ok()) return ReportError(file.status());
  std::printf("format: gguf v%u\n", file->version());
  for (const GgufKeyValue& kv : file->metadata()) {
    std::printf("  %-40s %-4s %s\n", Escaped(kv.key).c_str(),
                std::string(GgufValueTypeName(kv.value.type())).c_str(),
                kv.value.ToDisplayString().c_str());
  }
  for (const GgufTensorInfo& info : file->tensors()) {
    std::printf("  %-40s %-6s %" PRIu64 "\n", Escaped(info.name).c_str(),
                std::string(GgmlTypeName(info.type)).c_str(), info.n_bytes);
  }
  return kExitOk;
}

}  // namespace

void AddInspectCommand(CLI::App& app, CommandRunner& runner) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command = app.add_subcommand("inspect", "Show what a GGUF or safetensors model holds");
  command->add_option("path", options->path, "GGUF file, safetensors file or model directory")
      ->required();
  command->add_flag("--json", options->json, "Print one JSON document on stdout");
  command->callback([&runner, options] { runner.run = [options] { return RunInspect(*options); }; });
}

}  // namespace qtk::cli
