// QuantizeModel: one pass over the input, every output written through a temporary file.
#include "qtk/pipeline/quantize_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>

#include "base/parallel.h"
#include "base/string_util.h"
#include "base/value_scan.h"
#include "qtk/format/output_file.h"
#include "qtk/quant/quantize.h"
#include "quant/quant_checks.h"

namespace qtk {
namespace {

// An output being written: its file, its GGUF writer, and where each input tensor goes.
struct OpenOutput {
  const OutputPlan* plan = nullptr;
  std::unique_ptr<OutputFile> file;
  std::optional<GgufWriter> writer;
  std::vector<int64_t> position_of_input;  // -1: the input tensor is not in this output
};

Result<OpenOutput> Open(const OutputPlan& plan, size_t n_inputs,
                        const QuantizeModelOptions& options) {
  OpenOutput output;
  output.plan = &plan;
  OutputFileOptions file_options;
  file_options.overwrite = options.overwrite;
  file_options.sync = options.sync;
  QTK_ASSIGN_OR_RETURN(output.file, OutputFile::Create(plan.spec.path, file_options));
  std::vector<GgufTensorInfo> infos = plan.layout.tensors;
  QTK_ASSIGN_OR_RETURN(GgufWriter writer,
                       GgufWriter::Start(*output.file, plan.metadata, std::move(infos)));
  output.writer.emplace(std::move(writer));
  output.position_of_input.assign(n_inputs, -1);
  for (size_t p = 0; p < plan.tensors.size(); ++p) {
    output.position_of_input[plan.tensors[p].input_index] = static_cast<int64_t>(p);
  }
  return output;
}

std::string DescribeNonFinite(float value) {
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

std::string FormatValue(float value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", static_cast<double>(value));
  return buffer;
}

// The refusal of a non-finite value, as CheckFinite words it, located in the input.
Status RefuseNonFinite(const ModelInput& input, size_t tensor_index, int64_t element, float value) {
  const InputTensor& tensor = input.tensors()[tensor_index];
  const int64_t row_length = tensor.row_length();
  const std::string source = input.DescribeSource(tensor_index, element);
  return Status::Corruption(
      input.path() + ": tensor '" + Printable(tensor.name) + "'" +
      (source.empty() ? "" : " (" + source + ")") + ": element " + std::to_string(element) +
      " (row " + std::to_string(element / row_length) + ", column " +
      std::to_string(element % row_length) + ") is " + DescribeNonFinite(value) +
      " (--nan-policy zero or keep to quantize anyway)");
}

// Applies the NaN policy to a tensor's F32 values; returns their largest magnitude after it
// (for CheckOutput). One vectorized pass over the values in the common, all-finite case.
Result<float> ApplyNanPolicy(const ModelInput& input, size_t tensor_index, std::span<float> values,
                             NanPolicy policy, int n_threads, int64_t* n_zeroed) {
  if (policy == NanPolicy::kKeep) return 0.0f;  // CheckOutput is off
  const ValueScan scan = ScanValues(values, n_threads);
  const std::optional<int64_t> bad = scan.first_non_finite;
  if (!bad) return scan.largest_magnitude;
  if (policy == NanPolicy::kRefuse) {
    return RefuseNonFinite(input, tensor_index, *bad, values[static_cast<size_t>(*bad)]);
  }
  for (size_t i = static_cast<size_t>(*bad); i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      values[i] = 0.0f;
      ++*n_zeroed;
    }
  }
  return ScanValues(values, n_threads).largest_magnitude;
}

// The importance weights for a tensor, checked against its shape as llama-quantize does.
Result<std::span<const float>> ImportanceFor(const PlannedTensor& tensor,
                                             const QuantizeModelOptions& options) {
  if (!options.importance || !IsQuantized(tensor.type)) return std::span<const float>();
  const std::optional<std::span<const float>> weights = options.importance(tensor.name);
  if (!weights) return std::span<const float>();
  const int64_t n_experts = tensor.shape.size() > 2 ? tensor.shape[2] : 1;
  const auto expected = static_cast<size_t>(tensor.shape[0] * n_experts);
  if (weights->size() == expected) return *weights;
  if (RoleOf(tensor.name) == TensorRole::kTokenEmbedding) return std::span<const float>();
  return Status::InvalidArgument("importance matrix has " + std::to_string(weights->size()) +
                                 " weights for tensor '" + Printable(tensor.name) +
                                 "', its shape needs " + std::to_string(expected));
}

float LargestMagnitude(std::span<const float> values) {
  float largest = 0.0f;
  for (float v : values) largest = std::max(largest, std::fabs(v));  // NaN loses every max
  return largest;
}

// Rows decoded at a time when checking an output: bounded memory, several rows per thread.
constexpr int64_t kCheckChunkElements = int64_t{1} << 20;

// Finite input can still quantize to infinity or NaN when its magnitude is beyond what the
// type can hold (F16 above 65504, block scales likewise; importance weights near the float
// limit): llama-quantize refuses such output after the fact, and so does qtk, naming the
// first element that does not survive. Checks rows [first_row, first_row + n): `values` are
// their F32, `out` their output bytes; `decoded` is scratch space.
Status CheckRowsFinite(const PlannedTensor& tensor, std::span<const float> values,
                       std::span<const uint8_t> out, int64_t first_row, std::vector<float>& decoded,
                       int n_threads) {
  const int64_t row_length = tensor.shape.empty() ? 1 : tensor.shape[0];
  decoded.resize(values.size());
  QTK_RETURN_IF_ERROR(DequantizeRows(tensor.type, out, row_length, decoded, n_threads));
  const std::optional<int64_t> bad = FindNonFinite(decoded);
  if (!bad) return Status::Ok();
  const int64_t index = first_row * row_length + *bad;
  const float row_largest = LargestMagnitude(values.subspan(
      static_cast<size_t>(*bad / row_length * row_length), static_cast<size_t>(row_length)));
  return Status::Unsupported(
      "tensor '" + Printable(tensor.name) + "': element " + std::to_string(index) + " (row " +
      std::to_string(index / row_length) + ", column " + std::to_string(index % row_length) +
      ") becomes " + DescribeNonFinite(decoded[static_cast<size_t>(*bad)]) + " in " +
      std::string(GgmlTypeName(tensor.type)) + " (the row's largest magnitude is " +
      FormatValue(row_largest) + "): the values (or importance weights) are too large for it");
}

// The whole tensor, a bounded number of rows at a time.
Status CheckOutputFinite(const PlannedTensor& tensor, std::span<const float> values,
                         std::span<const uint8_t> out, int n_threads) {
  if (!CanDequantize(tensor.type) || values.empty()) return Status::Ok();
  const int64_t row_length = tensor.shape.empty() ? 1 : tensor.shape[0];
  const int64_t n_rows = static_cast<int64_t>(values.size()) / row_length;
  const int64_t rows_per_chunk = std::max<int64_t>(1, kCheckChunkElements / row_length);
  const uint64_t row_bytes = GgmlRowBytes(tensor.type, row_length);
  std::vector<float> decoded;
  for (int64_t row = 0; row < n_rows; row += rows_per_chunk) {
    const int64_t n = std::min(rows_per_chunk, n_rows - row);
    QTK_RETURN_IF_ERROR(CheckRowsFinite(
        tensor,
        values.subspan(static_cast<size_t>(row * row_length), static_cast<size_t>(n * row_length)),
        out.subspan(static_cast<size_t>(row) * row_bytes, n * row_bytes), row, decoded, n_threads));
  }
  return Status::Ok();
}

// Decodes the output to look for inf and NaN only where they can appear (see
// kAlwaysFiniteMagnitude): the common case costs one pass over the values, not a decode.
Status CheckOutput(const PlannedTensor& tensor, std::span<const float> values, float largest,
                   std::span<const uint8_t> out, const QuantizeModelOptions& options) {
  if (options.nan_policy == NanPolicy::kKeep) return Status::Ok();
  QTK_ASSIGN_OR_RETURN(std::span<const float> importance, ImportanceFor(tensor, options));
  if (largest <= kAlwaysFiniteMagnitude &&
      LargestMagnitude(importance) <= kAlwaysFiniteImportance) {
    return Status::Ok();
  }
  return CheckOutputFinite(tensor, values, out, options.n_threads);
}

// Quantizes `values` (the whole tensor) into `out` as planned, matrix by matrix so that each
// expert uses its own slice of the importance weights.
Status QuantizeTensor(const PlannedTensor& tensor, std::span<const float> values,
                      std::span<uint8_t> out, const QuantizeModelOptions& options) {
  if (values.empty()) return Status::Ok();
  QTK_ASSIGN_OR_RETURN(std::span<const float> importance, ImportanceFor(tensor, options));
  const int64_t row_length = tensor.shape.empty() ? 1 : tensor.shape[0];
  const int64_t n_rows_per_matrix = tensor.shape.size() > 1 ? tensor.shape[1] : 1;
  const int64_t n_matrices = static_cast<int64_t>(values.size()) / (row_length * n_rows_per_matrix);
  const uint64_t matrix_bytes =
      static_cast<uint64_t>(n_rows_per_matrix) * GgmlRowBytes(tensor.type, row_length);
  const auto matrix_elements = static_cast<size_t>(row_length * n_rows_per_matrix);
  for (int64_t m = 0; m < n_matrices; ++m) {
    QuantizeOptions quantize_options;
    quantize_options.n_threads = options.n_threads;
    quantize_options.check_finite = false;  // ApplyNanPolicy applied the policy
    if (!importance.empty()) {
      const size_t expert =
          importance.size() > static_cast<size_t>(row_length) ? static_cast<size_t>(m) : 0;
      quantize_options.importance = importance.subspan(expert * static_cast<size_t>(row_length),
                                                       static_cast<size_t>(row_length));
    }
    Status status = QuantizeRows(
        tensor.type, values.subspan(static_cast<size_t>(m) * matrix_elements, matrix_elements),
        row_length, out.subspan(static_cast<size_t>(m) * matrix_bytes, matrix_bytes),
        quantize_options);
    if (!status.ok()) return status.WithPrefix("tensor '" + Printable(tensor.name) + "'");
  }
  return Status::Ok();
}

// A generic-scheme tensor: its codes and companion tensors, at their layout positions.
Status WriteSchemeTensor(const PlannedTensor& tensor, std::span<const float> values,
                         GgufWriter& writer, const QuantizeModelOptions& options) {
  Result<std::vector<std::vector<uint8_t>>> parts =
      QuantizeScheme(*tensor.scheme, tensor.shape, values, options.n_threads);
  if (!parts.ok()) return parts.status().WithPrefix("tensor '" + tensor.name + "'");
  for (size_t k = 0; k < parts->size(); ++k) {
    QTK_RETURN_IF_ERROR(writer.WriteTensorAt(tensor.first_layout_index + k, (*parts)[k]));
  }
  return Status::Ok();
}

// ---- The chunked path ----------------------------------------------------------------
//
// A tensor is decoded, checked and quantized a chunk of rows at a time, each chunk on one
// thread from start to end, so the F32 rows stay in that core's cache instead of making
// three trips through memory (decode, check, quantize) for the whole tensor. Every output
// quantizes the same decoded chunk. Results are collected per chunk and reported in chunk
// order, so errors and bytes are the same for any thread count.

// F32 values per chunk (256 KiB); a chunk holds at least one row.
constexpr int64_t kChunkElements = int64_t{1} << 16;

// One output's share of the tensor being quantized.
struct ChunkTarget {
  const PlannedTensor* tensor = nullptr;
  std::span<uint8_t> out;             // the whole tensor's output bytes (a ggml type)
  std::span<const float> importance;  // every expert's, or empty
  bool large_importance = false;      // output may be non-finite whatever the values
};

struct ChunkResult {
  Status read;                 // decoding the rows
  std::optional<int64_t> bad;  // the first non-finite element, when refused
  float bad_value = 0.0f;
  int64_t n_zeroed = 0;           // --nan-policy zero
  std::vector<Status> quantized;  // per target: quantizing and checking the output
  // Per target with a (row-local) scheme: the chunk's part of each of its tensors.
  std::vector<std::vector<std::vector<uint8_t>>> scheme_parts;
};

// Quantizes rows [first_row, first_row + n) (values: their F32) for one target, then looks
// for non-finite output where it can appear (see CheckOutput).
Status QuantizeChunk(const ChunkTarget& target, int64_t first_row, int64_t rows_per_matrix,
                     std::span<const float> values, float largest, std::vector<float>& decoded,
                     const std::string& input_path, const QuantizeModelOptions& options) {
  const PlannedTensor& tensor = *target.tensor;
  const int64_t row_length = tensor.shape.empty() ? 1 : tensor.shape[0];
  const auto n_rows = static_cast<int64_t>(values.size()) / row_length;
  const uint64_t row_bytes = GgmlRowBytes(tensor.type, row_length);
  const std::span<uint8_t> out = target.out.subspan(static_cast<uint64_t>(first_row) * row_bytes,
                                                    static_cast<uint64_t>(n_rows) * row_bytes);
  QuantizeOptions quantize_options;
  quantize_options.n_threads = 1;
  quantize_options.check_finite = false;  // the NaN policy was applied
  if (!target.importance.empty()) {
    const int64_t matrix = first_row / rows_per_matrix;
    const size_t expert = target.importance.size() > static_cast<size_t>(row_length)
                              ? static_cast<size_t>(matrix)
                              : 0;
    quantize_options.importance = target.importance.subspan(
        expert * static_cast<size_t>(row_length), static_cast<size_t>(row_length));
  }
  Status status = QuantizeRows(tensor.type, values, row_length, out, quantize_options);
  if (!status.ok()) return status.WithPrefix("tensor '" + Printable(tensor.name) + "'");
  if (options.nan_policy == NanPolicy::kKeep || !CanDequantize(tensor.type)) return Status::Ok();
  if (largest <= kAlwaysFiniteMagnitude && !target.large_importance) return Status::Ok();
  return CheckRowsFinite(tensor, values, out, first_row, decoded, 1).WithPrefix(input_path);
}

// A row-local scheme's tensors: each chunk's part, joined in row order.
std::vector<std::vector<uint8_t>> JoinSchemeParts(std::vector<ChunkResult>& results,
                                                  size_t target) {
  std::vector<std::vector<uint8_t>> joined;
  for (ChunkResult& result : results) {
    std::vector<std::vector<uint8_t>>& parts = result.scheme_parts[target];
    joined.resize(std::max(joined.size(), parts.size()));
    for (size_t k = 0; k < parts.size(); ++k) {
      joined[k].insert(joined[k].end(), parts[k].begin(), parts[k].end());
      std::vector<uint8_t>().swap(parts[k]);
    }
  }
  return joined;
}

// Reads tensor i a chunk of rows at a time and quantizes it into every target.
// scheme_tensors[t]: the tensors of target t when it has a scheme.
Status QuantizeChunked(const ModelInput& input, size_t i, std::span<const ChunkTarget> targets,
                       const QuantizeModelOptions& options, int64_t* n_zeroed,
                       std::vector<std::vector<std::vector<uint8_t>>>* scheme_tensors) {
  scheme_tensors->assign(targets.size(), {});
  const InputTensor& tensor = input.tensors()[i];
  const int64_t row_length = tensor.row_length();
  const int64_t n_rows = tensor.n_rows();
  if (n_rows == 0 || row_length == 0) return Status::Ok();
  // Chunks never straddle two matrices (experts), which have their own importance weights.
  const int64_t rows_per_matrix =
      std::max<int64_t>(tensor.shape.size() > 1 ? tensor.shape[1] : 1, 1);
  const int64_t rows_per_chunk =
      std::clamp<int64_t>(kChunkElements / row_length, 1, rows_per_matrix);
  const int64_t chunks_per_matrix = (rows_per_matrix + rows_per_chunk - 1) / rows_per_chunk;
  const int64_t n_chunks = n_rows / rows_per_matrix * chunks_per_matrix;
  std::vector<ChunkResult> results(static_cast<size_t>(n_chunks));
  ParallelFor(options.n_threads, n_chunks, [&](int64_t begin, int64_t end) {
    std::vector<float> values;
    std::vector<float> decoded;
    for (int64_t c = begin; c < end; ++c) {
      ChunkResult& result = results[static_cast<size_t>(c)];
      const int64_t row_in_matrix = c % chunks_per_matrix * rows_per_chunk;
      const int64_t first_row = c / chunks_per_matrix * rows_per_matrix + row_in_matrix;
      const int64_t n = std::min(rows_per_chunk, rows_per_matrix - row_in_matrix);
      values.resize(static_cast<size_t>(n * row_length));
      result.read = input.ReadRowsF32(i, first_row, values);
      if (!result.read.ok()) continue;
      float largest = 0.0f;
      if (options.nan_policy != NanPolicy::kKeep) {
        ValueScan scan = ScanValues(values);
        if (scan.first_non_finite && options.nan_policy == NanPolicy::kRefuse) {
          result.bad = first_row * row_length + *scan.first_non_finite;
          result.bad_value = values[static_cast<size_t>(*scan.first_non_finite)];
          continue;
        }
        if (scan.first_non_finite) {
          for (float& v : values) {
            if (std::isfinite(v)) continue;
            v = 0.0f;
            ++result.n_zeroed;
          }
          scan = ScanValues(values);
        }
        largest = scan.largest_magnitude;
      }
      result.quantized.reserve(targets.size());
      result.scheme_parts.resize(targets.size());
      for (size_t t = 0; t < targets.size(); ++t) {
        const ChunkTarget& target = targets[t];
        if (target.tensor->scheme) {
          const std::vector<int64_t> shape = {row_length, n};
          Result<std::vector<std::vector<uint8_t>>> parts =
              QuantizeScheme(*target.tensor->scheme, shape, values, 1);
          if (parts.ok()) result.scheme_parts[t] = std::move(parts).value();
          result.quantized.push_back(
              parts.ok() ? Status::Ok()
                         : parts.status().WithPrefix("tensor '" + target.tensor->name + "'"));
          continue;
        }
        result.quantized.push_back(QuantizeChunk(target, first_row, rows_per_matrix, values,
                                                 largest, decoded, input.path(), options));
      }
    }
  });
  // In chunk order: the same error whichever thread met it first.
  for (const ChunkResult& result : results) {
    if (!result.read.ok()) return result.read;
  }
  for (const ChunkResult& result : results) {
    if (result.bad) return RefuseNonFinite(input, i, *result.bad, result.bad_value);
  }
  for (size_t t = 0; t < targets.size(); ++t) {
    for (const ChunkResult& result : results) {
      if (!result.quantized[t].ok()) return result.quantized[t];
    }
  }
  for (const ChunkResult& result : results) *n_zeroed += result.n_zeroed;
  for (size_t t = 0; t < targets.size(); ++t) {
    if (targets[t].tensor->scheme) (*scheme_tensors)[t] = JoinSchemeParts(results, t);
  }
  return Status::Ok();
}

// True if an output writes tensor i in a scheme that needs the whole tensor at once.
bool NeedsWholeTensor(const std::vector<OpenOutput>& outputs, size_t input_index,
                      int64_t row_length, NanPolicy nan_policy) {
  for (const OpenOutput& output : outputs) {
    const int64_t position = output.position_of_input[input_index];
    if (position < 0) continue;
    const std::optional<Scheme>& scheme =
        output.plan->tensors[static_cast<size_t>(position)].scheme;
    // With --nan-policy keep, the scheme refuses NaN naming the element: in the whole tensor.
    if (scheme && (nan_policy == NanPolicy::kKeep || !SchemeIsRowLocal(*scheme, row_length))) {
      return true;
    }
  }
  return false;
}

// One tensor write for the background writer.
struct WriteJob {
  GgufWriter* writer = nullptr;
  size_t index = 0;  // in the output's layout
  std::span<const uint8_t> bytes;
};

bool NeedsFloat(const std::vector<OpenOutput>& outputs, size_t input_index,
                std::span<const uint8_t> stored) {
  for (const OpenOutput& output : outputs) {
    const int64_t position = output.position_of_input[input_index];
    if (position < 0) continue;
    const PlannedTensor& tensor = output.plan->tensors[static_cast<size_t>(position)];
    if (tensor.quantize || stored.empty()) return true;
  }
  return false;
}

// One QuantizeModel call, step by step: open the outputs; for each input tensor, quantize
// it by chunks or read it whole, then write it into every output; finish the outputs.
// Chunked outputs are written in the background while the next tensor is quantized, from one
// of two sets of buffers (the other set is being filled).
class ModelQuantizer {
 public:
  ModelQuantizer(const ModelInput& input, const QuantizeModelOptions& options)
      : input_(input), options_(options) {}

  Status OpenOutputs(const std::vector<OutputPlan>& plans);
  Status ProcessTensor(size_t i);
  Result<QuantizeSummary> Finish();

 private:
  // One input tensor on its way through.
  struct TensorWork {
    size_t index = 0;
    std::span<const uint8_t> stored;  // empty: it must be read as F32
    bool chunked = false;
    std::vector<int64_t> target_of_output;  // into the chunked targets; -1: none
    std::vector<std::vector<std::vector<uint8_t>>> scheme_tensors;  // per target, chunked
  };

  Status QuantizeByChunks(TensorWork& work);
  Status ReadWhole(const TensorWork& work);
  Status WriteOutputs(TensorWork& work);
  Status FinishPendingWrite() {
    return pending_write_.valid() ? pending_write_.get() : Status::Ok();
  }

  const ModelInput& input_;
  const QuantizeModelOptions& options_;
  std::vector<OpenOutput> outputs_;
  QuantizeSummary summary_;
  uint64_t bytes_total_ = 0;  // of every input tensor, as stored
  uint64_t bytes_done_ = 0;
  // The whole-tensor path: the tensor as F32, its largest magnitude, one output's bytes.
  std::vector<float> values_;
  float largest_ = 0.0f;
  std::vector<uint8_t> out_;
  // The chunked path's two sets of output buffers, one per output each.
  std::array<std::vector<std::vector<uint8_t>>, 2> chunk_buffers_;
  // The previous tensor's background write. Declared last, so that it is destroyed (its
  // destructor waits for the write) before the buffers it reads.
  std::future<Status> pending_write_;
};

Status ModelQuantizer::OpenOutputs(const std::vector<OutputPlan>& plans) {
  for (const OutputPlan& plan : plans) QTK_RETURN_IF_ERROR(CheckKernelsExist(plan));
  for (const OutputPlan& plan : plans) {
    QTK_ASSIGN_OR_RETURN(OpenOutput output, Open(plan, input_.tensors().size(), options_));
    outputs_.push_back(std::move(output));
  }
  summary_.input_bytes = input_.file_bytes();
  bytes_total_ = input_.stored_tensor_bytes();
  chunk_buffers_[0].resize(outputs_.size());
  chunk_buffers_[1].resize(outputs_.size());
  return Status::Ok();
}

Status ModelQuantizer::ProcessTensor(size_t i) {
  const InputTensor& tensor = input_.tensors()[i];
  QTK_RETURN_IF_ERROR(input_.CheckUnchanged(i));
  TensorWork work;
  work.index = i;
  work.stored = input_.StoredBytes(i);
  const bool needs_float = NeedsFloat(outputs_, i, work.stored);
  // Schemes with per-tensor statistics need the whole tensor at once; the rest go by chunks.
  work.chunked = needs_float && tensor.n_elements() > 0 &&
                 !NeedsWholeTensor(outputs_, i, tensor.row_length(), options_.nan_policy);
  work.target_of_output.assign(outputs_.size(), -1);
  if (work.chunked) {
    QTK_RETURN_IF_ERROR(QuantizeByChunks(work));
  } else if (needs_float) {
    QTK_RETURN_IF_ERROR(ReadWhole(work));
  }
  QTK_RETURN_IF_ERROR(WriteOutputs(work));
  input_.Release(i);
  bytes_done_ += input_.stored_n_bytes(i);
  if (options_.progress) {
    options_.progress({i + 1, input_.tensors().size(), tensor.name, bytes_done_, bytes_total_});
  }
  return Status::Ok();
}

// Every output that quantizes tensor `work.index` gets its bytes (or its scheme's tensors)
// computed a cache-sized chunk of rows at a time, into this tensor's set of buffers.
Status ModelQuantizer::QuantizeByChunks(TensorWork& work) {
  const size_t i = work.index;
  input_.Prefetch(i);
  std::vector<std::vector<uint8_t>>& chunked_out = chunk_buffers_[i % 2];
  std::vector<ChunkTarget> targets;
  for (size_t o = 0; o < outputs_.size(); ++o) {
    const int64_t position = outputs_[o].position_of_input[i];
    if (position < 0) continue;
    const PlannedTensor& planned = outputs_[o].plan->tensors[static_cast<size_t>(position)];
    if (!planned.quantize && !work.stored.empty()) continue;
    QTK_ASSIGN_OR_RETURN(std::span<const float> importance, ImportanceFor(planned, options_));
    if (!planned.scheme) chunked_out[o].resize(planned.output_bytes);
    work.target_of_output[o] = static_cast<int64_t>(targets.size());
    targets.push_back({&planned, chunked_out[o], importance,
                       LargestMagnitude(importance) > kAlwaysFiniteImportance});
  }
  return QuantizeChunked(input_, i, targets, options_, &summary_.n_nonfinite_zeroed,
                         &work.scheme_tensors);
}

// The whole tensor as F32, with the NaN policy applied.
Status ModelQuantizer::ReadWhole(const TensorWork& work) {
  const size_t i = work.index;
  values_.resize(static_cast<size_t>(input_.tensors()[i].n_elements()));
  QTK_RETURN_IF_ERROR(input_.ReadF32(i, values_, options_.n_threads));
  QTK_ASSIGN_OR_RETURN(largest_, ApplyNanPolicy(input_, i, values_, options_.nan_policy,
                                                options_.n_threads, &summary_.n_nonfinite_zeroed));
  return Status::Ok();
}

// Tensor `work.index` into every output that holds it: copied as stored, quantized from the
// whole tensor here, or (chunked) handed to the background writer.
Status ModelQuantizer::WriteOutputs(TensorWork& work) {
  const size_t i = work.index;
  std::vector<std::vector<uint8_t>>& chunked_out = chunk_buffers_[i % 2];
  std::vector<WriteJob> jobs;  // the chunked outputs, written in the background
  for (size_t o = 0; o < outputs_.size(); ++o) {
    OpenOutput& output = outputs_[o];
    const int64_t position = output.position_of_input[i];
    if (position < 0) continue;
    const PlannedTensor& planned = output.plan->tensors[static_cast<size_t>(position)];
    const size_t layout_index = planned.first_layout_index;
    if (work.chunked && planned.scheme) {
      const auto& parts = work.scheme_tensors[static_cast<size_t>(work.target_of_output[o])];
      for (size_t k = 0; k < parts.size(); ++k) {
        jobs.push_back({&*output.writer, layout_index + k, parts[k]});
      }
      continue;
    }
    if (work.chunked && (planned.quantize || work.stored.empty())) {
      jobs.push_back({&*output.writer, layout_index, chunked_out[o]});
      continue;
    }
    // Written here: the writer must not be in use by the background write.
    QTK_RETURN_IF_ERROR(FinishPendingWrite());
    if (!planned.quantize && !work.stored.empty()) {
      QTK_RETURN_IF_ERROR(output.writer->WriteTensorAt(layout_index, work.stored));
      continue;
    }
    if (planned.scheme) {
      QTK_RETURN_IF_ERROR(WriteSchemeTensor(planned, values_, *output.writer, options_));
      continue;
    }
    out_.resize(planned.output_bytes);
    QTK_RETURN_IF_ERROR(QuantizeTensor(planned, values_, out_, options_));
    QTK_RETURN_IF_ERROR(
        CheckOutput(planned, values_, largest_, out_, options_).WithPrefix(input_.path()));
    QTK_RETURN_IF_ERROR(output.writer->WriteTensorAt(layout_index, out_));
  }
  if (jobs.empty()) return Status::Ok();
  QTK_RETURN_IF_ERROR(FinishPendingWrite());  // frees the other set of buffers
  pending_write_ = std::async(
      std::launch::async, [jobs = std::move(jobs), parts = std::move(work.scheme_tensors)] {
        for (const WriteJob& job : jobs) {
          QTK_RETURN_IF_ERROR(job.writer->WriteTensorAt(job.index, job.bytes));
        }
        return Status::Ok();
      });
  return Status::Ok();
}

Result<QuantizeSummary> ModelQuantizer::Finish() {
  QTK_RETURN_IF_ERROR(FinishPendingWrite());
  if (options_.should_stop && options_.should_stop()) return Status::Cancelled("interrupted");
  for (OpenOutput& output : outputs_) {
    QTK_RETURN_IF_ERROR(output.writer->Finish());
    summary_.outputs.push_back({output.plan->spec.path, output.plan->layout.file_bytes()});
  }
  return summary_;
}

}  // namespace

Result<QuantizeSummary> QuantizeModel(const ModelInput& input, const std::vector<OutputPlan>& plans,
                                      const QuantizeModelOptions& options) {
  ModelQuantizer quantizer(input, options);
  QTK_RETURN_IF_ERROR(quantizer.OpenOutputs(plans));
  for (size_t i = 0; i < input.tensors().size(); ++i) {
    if (options.should_stop && options.should_stop()) return Status::Cancelled("interrupted");
    QTK_RETURN_IF_ERROR(quantizer.ProcessTensor(i));
  }
  return quantizer.Finish();
}

}  // namespace qtk
