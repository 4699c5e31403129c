// Generic affine (integer) quantization of rows of F32: the schemes ggml has no type for.
//
//   q = clip(round(x / s) + z, qmin, qmax)        x̂ = s · (q − z)
//
// - bits b in 2..8.
// - Symmetric: z = 0, s = absmax / qmax with qmax = 2^(b−1) − 1; signed codes in
//   [−qmax, qmax] (the narrow range: −2^(b−1) is never produced, as in ggml's Q8_0).
// - Asymmetric: the range [min, max] is first widened to contain 0 (so 0 is exact and the
//   zero point fits the code range), s = (max − min) / (2^b − 1), z = round(−min / s);
//   unsigned codes in [0, 2^b − 1].
// - Arithmetic is F32 step by step, as ggml's reference quantizers do it: s is computed in
//   F32, round(x / s) is roundf(x · (1/s)) (half away from zero), and the stored scale is s
//   rounded to the scale type afterwards. That makes symmetric INT8 with groups of 32 and
//   F16 scales byte-identical to ggml's Q8_0 (see docs/FORMAT.md).
// - Granularity: one scale for the whole tensor, one per row ("channel": a GGUF row is one
//   output channel of a weight), or one per group of `group_size` consecutive elements of a
//   row; the last group of a row is shorter when the row is not a multiple of the group size.
// - A group of zeros gets s = 0 and decodes to zeros.
// - Optional scale search: each group also tries clipped ranges α·[min, max] for a fixed set
//   of α < 1 and keeps the one whose decoded values have the lowest squared error (α = 1,
//   plain min/max, is always a candidate, so the search never does worse per group).
// - Packing: the codes of a row are stored in containers of w = 8 bits (b >= 5), 4 bits
//   (b = 3, 4) or 2 bits (b = 2), as two's complement when signed, first element in the most
//   significant bits of each byte; every row starts on a byte boundary.
//
// Quantization is a pure function of the input: rows are split into contiguous chunks across
// threads and the bytes do not depend on the thread count.
#ifndef QTK_SCHEME_AFFINE_H_
#define QTK_SCHEME_AFFINE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"

namespace qtk {

enum class AffineGranularity : uint8_t {
  kPerTensor,   // one scale (and zero point) for the whole tensor
  kPerChannel,  // one per row
  kGroup,       // one per group_size consecutive elements of a row
};

struct AffineSpec {
  // Bits per code, 2..8. Default: 8.
  int bits = 8;
  // Symmetric (z = 0, signed codes) or asymmetric (zero point, unsigned codes). Default: true.
  bool symmetric = true;
  // Default: per channel.
  AffineGranularity granularity = AffineGranularity::kPerChannel;
  // Elements per group for kGroup (> 0); ignored otherwise. Default: 0.
  int64_t group_size = 0;
  // How scales and zero points are stored: kF16 or kF32. Default: kF16.
  GgmlType scale_type = GgmlType::kF16;
  // Try clipped ranges and keep the lowest squared error. Default: off.
  bool search_scale = false;
};

// InvalidArgument if a field is out of range ("affine bits is 9, must be 2..8").
Status ValidateAffineSpec(const AffineSpec& spec);

// The code range. REQUIRES: a valid spec.
int AffineQmin(const AffineSpec& spec);
int AffineQmax(const AffineSpec& spec);
// Bits each code occupies in the packed rows: 8, 4 or 2.
int AffineCodeWidth(int bits);
// Bytes of one packed row of row_length codes.
int64_t AffineRowBytes(const AffineSpec& spec, int64_t row_length);
// Scales per row (1 for per-tensor and per-channel).
int64_t AffineGroupsPerRow(const AffineSpec& spec, int64_t row_length);
// Scales (and zero points) for the whole tensor.
int64_t AffineScaleCount(const AffineSpec& spec, int64_t n_rows, int64_t row_length);

struct AffineQuantized {
  std::vector<uint8_t> codes;      // n_rows x AffineRowBytes(spec, row_length)
  std::vector<float> scales;       // AffineScaleCount(...), row-major; exact in scale_type
  std::vector<float> zero_points;  // as many as scales when asymmetric (integers), else empty
};

// Quantizes `values` (rows of row_length, row-major).
// Errors: InvalidArgument for an invalid spec, row_length <= 0, a size that is not whole rows,
// a NaN or infinity in the input ("element 1234 (row 3, column 210) is nan"), or a scale that
// does not fit the scale type ("row 2, group 0: scale 1.2e+05 overflows F16").
Result<AffineQuantized> QuantizeAffine(const AffineSpec& spec, std::span<const float> values,
                                       int64_t row_length, int n_threads = 1);

// Decodes packed codes into `out` (n_rows x row_length F32, n_rows = out.size() / row_length).
// Errors: InvalidArgument when a size does not match the spec and shape.
Status DequantizeAffine(const AffineSpec& spec, std::span<const uint8_t> codes,
                        std::span<const float> scales, std::span<const float> zero_points,
                        int64_t row_length, std::span<float> out, int n_threads = 1);

// Code i of a packed row (sign-extended when the spec is symmetric), for tests and tools.
int AffineCodeAt(const AffineSpec& spec, std::span<const uint8_t> row, int64_t i);

}  // namespace qtk

#endif  // QTK_SCHEME_AFFINE_H_
