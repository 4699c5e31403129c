// Progress display for long jobs: a bar redrawn in place on a terminal, or one line per
// tensor when stderr is not a terminal (or with -v); nothing with -q.
#ifndef QTK_TOOLS_PROGRESS_H_
#define QTK_TOOLS_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "logging.h"

namespace qtk::cli {

class Progress {
 public:
  // `unit` names what `done` and `total` count on the bar ("tensors", "chunks").
  explicit Progress(Verbosity verbosity, std::string unit = "tensors");
  ~Progress();  // ends a drawn bar with a newline

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `line` describes the tensor just done, for the line-per-tensor mode.
  void Update(size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total,
              const std::string& line);
  void Finish();

 private:
  bool bar_ = false;
  bool lines_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::string unit_;
};

}  // namespace qtk::cli

#endif  // QTK_TOOLS_PROGRESS_H_
