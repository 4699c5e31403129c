// spdlog set-up for the front-end: human messages on stderr, never on stdout.
#ifndef QTK_TOOLS_LOGGING_H_
#define QTK_TOOLS_LOGGING_H_

namespace qtk::cli {

enum class Verbosity { kQuiet, kNormal, kVerbose };

// Routes spdlog's default logger to stderr with a "qtk: warning: ..." style pattern.
void SetUpLogging(Verbosity verbosity);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_LOGGING_H_
