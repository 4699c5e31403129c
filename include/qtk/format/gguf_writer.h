// Streaming GGUF v3 writer: header first, then each tensor's bytes in order.
//
// The whole layout (every tensor's offset) follows from the metadata and the tensors' types
// and shapes, so the header is written before any tensor data exists and the model never
// has to fit in memory. The format is described in qtk/format/gguf.h.
#ifndef QTK_FORMAT_GGUF_WRITER_H_
#define QTK_FORMAT_GGUF_WRITER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/gguf.h"
#include "qtk/format/output_file.h"

namespace qtk {

// The layout a GGUF file with this content would have.
struct GgufLayout {
  uint64_t alignment = kGgufDefaultAlignment;
  uint64_t header_bytes = 0;            // up to the data section, padding included
  uint64_t data_bytes = 0;              // the data section, padding included
  std::vector<GgufTensorInfo> tensors;  // with offset and n_bytes filled in

  uint64_t file_bytes() const { return header_bytes + data_bytes; }
};

// Computes offsets and sizes. The alignment is general.alignment if present.
// Errors: InvalidArgument for duplicate keys or tensor names, names longer than 63 bytes,
// more than 4 dimensions, negative dimensions, rows that are not a multiple of the type's
// block, a general.alignment that is not a u32 power of two.
Result<GgufLayout> LayOutGguf(const std::vector<GgufKeyValue>& metadata,
                              std::vector<GgufTensorInfo> tensors);

class GgufWriter {
 public:
  // Validates the layout and writes the header to `sink`. `sink` must outlive the writer.
  static Result<GgufWriter> Start(ByteSink& sink, const std::vector<GgufKeyValue>& metadata,
                                  std::vector<GgufTensorInfo> tensors);

  // Writes the next tensor (in layout order) and its padding.
  // REQUIRES: data.size() == that tensor's n_bytes (else InvalidArgument).
  Status WriteTensor(std::span<const uint8_t> data);

  // Writes tensor `index` of the layout and its padding, in any order (the sink must
  // support positional writes). REQUIRES: data.size() == its n_bytes; written once.
  Status WriteTensorAt(size_t index, std::span<const uint8_t> data);

  // The first tensor not yet written; nullptr when all are.
  const GgufTensorInfo* next_tensor() const;

  // Checks every tensor was written, then commits the sink.
  Status Finish();

  const GgufLayout& layout() const { return layout_; }

 private:
  GgufWriter(ByteSink& sink, GgufLayout layout)
      : sink_(&sink), layout_(std::move(layout)), written_(layout_.tensors.size(), false) {}

  ByteSink* sink_;
  GgufLayout layout_;
  std::vector<bool> written_;
  size_t n_written_ = 0;
};

// The header bytes (through the padding before the data section) for `layout`.
std::vector<uint8_t> SerializeGgufHeader(const std::vector<GgufKeyValue>& metadata,
                                         const GgufLayout& layout);

// Writes `file` back out (same metadata, tensors and bytes) to `sink`.
Status CopyGguf(const GgufFile& file, ByteSink& sink);

}  // namespace qtk

#endif  // QTK_FORMAT_GGUF_WRITER_H_
