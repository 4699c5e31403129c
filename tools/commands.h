// The qtk subcommands. Each lives in its own file and registers itself on the app; its
// callback stores the work to run, which main() runs inside the one catch ladder.
#ifndef QTK_TOOLS_COMMANDS_H_
#define QTK_TOOLS_COMMANDS_H_

#include <functional>

#include "qtk/base/status.h"

namespace CLI {
class App;
}

namespace qtk::cli {

// Process exit codes, documented in the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInputError = 1;  // a bad or unreadable input, an I/O error
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitGateFailed = 3;  // a --max-size / --min-snr style gate was breached
inline constexpr int kExitInterrupted = 130;

// What the chosen subcommand will do once parsing is done.
struct CommandRunner {
  std::function<int()> run;
};

void AddInspectCommand(CLI::App& app, CommandRunner& runner);
void AddQuantizeCommand(CLI::App& app, CommandRunner& runner);
void AddSynthCommand(CLI::App& app, CommandRunner& runner);
void AddReportCommand(CLI::App& app, CommandRunner& runner);
void AddCompareCommand(CLI::App& app, CommandRunner& runner);
void AddTokenizeCommand(CLI::App& app, CommandRunner& runner);
void AddEvalCommand(CLI::App& app, CommandRunner& runner);

// Prints "qtk: error: <message>" on stderr and returns the exit code for `status`.
int ReportError(const Status& status);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_COMMANDS_H_
