// The bodies of the fuzz targets: what qtk does with untrusted bytes, one call per target.
//
//   FuzzGguf:            parse, then what `qtk inspect` and `qtk quantize` do with a file
//                        that parsed (display every value, copy it, plan several outputs,
//                        decode small tensors and requantize a few).
//   FuzzImportanceMatrix: parse either form, check the weights, look every entry up.
//   FuzzQuantizeRows:    one kernel on hostile floats, with and without importance.
//
// Shared by the libFuzzer targets (fuzz/) and tests/fuzz_corpus_test.cc, which replays the
// committed crashers (tests/fuzz_corpus/) with GCC in the normal suite: a crasher replays
// exactly the code that crashed. Header-only so that neither build needs another library.
// A broken invariant is a finding: it aborts, as a crash would.
#ifndef QTK_TESTS_FUZZ_BODIES_H_
#define QTK_TESTS_FUZZ_BODIES_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/format/imatrix.h"
#include "qtk/format/output_file.h"
#include "qtk/model/model_input.h"
#include "qtk/pipeline/quantize_model.h"
#include "qtk/plan/file_type.h"
#include "qtk/quant/quantize.h"

namespace qtk::testing {

[[noreturn]] inline void FuzzFinding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

// ---- GGUF

// Tensors up to this many elements are decoded, and the first few planned ones requantized:
// enough to reach every kernel through the pipeline, few enough to keep the fuzzer fast
// (FuzzQuantizeRows fuzzes the kernels themselves).
inline constexpr int64_t kFuzzMaxDecodedElements = int64_t{1} << 14;
inline constexpr int kFuzzQuantizedPerPlan = 2;

// The file types planned for each parsed GGUF: llama.cpp's K-quant mix, a legacy type, an IQ
// type with its fallbacks, and the MoE mix (3-D tensors).
inline constexpr FileType kFuzzFileTypes[] = {FileType::kMostlyQ4_K_M, FileType::kMostlyQ8_0,
                                              FileType::kMostlyIQ4_XS, FileType::kMostlyMXFP4_MOE};

// Tensor i as F32 with NaN and infinity zeroed (as --nan-policy zero does); empty if it is
// too big or cannot be decoded.
inline std::vector<float> FuzzDecode(const ModelInput& input, size_t i) {
  const InputTensor& tensor = input.tensors()[i];
  if (tensor.n_elements() > kFuzzMaxDecodedElements || !CanDequantize(tensor.type)) return {};
  std::vector<float> values(static_cast<size_t>(tensor.n_elements()));
  if (!input.ReadF32(i, values, 1).ok()) return {};
  for (float& v : values) {
    if (!std::isfinite(v)) v = 0.0f;
  }
  return values;
}

// Quantizes a decoded tensor as planned, then decodes the result again.
inline void FuzzRequantize(const PlannedTensor& planned, std::span<const float> values,
                           int64_t row_length) {
  if (!CanQuantize(planned.type) || values.empty()) return;
  std::vector<uint8_t> out(planned.output_bytes);
  QuantizeOptions options;
  options.check_finite = false;
  if (!QuantizeRows(planned.type, values, row_length, out, options).ok()) return;
  std::vector<float> back(values.size());
  if (CanDequantize(planned.type)) (void)DequantizeRows(planned.type, out, row_length, back);
}

// What the writer makes of a file the reader accepted must read back the same: otherwise
// qtk quantize would accept an input and then fail (or write garbage) at the end.
inline void FuzzCopy(const GgufFile& file) {
  MemorySink copy;
  const Status written = CopyGguf(file, copy);
  if (!written.ok()) FuzzFinding("the writer refuses a parsed file: " + written.message());
  Result<GgufFile> again = ParseGguf(MemorySource("fuzz-copy.gguf", copy.bytes()));
  if (!again.ok()) FuzzFinding("a copy does not parse: " + again.status().message());
  if (again->metadata().size() != file.metadata().size() ||
      again->tensors().size() != file.tensors().size()) {
    FuzzFinding("a copy has other counts");
  }
  for (size_t i = 0; i < file.metadata().size(); ++i) {
    if (!(again->metadata()[i].value == file.metadata()[i].value)) {
      FuzzFinding("a copy has another value for '" + file.metadata()[i].key + "'");
    }
  }
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const GgufTensorInfo& a = file.tensors()[i];
    const GgufTensorInfo& b = again->tensors()[i];
    const auto data_a = file.TensorData(a);
    const auto data_b = again->TensorData(b);
    if (a.name != b.name || a.shape != b.shape || a.type != b.type || a.n_bytes != b.n_bytes ||
        !std::equal(data_a.begin(), data_a.end(), data_b.begin(), data_b.end())) {
      FuzzFinding("a copy differs in tensor " + std::to_string(i));
    }
  }
}

// Plans `file_type` and requantizes the first few planned tensors that were decoded.
inline void FuzzPlan(const ModelInput& input, FileType file_type,
                     const std::vector<std::vector<float>>& decoded) {
  QuantizeModelOptions options;
  options.allow_requantize = true;
  Result<std::vector<OutputPlan>> plans = PlanModel(input, {{"fuzz-out.gguf", file_type}}, options);
  if (!plans.ok()) return;
  const OutputPlan& plan = plans->front();
  if (plan.layout.file_bytes() < plan.layout.header_bytes) FuzzFinding("layout overflows");
  if (!CheckKernelsExist(plan).ok()) return;
  int n_quantized = 0;
  for (const PlannedTensor& planned : plan.tensors) {
    const std::vector<float>& values = decoded[planned.input_index];
    if (!planned.quantize || values.empty() || n_quantized == kFuzzQuantizedPerPlan) continue;
    FuzzRequantize(planned, values, input.tensors()[planned.input_index].row_length());
    ++n_quantized;
  }
}

// Returns the parse status; everything after a successful parse must not fail loudly.
inline Status FuzzGguf(std::span<const uint8_t> bytes) {
  Result<GgufFile> file =
      ParseGguf(MemorySource("fuzz.gguf", std::vector<uint8_t>(bytes.begin(), bytes.end())));
  if (!file.ok()) return file.status();
  FuzzCopy(*file);
  for (const GgufKeyValue& kv : file->metadata()) (void)kv.value.ToDisplayString();
  volatile uint8_t touched = 0;  // makes the sanitizers check each tensor's span
  for (const GgufTensorInfo& info : file->tensors()) {
    const std::span<const uint8_t> data = file->TensorData(info);
    if (!data.empty()) touched = touched ^ data.front() ^ data.back();
  }
  const std::unique_ptr<ModelInput> input = MakeGgufInput(*std::move(file));
  std::vector<std::vector<float>> decoded(input->tensors().size());
  for (size_t i = 0; i < decoded.size(); ++i) decoded[i] = FuzzDecode(*input, i);
  for (FileType file_type : kFuzzFileTypes) FuzzPlan(*input, file_type, decoded);
  return Status::Ok();
}

// ---- Importance matrices

inline Status FuzzImportanceMatrix(std::span<const uint8_t> bytes) {
  Result<ImportanceMatrix> matrix = ParseImportanceMatrix(
      MemorySource("fuzz.imatrix", std::vector<uint8_t>(bytes.begin(), bytes.end())));
  if (!matrix.ok()) return matrix.status();
  for (const ImportanceEntry& entry : matrix->entries()) {
    // The weights go straight into the quantizers: they must be finite and non-negative.
    for (float w : entry.weights) {
      if (!std::isfinite(w) || w < 0) {
        FuzzFinding("entry '" + entry.name + "': weight " + std::to_string(w));
      }
    }
    const int64_t n_matrices = std::max<int64_t>(entry.n_matrices, 1);
    const auto row_length = static_cast<int64_t>(entry.weights.size()) / n_matrices;
    Result<std::span<const float>> weights = matrix->WeightsFor(entry.name, row_length, n_matrices);
    if (!weights.ok() || weights->size() != entry.weights.size()) {
      FuzzFinding("entry '" + entry.name + "': its own shape is refused");
    }
    (void)matrix->WeightsFor(entry.name, row_length + 1, n_matrices);
    if (matrix->Find(entry.name) != &entry) FuzzFinding("lookup of '" + entry.name + "' fails");
  }
  return Status::Ok();
}

// ---- Row kernels

// Inputs of FuzzQuantizeRows: byte 0 picks the type (its ggml id if qtk can quantize it,
// else one of those by index, so committed inputs keep their type), byte 1 the
// row length (1 to 4 blocks), byte 2 the options (bit 0: importance weights; bit 1: NaN and
// infinity pass through, as --nan-policy keep lets them), then little-endian floats: the
// importance weights (one row, made finite and >= 0 as the imatrix reader guarantees) when
// used, then the rows.
inline std::vector<GgmlType> FuzzQuantizableTypes() {
  std::vector<GgmlType> types;
  for (const GgmlTypeTraits& traits : AllGgmlTypes()) {
    if (CanQuantize(traits.type)) types.push_back(traits.type);
  }
  return types;
}

inline std::vector<float> FuzzFloats(const uint8_t* data, size_t n) {
  std::vector<float> values(n);
  if (n > 0) std::memcpy(values.data(), data, n * sizeof(float));
  return values;
}

// Moderate finite input (and weights) must decode back finite: a NaN there is a kernel
// dividing by zero, and QuantizeModel relies on it to skip decoding its output (see
// kAlwaysFiniteMagnitude). Beyond these magnitudes formats overflow (F16 at 65504, block
// scales likewise) and QuantizeModel decodes to check.
inline constexpr float kFuzzModerateValue = kAlwaysFiniteMagnitude;
inline constexpr float kFuzzModerateWeight = kAlwaysFiniteImportance;

inline void FuzzCheckDecoded(GgmlType type, std::span<const float> src,
                             std::span<const float> importance, std::span<const float> back) {
  for (float v : src) {
    if (!std::isfinite(v) || std::fabs(v) > kFuzzModerateValue) return;
  }
  for (float w : importance) {
    if (w > kFuzzModerateWeight) return;
  }
  for (size_t i = 0; i < back.size(); ++i) {
    if (!std::isfinite(back[i])) {
      FuzzFinding(std::string(GgmlTypeName(type)) + ": element " + std::to_string(i) +
                  " decodes to " + std::to_string(back[i]));
    }
  }
}

inline void FuzzQuantizeRows(std::span<const uint8_t> bytes) {
  static const std::vector<GgmlType> types = FuzzQuantizableTypes();
  if (bytes.size() < 3) return;
  const GgmlTypeTraits* named = FindGgmlType(bytes[0]);
  const GgmlType type =
      named != nullptr && CanQuantize(named->type) ? named->type : types[bytes[0] % types.size()];
  const int64_t row_length = GgmlBlockSize(type) * (1 + bytes[1] % 4);
  const auto row = static_cast<size_t>(row_length);
  const bool use_importance = (bytes[2] & 1) != 0 || RequiresImportance(type);
  size_t n_floats = (bytes.size() - 3) / sizeof(float);
  const uint8_t* floats = bytes.data() + 3;

  QuantizeOptions options;
  options.check_finite = (bytes[2] & 2) == 0;
  std::vector<float> importance;
  if (use_importance) {
    if (n_floats < row) return;
    importance = FuzzFloats(floats, row);
    for (float& w : importance) w = std::isfinite(w) ? std::fabs(w) : 1.0f;
    options.importance = importance;
    floats += row * sizeof(float);
    n_floats -= row;
  }
  const size_t n_rows = n_floats / row;
  if (n_rows == 0) return;
  const std::vector<float> src = FuzzFloats(floats, n_rows * row);
  std::vector<uint8_t> dst(n_rows * GgmlRowBytes(type, row_length));
  if (!QuantizeRows(type, src, row_length, dst, options).ok()) return;
  if (!CanDequantize(type)) return;
  std::vector<float> back(src.size());
  const Status decoded = DequantizeRows(type, dst, row_length, back);
  if (!decoded.ok()) FuzzFinding("cannot decode its own output: " + decoded.message());
  FuzzCheckDecoded(type, src, importance, back);
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_FUZZ_BODIES_H_
