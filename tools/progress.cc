#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

namespace qtk::cli {

Progress::Progress(Verbosity verbosity, std::string unit)
    : start_(std::chrono::steady_clock::now()), last_draw_(start_), unit_(std::move(unit)) {
  if (verbosity == Verbosity::kQuiet) return;
  const bool terminal = isatty(STDERR_FILENO) != 0;
  bar_ = terminal && verbosity == Verbosity::kNormal;
  lines_ = !bar_;
}

Progress::~Progress() { Finish(); }

void Progress::Update(size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total,
                      const std::string& line) {
  if (lines_) {
    std::fprintf(stderr, "[%4zu/%4zu] %s\n", done, total, line.c_str());
    return;
  }
  if (!bar_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done != total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double fraction =
      bytes_total == 0 ? 1.0 : static_cast<double>(bytes_done) / static_cast<double>(bytes_total);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r[%s] %3.0f%%  %zu/%zu %s  %.1fs", bar.c_str(), fraction * 100.0, done,
               total, unit_.c_str(), seconds);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace qtk::cli
