// The generic affine quantizer (qtk/scheme/affine.h): parameters per group, the optional scale
// search, MSB-first code packing, and decoding.
#include "qtk/scheme/affine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "base/parallel.h"
#include "qtk/base/float_convert.h"
#include "quant/quant_checks.h"

namespace qtk {
namespace {

// Clipping factors tried by the scale search: α = 1 − k·kSearchStep for k < kSearchSteps,
// i.e. 1, 0.975, ..., 0.525. α = 1 comes first and a candidate must be strictly better to
// replace it, so the search never loses to plain min/max.
constexpr int kSearchSteps = 20;
constexpr double kSearchStep = 0.025;

float SearchAlpha(int k) { return static_cast<float>(1.0 - kSearchStep * k); }

// Everything encoding and decoding one group needs.
struct GroupParams {
  float raw_scale = 0;     // s in F32, before rounding to the scale type
  float inv_scale = 0;     // 1/s, 0 when s is 0 (or so small that 1/s overflows)
  int zero = 0;            // z
  float stored_scale = 0;  // s rounded to the scale type: what decoding multiplies by
};

// Elements per group (the last group of a row may be shorter).
int64_t GroupLength(const AffineSpec& spec, int64_t row_length) {
  return spec.granularity == AffineGranularity::kGroup ? spec.group_size : row_length;
}

struct Range {
  float lo = 0;  // min
  float hi = 0;  // max
};

// REQUIRES: n >= 1. Eight independent lanes so that the compiler can vectorize; min and max
// of finite values do not depend on the order (up to the sign of a zero, which ParamsFor
// normalises).
Range MinMax(const float* x, int64_t n) {
  constexpr int kLanes = 8;
  float lo[kLanes], hi[kLanes];
  for (int k = 0; k < kLanes; ++k) lo[k] = hi[k] = x[0];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      lo[k] = x[i + k] < lo[k] ? x[i + k] : lo[k];
      hi[k] = x[i + k] > hi[k] ? x[i + k] : hi[k];
    }
  }
  Range range{x[0], x[0]};
  for (int k = 0; k < kLanes; ++k) {
    range.lo = std::min(range.lo, lo[k]);
    range.hi = std::max(range.hi, hi[k]);
  }
  for (; i < n; ++i) {
    range.lo = std::min(range.lo, x[i]);
    range.hi = std::max(range.hi, x[i]);
  }
  return range;
}

float RoundToScaleType(float value, GgmlType type) {
  return type == GgmlType::kF16 ? F16ToF32(F32ToF16(value)) : value;
}

// roundf (half away from zero) without the libm call: the fraction v − trunc(v) is exact.
// REQUIRES: |v| < 2^31.
inline int RoundHalfAway(float v) {
  const int truncated = static_cast<int>(v);
  const float fraction = v - static_cast<float>(truncated);
  return truncated + (fraction >= 0.5f ? 1 : 0) - (fraction <= -0.5f ? 1 : 0);
}

GroupParams ParamsFor(const AffineSpec& spec, Range range, float alpha) {
  GroupParams params;
  if (spec.symmetric) {
    // max(|min|, |max|) is the absolute maximum ggml's Q8_0 computes, bit for bit.
    const float amax = std::max(-range.lo, range.hi) * alpha;
    params.raw_scale = amax / static_cast<float>(AffineQmax(spec));
  } else {
    const float lo = std::min(range.lo, 0.0f) * alpha;
    const float hi = std::max(range.hi, 0.0f) * alpha;
    params.raw_scale = (hi - lo) / static_cast<float>(AffineQmax(spec));
    const float inv = params.raw_scale != 0 ? 1.0f / params.raw_scale : 0.0f;
    if (std::isfinite(inv)) {
      params.zero = std::clamp(RoundHalfAway(-lo * inv), 0, AffineQmax(spec));
    }
  }
  if (params.raw_scale == 0) params.raw_scale = 0.0f;  // +0, never −0 (ggml's amax starts at +0)
  const float inv = params.raw_scale != 0 ? 1.0f / params.raw_scale : 0.0f;
  if (!std::isfinite(inv)) return GroupParams{};  // s below ~3e-39: treat the group as zeros
  params.inv_scale = inv;
  params.stored_scale = RoundToScaleType(params.raw_scale, spec.scale_type);
  return params;
}

// Codes are computed a chunk at a time into a small buffer: the loop below has no calls and
// no branches, so the compiler can vectorize it (same IEEE operations, same bytes).
constexpr int64_t kChunk = 256;

// codes[i] = clip(round(x[i]/s) + z) for i < n (n <= kChunk). The scaled value is clipped
// one step beyond the code range before rounding (which rounds to the same clipped code), so
// no input can make the conversion to int undefined.
void EncodeChunk(const AffineSpec& spec, const float* x, int64_t n, const GroupParams& params,
                 int32_t* codes) {
  const int lo = AffineQmin(spec) - params.zero;
  const int hi = AffineQmax(spec) - params.zero;
  const float lo_wide = static_cast<float>(lo - 1);
  const float hi_wide = static_cast<float>(hi + 1);
  const float inv = params.inv_scale;
  const int zero = params.zero;  // a local: the stores below cannot alias it
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] * inv;
    v = v < lo_wide ? lo_wide : v;
    v = v > hi_wide ? hi_wide : v;
    int32_t q = RoundHalfAway(v);
    q = q < lo ? lo : q;
    q = q > hi ? hi : q;
    codes[i] = q + zero;
  }
}

inline float DecodeValue(int code, float scale, float zero) {
  return scale * (static_cast<float>(code) - zero);
}

double SquaredError(const AffineSpec& spec, const float* x, int64_t n, const GroupParams& params) {
  const auto zero = static_cast<float>(params.zero);
  int32_t codes[kChunk];
  double sum = 0;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t count = std::min(kChunk, n - start);
    EncodeChunk(spec, x + start, count, params, codes);
    for (int64_t i = 0; i < count; ++i) {
      const float x_hat = DecodeValue(codes[i], params.stored_scale, zero);
      const double error = static_cast<double>(x[start + i]) - x_hat;
      sum += error * error;
    }
  }
  return sum;
}

// Min/max parameters for `range`, or with the scale search the clipped range whose
// error_of(params) is lowest.
template <typename ErrorOf>
GroupParams ChooseParams(const AffineSpec& spec, Range range, const ErrorOf& error_of) {
  GroupParams best = ParamsFor(spec, range, 1.0f);
  if (!spec.search_scale) return best;
  double best_error = error_of(best);
  for (int k = 1; k < kSearchSteps; ++k) {
    const GroupParams candidate = ParamsFor(spec, range, SearchAlpha(k));
    const double error = error_of(candidate);
    if (error < best_error) {
      best = candidate;
      best_error = error;
    }
  }
  return best;
}

GroupParams ChooseGroupParams(const AffineSpec& spec, const float* x, int64_t n) {
  return ChooseParams(spec, MinMax(x, n),
                      [&](const GroupParams& params) { return SquaredError(spec, x, n, params); });
}

// Where code i of a row lives: byte i >> log2(codes per byte), `shift` bits up from bit 0.
struct CodeSlot {
  int64_t byte;
  int shift;
};

inline int CodesPerByteLog2(int width) { return width == 8 ? 0 : width == 4 ? 1 : 2; }

inline CodeSlot SlotOf(int64_t i, int width) {
  const int log2_per_byte = CodesPerByteLog2(width);
  const int index_in_byte = static_cast<int>(i & ((int64_t{1} << log2_per_byte) - 1));
  return {i >> log2_per_byte, 8 - width * (index_in_byte + 1)};
}

void EncodeGroup(const AffineSpec& spec, const float* x, int64_t n, const GroupParams& params,
                 uint8_t* row, int64_t first) {
  const int width = AffineCodeWidth(spec.bits);
  const int mask = (1 << width) - 1;
  int32_t codes[kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t count = std::min(kChunk, n - start);
    EncodeChunk(spec, x + start, count, params, codes);
    uint8_t* out = row + first + start;
    if (width == 8) {
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(codes[i] & mask);
      continue;
    }
    for (int64_t i = 0; i < count; ++i) {
      const CodeSlot slot = SlotOf(first + start + i, width);
      row[slot.byte] = static_cast<uint8_t>(row[slot.byte] | ((codes[i] & mask) << slot.shift));
    }
  }
}

// Per-channel and group-wise: every group of every row chooses its own parameters.
void QuantizeGroups(const AffineSpec& spec, std::span<const float> values, int64_t row_length,
                    AffineQuantized& out, std::vector<float>& raw_scales, int n_threads) {
  const int64_t n_rows = static_cast<int64_t>(values.size()) / row_length;
  const int64_t groups = AffineGroupsPerRow(spec, row_length);
  const int64_t group_length = GroupLength(spec, row_length);
  const int64_t row_bytes = AffineRowBytes(spec, row_length);
  ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* x = values.data() + row * row_length;
      uint8_t* codes = out.codes.data() + row * row_bytes;
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t first = g * group_length;
        const int64_t n = std::min(group_length, row_length - first);
        const GroupParams params = ChooseGroupParams(spec, x + first, n);
        EncodeGroup(spec, x + first, n, params, codes, first);
        const auto index = static_cast<size_t>(row * groups + g);
        out.scales[index] = params.stored_scale;
        raw_scales[index] = params.raw_scale;
        if (!spec.symmetric) out.zero_points[index] = static_cast<float>(params.zero);
      }
    }
  });
}

// Squared error of the whole tensor under `params`, summed per row and then in row order.
double TensorSquaredError(const AffineSpec& spec, std::span<const float> values, int64_t row_length,
                          const GroupParams& params, int n_threads) {
  const int64_t n_rows = static_cast<int64_t>(values.size()) / row_length;
  std::vector<double> row_errors(static_cast<size_t>(n_rows));
  ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      row_errors[static_cast<size_t>(row)] =
          SquaredError(spec, values.data() + row * row_length, row_length, params);
    }
  });
  double total = 0;
  for (double error : row_errors) total += error;
  return total;
}

GroupParams ChooseTensorParams(const AffineSpec& spec, std::span<const float> values,
                               int64_t row_length, int n_threads) {
  const int64_t n_rows = static_cast<int64_t>(values.size()) / row_length;
  std::vector<Range> row_ranges(static_cast<size_t>(n_rows));
  ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      row_ranges[static_cast<size_t>(row)] = MinMax(values.data() + row * row_length, row_length);
    }
  });
  Range range = row_ranges[0];
  for (const Range& r : row_ranges) {
    range.lo = std::min(range.lo, r.lo);
    range.hi = std::max(range.hi, r.hi);
  }
  return ChooseParams(spec, range, [&](const GroupParams& params) {
    return TensorSquaredError(spec, values, row_length, params, n_threads);
  });
}

void QuantizeTensor(const AffineSpec& spec, std::span<const float> values, int64_t row_length,
                    AffineQuantized& out, std::vector<float>& raw_scales, int n_threads) {
  const GroupParams params = ChooseTensorParams(spec, values, row_length, n_threads);
  const int64_t n_rows = static_cast<int64_t>(values.size()) / row_length;
  const int64_t row_bytes = AffineRowBytes(spec, row_length);
  ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      EncodeGroup(spec, values.data() + row * row_length, row_length, params,
                  out.codes.data() + row * row_bytes, 0);
    }
  });
  out.scales[0] = params.stored_scale;
  raw_scales[0] = params.raw_scale;
  if (!spec.symmetric) out.zero_points[0] = static_cast<float>(params.zero);
}

// InvalidArgument naming the first scale the scale type cannot hold.
Status CheckScales(const AffineSpec& spec, const AffineQuantized& out,
                   const std::vector<float>& raw_scales, int64_t row_length) {
  const int64_t groups = AffineGroupsPerRow(spec, row_length);
  for (size_t i = 0; i < out.scales.size(); ++i) {
    if (std::isfinite(out.scales[i])) continue;
    char value[32];
    std::snprintf(value, sizeof(value), "%g", static_cast<double>(raw_scales[i]));
    const std::string where = spec.granularity == AffineGranularity::kPerTensor
                                  ? std::string("tensor")
                                  : "row " + std::to_string(static_cast<int64_t>(i) / groups) +
                                        ", group " +
                                        std::to_string(static_cast<int64_t>(i) % groups);
    return Status::InvalidArgument(where + ": scale " + value + " overflows " +
                                   std::string(GgmlTypeName(spec.scale_type)) +
                                   (spec.scale_type == GgmlType::kF16 ? " (max 65504)" : ""));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateAffineSpec(const AffineSpec& spec) {
  if (spec.bits < 2 || spec.bits > 8) {
    return Status::InvalidArgument("affine bits is " + std::to_string(spec.bits) +
                                   ", must be 2..8");
  }
  if (spec.granularity == AffineGranularity::kGroup && spec.group_size <= 0) {
    return Status::InvalidArgument("affine group size is " + std::to_string(spec.group_size) +
                                   ", must be > 0");
  }
  if (spec.scale_type != GgmlType::kF16 && spec.scale_type != GgmlType::kF32) {
    return Status::InvalidArgument("affine scale type is " +
                                   std::string(GgmlTypeName(spec.scale_type)) +
                                   ", must be F16 or F32");
  }
  return Status::Ok();
}

int AffineQmin(const AffineSpec& spec) {
  return spec.symmetric ? -((1 << (spec.bits - 1)) - 1) : 0;
}

int AffineQmax(const AffineSpec& spec) {
  return spec.symmetric ? (1 << (spec.bits - 1)) - 1 : (1 << spec.bits) - 1;
}

int AffineCodeWidth(int bits) { return bits > 4 ? 8 : bits > 2 ? 4 : 2; }

int64_t AffineRowBytes(const AffineSpec& spec, int64_t row_length) {
  return (row_length * AffineCodeWidth(spec.bits) + 7) / 8;
}

int64_t AffineGroupsPerRow(const AffineSpec& spec, int64_t row_length) {
  if (spec.granularity != AffineGranularity::kGroup) return 1;
  return (row_length + spec.group_size - 1) / spec.group_size;
}

int64_t AffineScaleCount(const AffineSpec& spec, int64_t n_rows, int64_t row_length) {
  if (spec.granularity == AffineGranularity::kPerTensor) return 1;
  return n_rows * AffineGroupsPerRow(spec, row_length);
}

int AffineCodeAt(const AffineSpec& spec, std::span<const uint8_t> row, int64_t i) {
  const int width = AffineCodeWidth(spec.bits);
  const CodeSlot slot = SlotOf(i, width);
  const int code = (row[static_cast<size_t>(slot.byte)] >> slot.shift) & ((1 << width) - 1);
  if (spec.symmetric && (code & (1 << (width - 1))) != 0) return code - (1 << width);
  return code;
}

Result<AffineQuantized> QuantizeAffine(const AffineSpec& spec, std::span<const float> values,
                                       int64_t row_length, int n_threads) {
  QTK_RETURN_IF_ERROR(ValidateAffineSpec(spec));
  QTK_RETURN_IF_ERROR(CheckWholeRows(values.size(), row_length));
  QTK_RETURN_IF_ERROR(CheckFinite(values, row_length, n_threads));
  const int64_t n_rows = static_cast<int64_t>(values.size()) / row_length;
  const auto n_scales = static_cast<size_t>(AffineScaleCount(spec, n_rows, row_length));
  AffineQuantized out;
  out.codes.assign(static_cast<size_t>(n_rows * AffineRowBytes(spec, row_length)), 0);
  out.scales.assign(n_scales, 0.0f);
  if (!spec.symmetric) out.zero_points.assign(n_scales, 0.0f);
  if (n_rows == 0) return out;
  std::vector<float> raw_scales(n_scales, 0.0f);
  if (spec.granularity == AffineGranularity::kPerTensor) {
    QuantizeTensor(spec, values, row_length, out, raw_scales, n_threads);
  } else {
    QuantizeGroups(spec, values, row_length, out, raw_scales, n_threads);
  }
  QTK_RETURN_IF_ERROR(CheckScales(spec, out, raw_scales, row_length));
  return out;
}

Status DequantizeAffine(const AffineSpec& spec, std::span<const uint8_t> codes,
                        std::span<const float> scales, std::span<const float> zero_points,
                        int64_t row_length, std::span<float> out, int n_threads) {
  QTK_RETURN_IF_ERROR(ValidateAffineSpec(spec));
  QTK_RETURN_IF_ERROR(CheckWholeRows(out.size(), row_length));
  const int64_t n_rows = static_cast<int64_t>(out.size()) / row_length;
  const int64_t row_bytes = AffineRowBytes(spec, row_length);
  const auto n_scales = static_cast<size_t>(AffineScaleCount(spec, n_rows, row_length));
  if (codes.size() != static_cast<size_t>(n_rows * row_bytes)) {
    return Status::InvalidArgument("affine codes are " + std::to_string(codes.size()) +
                                   " bytes, expected " + std::to_string(n_rows * row_bytes));
  }
  const size_t n_zero_points = spec.symmetric ? 0 : n_scales;
  if (scales.size() != n_scales || zero_points.size() != n_zero_points) {
    return Status::InvalidArgument(
        "affine scales and zero points are " + std::to_string(scales.size()) + " and " +
        std::to_string(zero_points.size()) + ", expected " + std::to_string(n_scales) + " and " +
        std::to_string(n_zero_points));
  }
  const int64_t groups = AffineGroupsPerRow(spec, row_length);
  const int64_t group_length = GroupLength(spec, row_length);
  const bool per_tensor = spec.granularity == AffineGranularity::kPerTensor;
  ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const auto packed =
          codes.subspan(static_cast<size_t>(row * row_bytes), static_cast<size_t>(row_bytes));
      float* x = out.data() + row * row_length;
      for (int64_t g = 0; g < groups; ++g) {
        const auto index = static_cast<size_t>(per_tensor ? 0 : row * groups + g);
        const float scale = scales[index];
        const float zero = spec.symmetric ? 0.0f : zero_points[index];
        const int64_t last = std::min(row_length, (g + 1) * group_length);
        for (int64_t i = g * group_length; i < last; ++i) {
          x[i] = DecodeValue(AffineCodeAt(spec, packed, i), scale, zero);
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace qtk
