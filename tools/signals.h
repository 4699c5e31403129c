// Ctrl-C and SIGTERM: remembered, so long jobs stop cleanly between tensors (and remove
// their temporary files) instead of dying mid-write.
#ifndef QTK_TOOLS_SIGNALS_H_
#define QTK_TOOLS_SIGNALS_H_

namespace qtk::cli {

// Installs handlers for SIGINT and SIGTERM. A second signal kills the process at once.
void InstallStopHandlers();

// True once SIGINT or SIGTERM arrived.
bool StopRequested();

// The exit code for the signal that arrived: 130 (SIGINT) or 143 (SIGTERM).
int StopExitCode();

}  // namespace qtk::cli

#endif  // QTK_TOOLS_SIGNALS_H_
