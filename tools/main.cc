// qtk: quantize, inspect and report on language-model weights.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>

#include "commands.h"
#include "logging.h"

namespace qtk::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "qtk: error: %s\n", status.message().c_str());
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return kExitUsage;
    case Status::Code::kCancelled:
      return kExitInterrupted;
    default:
      return kExitInputError;
  }
}

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"qtk: make language models small, and know exactly what you get", "qtk"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "qtk 0.1.0");
  SetUpLogging(Verbosity::kNormal);  // logs go to stderr, never stdout; commands may adjust
  CommandRunner runner;
  AddInspectCommand(app, runner);
  AddQuantizeCommand(app, runner);
  AddSynthCommand(app, runner);
  AddReportCommand(app, runner);
  AddCompareCommand(app, runner);
  AddTokenizeCommand(app, runner);
  AddEvalCommand(app, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "qtk: error: %s\n", e.what());
    std::fprintf(stderr, "run 'qtk --help' for usage\n");
    return kExitUsage;
  }
  return runner.run ? runner.run() : kExitOk;
}

}  // namespace
}  // namespace qtk::cli

int main(int argc, char** argv) {
  try {
    return qtk::cli::Main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "qtk: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qtk: error: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "qtk: error: internal error\n");
  }
  return qtk::cli::kExitInputError;
}
