#include "json_fields.h"

#include <cmath>

namespace qtk::cli {

Json FiniteJson(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json ErrorStatsJson(const ErrorStats& stats) {
  return {{"n_elements", stats.n_elements},
          {"rmse", stats.Rmse()},
          {"snr_db", FiniteJson(stats.SnrDb())},
          {"cosine", stats.Cosine()},
          {"max_abs_error", stats.max_abs_error}};
}

}  // namespace qtk::cli
