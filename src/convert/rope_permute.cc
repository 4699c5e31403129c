// LlamaModel.permute: Hugging Face stores each head's q/k rows in rotate-half order
// (all first halves of the rotary pairs, then all second halves); llama.cpp's rope wants
// the two members of a pair in adjacent rows. The permutation only moves whole rows, so it
// works on any element type.
#include <cstring>

#include "qtk/convert/architecture.h"

namespace qtk {

int64_t RopePermuteSourceRow(int64_t row, int64_t n_rows, int64_t n_head) {
  // weights.reshape(n_head, 2, half, ...).swapaxes(1, 2): output (h, i, j) <- input (h, j, i)
  const int64_t head_dim = n_rows / n_head;
  const int64_t half = head_dim / 2;
  const int64_t head = row / head_dim;
  const int64_t within = row % head_dim;
  const int64_t i = within / 2;
  const int64_t j = within % 2;
  return head * head_dim + j * half + i;
}

Status PermuteRopeRows(std::span<const uint8_t> src, std::span<uint8_t> dst, int64_t n_rows,
                       size_t row_bytes, int64_t n_head) {
  if (n_head <= 0 || n_rows < 0 || n_rows % (2 * n_head) != 0) {
    return Status::InvalidArgument("rope permutation: " + std::to_string(n_rows) +
                                   " rows do not split into " + std::to_string(n_head) +
                                   " heads of rotary pairs");
  }
  const uint64_t n_bytes = static_cast<uint64_t>(n_rows) * row_bytes;
  if (src.size() != n_bytes || dst.size() != n_bytes) {
    return Status::InvalidArgument("rope permutation: buffers of " + std::to_string(src.size()) +
                                   " and " + std::to_string(dst.size()) + " bytes, expected " +
                                   std::to_string(n_bytes));
  }
  for (int64_t row = 0; row < n_rows; ++row) {
    const int64_t from = RopePermuteSourceRow(row, n_rows, n_head);
    std::memcpy(dst.data() + static_cast<size_t>(row) * row_bytes,
                src.data() + static_cast<size_t>(from) * row_bytes, row_bytes);
  }
  return Status::Ok();
}

Status PermuteRopeRows(std::span<const float> src, std::span<float> dst, int64_t n_rows,
                       int64_t row_length, int64_t n_head) {
  if (row_length < 0) return Status::InvalidArgument("rope permutation: negative row length");
  const std::span<const uint8_t> src_bytes(reinterpret_cast<const uint8_t*>(src.data()),
                                           src.size_bytes());
  const std::span<uint8_t> dst_bytes(reinterpret_cast<uint8_t*>(dst.data()), dst.size_bytes());
  return PermuteRopeRows(src_bytes, dst_bytes, n_rows,
                         static_cast<size_t>(row_length) * sizeof(float), n_head);
}

}  // namespace qtk
