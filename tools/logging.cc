#include "logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace qtk::cli {

void SetUpLogging(Verbosity verbosity) {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("qtk");
  if (!logger) {
    logger = spdlog::stderr_logger_st("qtk");
    logger->set_pattern("qtk: %l: %v");
    spdlog::set_default_logger(logger);
  }
  switch (verbosity) {
    case Verbosity::kQuiet: logger->set_level(spdlog::level::err); break;
    case Verbosity::kNormal: logger->set_level(spdlog::level::info); break;
    case Verbosity::kVerbose: logger->set_level(spdlog::level::debug); break;
  }
}

}  // namespace qtk::cli
