// What `qtk compare` prints: a Comparison as text, markdown, CSV or JSON.
#ifndef QTK_TOOLS_COMPARE_FORMAT_H_
#define QTK_TOOLS_COMPARE_FORMAT_H_

#include <string>

#include "qtk/report/compare.h"

namespace qtk::cli {

std::string FormatCompareText(const Comparison& comparison);
std::string FormatCompareMarkdown(const Comparison& comparison);
// One row per tensor, worst first.
std::string FormatCompareCsv(const Comparison& comparison);
// "schema": "qtk.compare/1", described in docs/report-schema.json.
std::string FormatCompareJson(const Comparison& comparison);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_COMPARE_FORMAT_H_
