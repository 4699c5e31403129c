// Streaming safetensors writer, and the index of a sharded checkpoint.
//
// File layout (all integers little-endian):
//   1. N       u64: the header's length in bytes
//   2. header  N bytes of UTF-8 JSON, one object:
//                {"__metadata__": {"<key>": "<string>", ...},          (optional)
//                 "<tensor name>": {"dtype": "BF16", "shape": [rows, cols],
//                                   "data_offsets": [begin, end]}, ...}
//              padded with spaces so that the data section starts at a multiple of 8
//   3. data    every tensor's bytes, contiguous, in header order; offsets are relative to the
//              start of the data section, end - begin = product(shape) x dtype size.
// The header is written first (the layout follows from names, dtypes and shapes), then the
// tensors' bytes in order, in as many pieces as the caller likes: a tensor never has to be in
// memory whole.
//
// Sharded checkpoints ("model-00001-of-00003.safetensors" ...) come with
// model.safetensors.index.json: {"metadata": {"total_size": <data bytes>},
// "weight_map": {"<tensor name>": "<file>", ...}}.
#ifndef QTK_FORMAT_SAFETENSORS_WRITER_H_
#define QTK_FORMAT_SAFETENSORS_WRITER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/output_file.h"

namespace qtk {

// Bytes per element of a safetensors dtype name ("F32" -> 4, "BF16" -> 2, "BOOL" -> 1);
// 0 for an unknown name. (Sub-byte dtypes are not written by qtk.)
size_t SafetensorsDtypeSize(std::string_view dtype);

struct SafetensorsTensorSpec {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", ... as the format spells it
  std::vector<int64_t> shape;  // outermost dimension first
};

struct SafetensorsLayout {
  std::vector<uint8_t> header;         // the length prefix, JSON and padding
  std::vector<uint64_t> tensor_bytes;  // per tensor, in order
  uint64_t data_bytes = 0;

  uint64_t file_bytes() const { return header.size() + data_bytes; }
};

// The header and sizes for these tensors.
// Errors: InvalidArgument for empty, duplicate, non-UTF-8 or reserved ("__metadata__")
// names, unknown dtypes, negative dimensions, sizes that overflow.
Result<SafetensorsLayout> LayOutSafetensors(
    const std::vector<SafetensorsTensorSpec>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata = {});

class SafetensorsWriter {
 public:
  // Validates the layout and writes the header to `sink`, which must outlive the writer.
  static Result<SafetensorsWriter> Start(
      ByteSink& sink, const std::vector<SafetensorsTensorSpec>& tensors,
      const std::vector<std::pair<std::string, std::string>>& metadata = {});

  // Appends the next bytes of the tensor being written; moves on to the next tensor when the
  // current one is complete. Errors: InvalidArgument when `bytes` runs past the last tensor.
  Status Write(std::span<const uint8_t> bytes);

  // Index of the tensor the next Write continues; == n_tensors when all are written.
  size_t current_tensor() const { return current_; }

  // Checks every tensor is complete, then commits the sink.
  Status Finish();

  const SafetensorsLayout& layout() const { return layout_; }

 private:
  SafetensorsWriter(ByteSink& sink, SafetensorsLayout layout)
      : sink_(&sink), layout_(std::move(layout)) {}

  void SkipEmptyTensors();

  ByteSink* sink_;
  SafetensorsLayout layout_;
  size_t current_ = 0;
  uint64_t written_in_current_ = 0;
};

// model.safetensors.index.json text as transformers writes it (indent 2, keys sorted,
// trailing newline). `weight_map` pairs are (tensor name, file name).
std::string SafetensorsIndexJson(
    uint64_t total_size, const std::vector<std::pair<std::string, std::string>>& weight_map);

}  // namespace qtk

#endif  // QTK_FORMAT_SAFETENSORS_WRITER_H_
