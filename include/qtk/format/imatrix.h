// Importance matrices: llama-imatrix's per-column activation statistics, read from either of
// its file forms and turned into the per-column quantization weights that llama-quantize's
// --imatrix passes to the quantizers (see QuantizeOptions::importance).
//
// GGUF form (what llama-imatrix writes by default):
//   general.type         str       "imatrix" (checked when present)
//   imatrix.datasets     arr[str]  the calibration files
//   imatrix.chunk_count  u32       chunks processed
//   imatrix.chunk_size   u32       tokens per chunk
//   for each weight tensor W that saw activations, two F32 tensors:
//     W.in_sum2   ne = [row_length, n_matrices]  sum over tokens of each input column's
//                                               squared activation, per matrix (expert)
//     W.counts    ne = [1, n_matrices]          tokens seen, per matrix
//   Other tensors (W.in_sum, ...) are ignored.
//   weight[m][c] = in_sum2[m][c] / counts[m]  if counts[m] > 0, else 1 (no data: neutral).
//
// Legacy form (".dat", little-endian):
//   i32 n_entries
//   n_entries x { i32 name_length; name bytes; i32 ncall; i32 n_values; f32 values[n_values] }
//   optional trailer: i32 chunk_count; i32 dataset_length; dataset bytes
//   weight[i] = values[i] / ncall  if ncall > 0, else values[i].
//   A 3-D (expert) tensor's values are its experts' values end to end.
//
// The division is in single precision, exactly as llama-quantize's load_imatrix does it, so
// quantizing with these weights reproduces llama-quantize --imatrix byte for byte.
#ifndef QTK_FORMAT_IMATRIX_H_
#define QTK_FORMAT_IMATRIX_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/base/status.h"

namespace qtk {

enum class ImportanceFormat : uint8_t { kGguf, kLegacy };

struct ImportanceEntry {
  std::string name;            // the weight tensor, e.g. "blk.0.ffn_down.weight"
  int64_t n_matrices = 1;      // GGUF: in_sum2's rows (experts); legacy: 1 (not recorded)
  std::vector<float> weights;  // per-column weights, matrix-major
};

// A parsed, validated importance matrix.
class ImportanceMatrix {
 public:
  ImportanceFormat format() const { return format_; }
  // Calibration files (legacy: the trailer's one name, or none).
  const std::vector<std::string>& datasets() const { return datasets_; }
  // Chunks the statistics cover (legacy: 0 without a trailer).
  int64_t chunk_count() const { return chunk_count_; }
  // Tokens per chunk (0 for legacy files, which do not record it).
  int64_t chunk_size() const { return chunk_size_; }
  // Every entry, sorted by name.
  const std::vector<ImportanceEntry>& entries() const { return entries_; }

  // nullptr if there is no entry for `tensor_name`.
  const ImportanceEntry* Find(std::string_view tensor_name) const;

  // The weights llama-quantize would use for a tensor of n_matrices x rows x row_length:
  // empty if the matrix has no entry for it (the tensor is then quantized without).
  // Matrix m's row weights are result.subspan(m * row_length, row_length).
  // Errors: InvalidArgument if the entry holds a different number of weights (llama-quantize
  // stops there too, except for token_embd.weight, which it quantizes without).
  Result<std::span<const float>> WeightsFor(std::string_view tensor_name, int64_t row_length,
                                            int64_t n_matrices = 1) const;

 private:
  friend class ImportanceMatrixBuilder;

  ImportanceFormat format_ = ImportanceFormat::kGguf;
  std::vector<std::string> datasets_;
  int64_t chunk_count_ = 0;
  int64_t chunk_size_ = 0;
  std::vector<ImportanceEntry> entries_;
};

// Parses either form (a file starting with "GGUF" is the GGUF form).
// Errors: Corruption naming the byte offset and the rule broken: a malformed GGUF, missing or
// mistyped imatrix metadata, in_sum2 without counts (or the reverse), shapes that disagree,
// non-F32 data, negative or non-finite sums or counts, truncated or oversized legacy fields,
// duplicate names, trailing bytes.
Result<ImportanceMatrix> ParseImportanceMatrix(std::shared_ptr<const ByteSource> source);

// MapFile(path) then ParseImportanceMatrix.
Result<ImportanceMatrix> ReadImportanceMatrixFile(const std::string& path);

}  // namespace qtk

#endif  // QTK_FORMAT_IMATRIX_H_
