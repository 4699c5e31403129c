// qtk eval's output: the text table and the "qtk.eval/1" JSON document (docs/eval.md
// describes it field by field).
#ifndef QTK_TOOLS_EVAL_RENDER_H_
#define QTK_TOOLS_EVAL_RENDER_H_

#include <string>

#include "qtk/eval/eval_job.h"

namespace qtk::cli {

std::string FormatEvalText(const EvalResult& result);
std::string FormatEvalJson(const EvalResult& result);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_EVAL_RENDER_H_
