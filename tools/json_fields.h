// The JSON fields that several of the CLI's documents share, written in one place
// (docs/report-schema.json describes them once, as "errorStats").
#ifndef QTK_TOOLS_JSON_FIELDS_H_
#define QTK_TOOLS_JSON_FIELDS_H_

#include <nlohmann/json.hpp>

#include "qtk/quant/metrics.h"

namespace qtk::cli {

using Json = nlohmann::ordered_json;

// JSON has no infinity: a non-finite value (the SNR of an exact reconstruction) is null.
Json FiniteJson(double value);

// {"n_elements", "rmse", "snr_db", "cosine", "max_abs_error"}: the error statistics in
// `qtk report --json` and `qtk compare --format json`.
Json ErrorStatsJson(const ErrorStats& stats);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_JSON_FIELDS_H_
