// Interpreting `qtk quantize`'s command line, which follows llama-quantize's:
//   qtk quantize [options] IN [OUT] TYPE [NTHREADS]
// plus --type T1,T2,... with -o 'name-{type}.gguf' for several outputs in one pass.
#ifndef QTK_TOOLS_QUANTIZE_ARGS_H_
#define QTK_TOOLS_QUANTIZE_ARGS_H_

#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/pipeline/quantize_job.h"

namespace qtk::cli {

// The command line as CLI11 collected it.
struct QuantizeArgs {
  std::vector<std::string> positionals;
  std::vector<std::string> types;  // --type (each may be a comma-separated list)
  std::string output_pattern;      // -o/--output
  int threads = 0;                 // --threads (0: positional NTHREADS or all)
  bool pure = false;
  bool leave_output_tensor = false;
  bool allow_requantize = false;
  bool keep_split = false;
  bool dry_run = false;
  bool force = false;
  std::string output_tensor_type;
  std::string token_embedding_type;
  std::vector<std::string> tensor_types;  // PATTERN=TYPE
  std::string tensor_type_file;
  std::vector<std::string> override_kv;  // KEY=TYPE:VALUE
  std::string imatrix;
  std::vector<std::string> include_weights;
  std::vector<std::string> exclude_weights;
  std::string nan_policy = "refuse";
  std::string vocab_pre;  // tokenizer.ggml.pre for an unrecognized BPE pre-tokenizer
};

// The job the arguments describe, gates and deployment aside (gate_args.h).
// Errors: InvalidArgument naming the offending argument.
Result<QuantizeJob> InterpretQuantizeArgs(const QuantizeArgs& args);

// A type name: a llama.cpp file type ("Q4_K_M", "15") or a generic scheme ("int4-g128").
struct QuantizeTarget {
  std::string name;  // canonical: "Q4_K_M", "int4-g128"
  FileType file_type = FileType::kAllF32;
  std::optional<Scheme> scheme;
};
Result<QuantizeTarget> ParseQuantizeTarget(const std::string& name);

// llama-quantize's default output name: <input dir>/ggml-model-<TYPE>.gguf.
std::string DefaultOutputPath(const std::string& input, const std::string& type_name);

// Parses --override-kv KEY=TYPE:VALUE (TYPE: int, float, bool, str).
Result<GgufKeyValue> ParseOverrideKv(const std::string& text);

}  // namespace qtk::cli

#endif  // QTK_TOOLS_QUANTIZE_ARGS_H_
