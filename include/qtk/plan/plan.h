// Choosing each tensor's output type: a pure function of (tensor, model facts, options).
//
// For llama.cpp's file types this reproduces llama-quantize's choices (llama_tensor_get_type):
// which tensors may be quantized at all, the per-role mixes of the K-quant file types
// (attn_v and ffn_down get more bits in some layers, the output and token embedding get
// Q6_K or Q8_0), --pure, --tensor-type overrides, and the fallback when a row does not divide
// into the type's block. Where llama.cpp gives up (no fallback defined), qtk falls back to F16
// and says so. Counters that llama.cpp mutates while visiting tensors are replaced by the
// layer index parsed from the name and counts computed up front (ModelFacts).
#ifndef QTK_PLAN_PLAN_H_
#define QTK_PLAN_PLAN_H_

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"
#include "qtk/plan/file_type.h"

namespace qtk {

// What a tensor does in the model, from its GGUF name (llama.cpp's tensor_category).
enum class TensorRole {
  kTokenEmbedding,
  kOutput,
  kAttentionQ,
  kAttentionK,
  kAttentionV,
  kAttentionQkv,
  kAttentionKvB,
  kAttentionOutput,
  kFfnUp,
  kFfnGate,
  kFfnDown,
  kOther,
};

TensorRole RoleOf(std::string_view tensor_name);
std::string_view RoleName(TensorRole role);

// N in "blk.N.", if the name has it.
std::optional<int> LayerOf(std::string_view tensor_name);

// The tensor as it is in the input (GGUF naming and shape order: ne[0] is the row length).
struct TensorDesc {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> shape;
};

// Facts about the whole model that the mixes depend on, computed before planning.
struct ModelFacts {
  std::string architecture;        // general.architecture
  int n_layers = 0;                // {arch}.block_count
  int n_head = 0;                  // {arch}.attention.head_count
  int n_head_kv = 0;               // {arch}.attention.head_count_kv
  int n_expert = 0;                // {arch}.expert_count
  int n_attention_v = 0;           // tensors whose role is attn_v, attn_qkv or attn_kv_b
  bool has_output_tensor = false;  // false: token embedding tied to the output

  int gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
  bool is_llama_70b() const {
    return architecture == "llama" && n_layers == 80 && n_head != n_head_kv;
  }
};

// Builds ModelFacts from the GGUF metadata values and the tensor names.
struct ModelFactsInput {
  std::string architecture;
  int n_layers = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int n_expert = 0;
};
ModelFacts MakeModelFacts(const ModelFactsInput& input, const std::vector<std::string>& names);

// --tensor-type PATTERN=TYPE: tensors whose name matches the regular expression get TYPE.
struct TensorTypeOverride {
  std::string pattern;
  std::regex regex;
  GgmlType type;
};
// Parses "attn_v=q8_0" (type names are ggml's, case-insensitive).
Result<TensorTypeOverride> ParseTensorTypeOverride(std::string_view text);

struct PlanOptions {
  FileType file_type = FileType::kMostlyQ8_0;
  // Every quantizable tensor gets the file type's default type. Default: off.
  bool pure = false;
  // Keep output.weight as it is. Default: off.
  bool leave_output_tensor = false;
  // An importance matrix is supplied (changes a few mix choices). Default: off.
  bool has_importance = false;
  std::optional<GgmlType> output_tensor_type;
  std::optional<GgmlType> token_embedding_type;
  std::vector<TensorTypeOverride> tensor_types;  // first match wins
};

struct TensorDecision {
  GgmlType type = GgmlType::kF32;
  bool quantize = false;             // type differs from the input's
  bool requires_importance = false;  // llama.cpp refuses it without an imatrix
  std::string note;                  // why, when not the default (fallbacks, overrides)
};

// Whether llama-quantize would quantize this tensor at all (2-D+, a .weight, not a norm ...).
bool AllowsQuantization(const TensorDesc& tensor, const PlanOptions& options);

// The output type of one tensor.
TensorDecision DecideTensorType(const TensorDesc& tensor, const ModelFacts& facts,
                                const PlanOptions& options);

}  // namespace qtk

#endif  // QTK_PLAN_PLAN_H_
