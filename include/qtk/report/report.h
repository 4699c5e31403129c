// Answers before deployment: for a model and a list of precisions, how big each output
// would be (exactly what `qtk quantize` writes), where its bytes go, how much memory it needs
// to run with a KV cache, and how much error it makes on the weights.
//
// Everything here is a pure function of the input and the options: nothing is written or
// printed (tools/ formats the Report as text, markdown, CSV, JSON or SVG). Sizes come from
// PlanModel, so no tensor is touched for them; only MeasureQuality reads the weights, one
// tensor at a time. docs/report.md explains every figure.
//
// Implemented in report.cc (the whole report), report_sizes.cc, report_memory.cc and
// report_quality.cc (its three parts).
#ifndef QTK_REPORT_REPORT_H_
#define QTK_REPORT_REPORT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"
#include "qtk/model/model_input.h"
#include "qtk/plan/file_type.h"
#include "qtk/plan/output_plan.h"
#include "qtk/plan/plan.h"
#include "qtk/quant/metrics.h"
#include "qtk/report/gates.h"
#include "qtk/scheme/scheme.h"

namespace qtk {

// A precision to report on: a llama.cpp file type (with its per-tensor mix) or a generic
// scheme, as `qtk quantize` takes them.
struct ReportTarget {
  std::string name;  // as shown: "Q4_K_M", "int4-g128"
  FileType file_type = FileType::kMostlyF16;
  std::optional<Scheme> scheme;  // set: the scheme instead of file_type
};

// The bits per weight a type's name promises, ignoring scales and mixes: Q4_K_M 4, Q8_0 8,
// F16 16, IQ3_XXS 3, TQ1_0 1.58 (a ternary digit), int4-g128 4, nf4 4.
double NominalBits(const ReportTarget& target);
double NominalBits(GgmlType type);

// ---------------------------------------------------------------------------------------
// Sizes

// Where a tensor's bytes are counted in the breakdown.
enum class TensorClass : uint8_t {
  kTokenEmbedding,
  kAttention,
  kFeedForward,
  kOutput,
  kNorm,
  kOther,
};
inline constexpr int kTensorClassCount = 6;

// From the GGUF name: "norm" anywhere makes a norm; then token embedding and output by
// RoleOf; then "attn" and "ffn" by substring; everything else (rope tables, biases outside
// attention/ffn, position embeddings) is other.
TensorClass ClassOf(std::string_view tensor_name);
std::string_view TensorClassName(TensorClass tensor_class);  // "token embedding"
std::string_view TensorClassKey(TensorClass tensor_class);   // "token_embedding"

// The tensors of one class, or of one type, within a target.
struct ByteGroup {
  std::string name;  // TensorClassKey or the type name ("Q4_K", "int4-g128")
  int n_tensors = 0;
  uint64_t n_weights = 0;
  uint64_t n_bytes = 0;            // tensor data (companion tensors included)
  std::vector<std::string> types;  // classes only: the types used, sorted by name
};

struct TargetSize {
  ReportTarget target;
  uint64_t file_bytes = 0;         // exactly what `qtk quantize` writes: metadata and padding too
  uint64_t tensor_bytes = 0;       // the tensor data alone
  uint64_t n_weights = 0;          // elements of every tensor
  double nominal_bits = 0;         // NominalBits(target)
  std::vector<ByteGroup> classes;  // in TensorClass order; classes without tensors omitted
  std::vector<ByteGroup> types;    // by type name
  std::vector<std::string> warnings;  // fallbacks (a row that does not fit the block size)

  // tensor_bytes * 8 / n_weights (what llama-quantize calls bits per weight).
  double bits_per_weight() const;
  // n_weights * nominal_bits / 8: the size the type's name suggests.
  double ideal_bytes() const;
  // file_bytes - tensor_bytes.
  uint64_t metadata_bytes() const { return file_bytes - tensor_bytes; }
};

struct SizeReport {
  uint64_t input_file_bytes = 0;
  uint64_t input_tensor_bytes = 0;
  uint64_t n_weights = 0;
  size_t n_tensors = 0;
  uint64_t f16_file_bytes = 0;  // an F16 output of the model: the reference for ratio_to_f16
  std::vector<TargetSize> targets;
  std::vector<OutputPlan> plans;  // one per target, for MeasureQuality

  double ratio_to_f16(size_t i) const;    // targets[i].file_bytes / f16_file_bytes
  double ratio_to_input(size_t i) const;  // targets[i].file_bytes / input_file_bytes
};

// Plans every target as `qtk quantize` would (with `plan` as its tensor options and
// requantization allowed) and sums the bytes.
// Errors: PlanModel's (a type that needs an importance matrix, a scheme that does not fit
// a tensor).
Result<SizeReport> ReportSizes(const ModelInput& input, const std::vector<ReportTarget>& targets,
                               const PlanOptions& plan);

// ---------------------------------------------------------------------------------------
// Deployment memory

// What the KV cache size depends on.
struct KvShape {
  int64_t n_layers = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
};

// Any field set here replaces the model's value (--layers, --kv-heads, --head-dim).
struct KvShapeOverride {
  std::optional<int64_t> n_layers;
  std::optional<int64_t> n_kv_heads;
  std::optional<int64_t> head_dim;
};

// The model's shape from {arch}.block_count, {arch}.attention.head_count_kv (else
// head_count) and {arch}.attention.key_length (else embedding_length / head_count), with
// `override` applied. *source says where the numbers came from.
// Errors: NotFound naming the first value neither the metadata nor the override gives.
Result<KvShape> ResolveKvShape(const std::vector<GgufKeyValue>& metadata,
                               const KvShapeOverride& override, std::string* source);

// {arch}.context_length, if the metadata has it.
std::optional<int64_t> ModelContextLength(const std::vector<GgufKeyValue>& metadata);

// 2 × layers × context × batch × the bytes of one cache row of kv_heads × head_dim elements
// of `cache_type`: for F16 that is 2 × layers × kv_heads × head_dim × context × batch × 2;
// for Q8_0 and Q4_0 a row takes ggml's blocks (34 and 18 bytes per 32 elements).
// Errors: InvalidArgument when kv_heads × head_dim is not a multiple of the type's block
// size (llama.cpp cannot make that cache either) or the result overflows 64 bits.
Result<uint64_t> KvCacheBytes(const KvShape& shape, GgmlType cache_type, int64_t context,
                              int64_t batch);

// The memory a runtime needs beyond weights and KV cache (CUDA/Metal context, compute
// buffers for activations and logits, allocator slack) is estimated as
//   fixed_bytes + fraction × (weights + KV cache).
// The defaults (512 MiB + 5%) are a stated estimate, not a measurement: see docs/report.md.
struct RuntimeOverhead {
  uint64_t fixed_bytes = 512ull << 20;
  double fraction = 0.05;
};
uint64_t OverheadBytes(const RuntimeOverhead& overhead, uint64_t weights_bytes, uint64_t kv_bytes);

struct MemoryBudget {
  std::string label;  // as the user wrote it: "24GB"
  uint64_t n_bytes = 0;
};

struct MemoryOptions {
  KvShapeOverride shape_override;
  // Tokens of context; 0: the model's context_length, or 4096 without one. Default: 0.
  int64_t context = 0;
  // Sequences served at once, each with its own full context. Default: 1.
  int64_t batch = 1;
  // Cache types to show. Default: F16, Q8_0, Q4_0.
  std::vector<GgmlType> kv_types = {GgmlType::kF16, GgmlType::kQ8_0, GgmlType::kQ4_0};
  // Default: 8GB, 16GB, 24GB, 80GB (decimal, so a fit is a fit on a card of that many GiB).
  std::vector<MemoryBudget> budgets = {{"8GB", 8000000000ull},
                                       {"16GB", 16000000000ull},
                                       {"24GB", 24000000000ull},
                                       {"80GB", 80000000000ull}};
  RuntimeOverhead overhead;
};

// One (target, cache type) combination.
struct MemoryRow {
  std::string target;
  GgmlType kv_type = GgmlType::kF16;
  uint64_t weights_bytes = 0;
  uint64_t kv_bytes = 0;
  uint64_t overhead_bytes = 0;
  std::vector<bool> fits;  // one per budget: total_bytes() <= budget

  uint64_t total_bytes() const { return weights_bytes + kv_bytes + overhead_bytes; }
  double kv_share() const;  // kv_bytes / total_bytes()
};

// The KV cache at one context length, one size per cache type.
struct KvAtContext {
  int64_t context = 0;
  std::vector<uint64_t> n_bytes;  // parallel to MemoryOptions::kv_types
};

struct MemoryReport {
  // Set when the model's shape is unknown (nothing else is then filled in).
  std::string unavailable;
  KvShape shape;
  std::string shape_source;  // "model metadata", "--layers, --kv-heads, --head-dim", ...
  int64_t context = 0;       // resolved
  std::string context_source;
  MemoryOptions options;
  std::vector<MemoryRow> rows;  // target-major, then cache type
  // The cache over a range of contexts (4K, 32K, 128K and the chosen one), to show when it
  // outgrows the weights.
  std::vector<KvAtContext> kv_by_context;
};

// `weights` gives each target's name and the bytes its weights take in memory.
// Errors: KvCacheBytes's.
Result<MemoryReport> ReportMemory(const std::vector<GgufKeyValue>& metadata,
                                  const std::vector<std::pair<std::string, uint64_t>>& weights,
                                  const MemoryOptions& options);

// ---------------------------------------------------------------------------------------
// Quality

struct TensorError {
  std::string name;
  std::string type;  // what it was quantized to
  ErrorStats stats;
};

struct TargetQuality {
  std::string target;  // MeasureQuality: the plan's output path; BuildReport: the target name
  // Set when the error could not be measured (a type qtk cannot produce); stats are empty.
  std::string unavailable;
  ErrorStats total;                  // over every quantized tensor
  std::vector<TensorError> tensors;  // the quantized tensors, in input order

  // The tensor with the lowest SNR, or nullptr without quantized tensors.
  const TensorError* worst() const;
};

struct QualityProgress {
  size_t tensor_index = 0;  // input tensors done (this one included)
  size_t n_tensors = 0;
  std::string_view name;
};

struct QualityOptions {
  // Threads for quantizing and measuring; <= 0: all hardware threads. Default: all.
  int n_threads = 0;
  // Measure only this many rows of each tensor, evenly spaced (row i × n_rows / N for
  // i < N); 0 or at least the tensor's rows: every row. Default: 0.
  int64_t sample_rows = 0;
  std::function<void(const QualityProgress&)> progress;  // optional
  std::function<bool()> should_stop;                     // optional: true stops (Cancelled)
};

// Quantizes every planned tensor to its planned type in memory (a generic scheme through
// MeasureScheme), decodes it and compares with the input. Reads each input tensor once for
// all targets; holds one tensor (and its decoded copy) at a time. Tensors a plan copies
// unchanged are not counted.
// Errors: the input's read errors; the quantizers' (NaN or infinity in a weight).
Result<std::vector<TargetQuality>> MeasureQuality(const ModelInput& input,
                                                  const std::vector<OutputPlan>& plans,
                                                  const QualityOptions& options);

// ---------------------------------------------------------------------------------------
// The whole report

struct ReportOptions {
  std::vector<ReportTarget> targets;
  PlanOptions plan;  // file_type is ignored (each target has its own)
  // Also show every size for a model of this many parameters (each target's measured bits
  // per weight × params / 8); deployment memory and size gates then use these sizes.
  std::optional<double> hypothetical_params;
  MemoryOptions memory;
  bool measure_quality = true;
  QualityOptions quality;
};

// A target's size scaled to a hypothetical parameter count.
struct HypotheticalSize {
  std::string target;
  double bits_per_weight = 0;  // measured on the real model
  double n_bytes = 0;          // params × bits_per_weight / 8
  double ideal_bytes = 0;      // params × nominal bits / 8
};

struct Report {
  std::string input_path;
  std::string input_description;
  SizeReport sizes;
  std::optional<double> hypothetical_params;
  std::vector<HypotheticalSize> hypothetical;  // one per target when hypothetical_params
  MemoryReport memory;
  bool quality_measured = false;
  int64_t sample_rows = 0;             // as asked (0: all rows)
  std::vector<TargetQuality> quality;  // one per target when quality_measured

  // The weights size used for memory and the size gates: hypothetical when asked for,
  // otherwise the exact file size.
  uint64_t deployed_bytes(size_t target_index) const;
};

Result<Report> BuildReport(const ModelInput& input, const ReportOptions& options);

// What the gates check for each target: the deployed size (hypothetical with --params),
// the measured error, and the memory with the first cache type of MemoryOptions::kv_types.
std::vector<GateSubject> GateSubjects(const Report& report);

}  // namespace qtk

#endif  // QTK_REPORT_REPORT_H_
