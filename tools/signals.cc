#include "signals.h"

#include <csignal>

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

}  // namespace

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
