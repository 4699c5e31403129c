#include "signals.h"

#include <unistd.h>

#include <csignal>

#include "commands.h"

namespace qtk::cli {
namespace {

// The one piece of process-wide state qtk has: a signal handler can do nothing else.
volatile std::sig_atomic_t stop_signal = 0;

extern "C" void OnStopSignal(int signal_number) {
  if (stop_signal != 0) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  stop_signal = signal_number;
}

extern "C" void OnBusError(int /*signal_number*/) {
  static const char kMessage[] =
      "qtk: error: bus error reading a memory-mapped input: the file was truncated while "
      "being read; no output was written\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  _exit(kExitInputError);
}

}  // namespace

void InstallFileSignalHandlers() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGXFSZ, &ignore, nullptr);
  struct sigaction bus {};
  bus.sa_handler = OnBusError;
  sigemptyset(&bus.sa_mask);
  sigaction(SIGBUS, &bus, nullptr);
}

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool StopRequested() { return stop_signal != 0; }

int StopExitCode() { return 128 + (stop_signal != 0 ? stop_signal : SIGINT); }

}  // namespace qtk::cli
