// Ctrl-C and SIGTERM: remembered, so long jobs stop cleanly between tensors (and remove
// their temporary files) instead of dying mid-write.
#ifndef QTK_TOOLS_SIGNALS_H_
#define QTK_TOOLS_SIGNALS_H_

namespace qtk::cli {

// Installs handlers for SIGINT and SIGTERM. A second signal kills the process at once.
void InstallStopHandlers();

// Makes file trouble an error instead of a silent death. SIGXFSZ (a write past RLIMIT_FSIZE)
// is ignored, so the write fails with EFBIG and is reported like a full disk. SIGBUS (reading
// a mapped input that was truncated after the last size check) prints one error line and
// exits 1; output temp files are anonymous where the filesystem allows (see OutputFile), so
// nothing is left behind there either.
void InstallFileSignalHandlers();

// True once SIGINT or SIGTERM arrived.
bool StopRequested();

// The exit code for the signal that arrived: 130 (SIGINT) or 143 (SIGTERM).
int StopExitCode();

}  // namespace qtk::cli

#endif  // QTK_TOOLS_SIGNALS_H_
