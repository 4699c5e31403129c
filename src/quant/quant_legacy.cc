// Kernels for ggml's legacy block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
//
// Every format cuts a row into blocks of 32 elements; each block is stored as below (all
// fields little-endian, F16 = IEEE half, no padding):
//
//   Q4_0 (18 bytes): d F16 | qs[16]        x[j] = (q[j] - 8) * d
//   Q4_1 (20 bytes): d F16 | m F16 | qs[16]           x[j] = q[j] * d + m
//   Q5_0 (22 bytes): d F16 | qh u32 | qs[16]          x[j] = (q[j] - 16) * d
//   Q5_1 (24 bytes): d F16 | m F16 | qh u32 | qs[16]  x[j] = q[j] * d + m
//   Q8_0 (34 bytes): d F16 | qs[32] int8              x[j] = qs[j] * d
//
// The 4-bit formats pack element j (0..15) in the low nibble of qs[j] and element j + 16 in
// its high nibble. The 5-bit formats keep the low four bits of q[j] that way and bit 4 of
// q[j] in bit j of qh (qh is stored as 4 bytes, so its byte order is little-endian).
//
// Without importance, the codes are ggml's quantize_row_*_ref, reproduced in single
// precision operation by operation (this file is built with -ffp-contract=off):
//   Q4_0 / Q5_0: max = the first element of largest magnitude (its sign kept),
//                d = max / -8 (or / -16), id = d ? 1/d : 0,
//                q = min(15, (int8)(x*id + 8.5f)) (or min(31, (int8)(x*id + 16.5f))),
//                i.e. truncation, which rounds half up after the +8.5.
//   Q4_1 / Q5_1: d = (max - min) / 15 (or / 31), m = min, id = d ? 1/d : 0,
//                q = (int8)((x - min)*id + 0.5f), clamped to 15 for Q4_1 only.
//   Q8_0:        d = amax / 127, id = d ? 1/d : 0, q = roundf(x*id) (half away from zero).
// With importance, see quant_legacy_weighted.cc.
#include "quant/quant_legacy.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>

#include "quant/quant_bytes.h"
#include "quant/quant_kernels.h"
#include "quant/quant_search.h"

namespace qtk {
namespace {

constexpr int kBlock = static_cast<int>(kLegacyBlockSize);
constexpr int kHalf = kBlock / 2;

// Q4_1 and Q5_1's block header: d = (max - min) / nmax, then m = min. Returns the inverse
// scale the codes are computed with (1/d, or 0 when d is 0); *min receives the minimum.
float StoreAffineHeader(const float* x, float nmax, uint8_t* y, float* min) {
  *min = FLT_MAX;
  float max = -FLT_MAX;
  for (int j = 0; j < kBlock; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > max) max = x[j];
  }
  const float d = (max - *min) / nmax;
  StoreF16Le(y, d);
  StoreF16Le(y + 2, *min);
  return d != 0.0f ? 1.0f / d : 0.0f;
}

// Q4_0 and Q5_0 share everything but the number of levels: 2 * offset.
template <int kOffset>
void QuantizeBlockSymmetric(const float* x, float* d_out, uint8_t* q) {
  constexpr float kRoundingOffset = static_cast<float>(kOffset) + 0.5f;
  float amax;
  const float max = SignedAbsMax(kBlock, x, &amax);
  const float d = max / static_cast<float>(-kOffset);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = d;
  for (int j = 0; j < kBlock; ++j) {
    const int code = TruncateToInt8LikeX86(x[j] * id + kRoundingOffset);
    // ggml stores min(2*offset - 1, code) into a uint8_t: modular, like this cast.
    q[j] = static_cast<uint8_t>(std::min(2 * kOffset - 1, code));
  }
}

}  // namespace

void QuantizeRowQ4_0Ref(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ4_0)) {
    float d;
    std::array<uint8_t, kBlock> q;
    QuantizeBlockSymmetric<8>(x, &d, q.data());
    StoreF16Le(y, d);
    for (int j = 0; j < kHalf; ++j) y[2 + j] = static_cast<uint8_t>(q[j] | (q[j + kHalf] << 4));
  }
}

void QuantizeRowQ5_0Ref(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ5_0)) {
    float d;
    std::array<uint8_t, kBlock> q;
    QuantizeBlockSymmetric<16>(x, &d, q.data());
    StoreF16Le(y, d);
    StoreU32Le(y + 2, PackLegacyNibbles(q.data(), y + 6));
  }
}

void QuantizeRowQ4_1Ref(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ4_1)) {
    float min;
    const float id = StoreAffineHeader(x, 15.0f, y, &min);
    for (int j = 0; j < kHalf; ++j) {
      const int q0 = std::min(15, TruncateToInt8LikeX86((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, TruncateToInt8LikeX86((x[j + kHalf] - min) * id + 0.5f));
      y[4 + j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
    }
  }
}

void QuantizeRowQ5_1Ref(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ5_1)) {
    float min;
    const float id = StoreAffineHeader(x, 31.0f, y, &min);
    std::array<uint8_t, kBlock> q;
    // No clamp here, as in ggml: (x - min) * id + 0.5 stays below 32 for finite d.
    for (int j = 0; j < kBlock; ++j) q[j] = TruncateToByteLikeX86((x[j] - min) * id + 0.5f);
    StoreU32Le(y + 4, PackLegacyNibbles(q.data(), y + 8));
  }
}

void QuantizeRowQ8_0Ref(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ8_0)) {
    float amax = 0.0f;
    for (int j = 0; j < kBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreF16Le(y, d);
    for (int j = 0; j < kBlock; ++j) y[2 + j] = TruncateToByteLikeX86(std::round(x[j] * id));
  }
}

void DequantizeRowQ4_0(const uint8_t* y, float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ4_0)) {
    const float d = LoadF16Le(y);
    for (int j = 0; j < kHalf; ++j) {
      x[j] = static_cast<float>((y[2 + j] & 0x0F) - 8) * d;
      x[j + kHalf] = static_cast<float>((y[2 + j] >> 4) - 8) * d;
    }
  }
}

void DequantizeRowQ4_1(const uint8_t* y, float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ4_1)) {
    const float d = LoadF16Le(y);
    const float m = LoadF16Le(y + 2);
    for (int j = 0; j < kHalf; ++j) {
      x[j] = static_cast<float>(y[4 + j] & 0x0F) * d + m;
      x[j + kHalf] = static_cast<float>(y[4 + j] >> 4) * d + m;
    }
  }
}

namespace {

// The 5-bit code of element j from its nibble byte and qh.
int Code5(const uint8_t* qs, uint32_t qh, int j) {
  const int nibble = j < kHalf ? (qs[j] & 0x0F) : (qs[j - kHalf] >> 4);
  return nibble | static_cast<int>(((qh >> j) & 1u) << 4);
}

}  // namespace

void DequantizeRowQ5_0(const uint8_t* y, float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ5_0)) {
    const float d = LoadF16Le(y);
    const uint32_t qh = LoadU32Le(y + 2);
    for (int j = 0; j < kBlock; ++j) x[j] = static_cast<float>(Code5(y + 6, qh, j) - 16) * d;
  }
}

void DequantizeRowQ5_1(const uint8_t* y, float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ5_1)) {
    const float d = LoadF16Le(y);
    const float m = LoadF16Le(y + 2);
    const uint32_t qh = LoadU32Le(y + 4);
    for (int j = 0; j < kBlock; ++j) x[j] = static_cast<float>(Code5(y + 8, qh, j)) * d + m;
  }
}

void DequantizeRowQ8_0(const uint8_t* y, float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; ++b, x += kBlock, y += sizeof(BlockQ8_0)) {
    const float d = LoadF16Le(y);
    for (int j = 0; j < kBlock; ++j) x[j] = static_cast<float>(static_cast<int8_t>(y[2 + j])) * d;
  }
}

namespace {

// The table's entry points: importance when given, else the fastest path this CPU has.

void QuantizeQ4_0(const float* x, uint8_t* y, int64_t n, const float* importance) {
  if (importance != nullptr) return QuantizeRowQ4_0Weighted(x, y, n, importance);
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2()) return QuantizeRowQ4_0Avx2(x, y, n);
#endif
  QuantizeRowQ4_0Ref(x, y, n);
}

void QuantizeQ4_1(const float* x, uint8_t* y, int64_t n, const float* importance) {
  if (importance != nullptr) return QuantizeRowQ4_1Weighted(x, y, n, importance);
  QuantizeRowQ4_1Ref(x, y, n);
}

void QuantizeQ5_0(const float* x, uint8_t* y, int64_t n, const float* importance) {
  if (importance != nullptr) return QuantizeRowQ5_0Weighted(x, y, n, importance);
  QuantizeRowQ5_0Ref(x, y, n);
}

void QuantizeQ5_1(const float* x, uint8_t* y, int64_t n, const float* importance) {
  if (importance != nullptr) return QuantizeRowQ5_1Weighted(x, y, n, importance);
  QuantizeRowQ5_1Ref(x, y, n);
}

// ggml's quantize_q8_0 ignores importance.
void QuantizeQ8_0(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2()) return QuantizeRowQ8_0Avx2(x, y, n);
#endif
  QuantizeRowQ8_0Ref(x, y, n);
}

constexpr std::array<QuantKernel, 5> kLegacyKernels = {{
    {GgmlType::kQ4_0, QuantizeQ4_0, DequantizeRowQ4_0},
    {GgmlType::kQ4_1, QuantizeQ4_1, DequantizeRowQ4_1},
    {GgmlType::kQ5_0, QuantizeQ5_0, DequantizeRowQ5_0},
    {GgmlType::kQ5_1, QuantizeQ5_1, DequantizeRowQ5_1},
    {GgmlType::kQ8_0, QuantizeQ8_0, DequantizeRowQ8_0},
}};

}  // namespace

std::span<const QuantKernel> LegacyKernels() { return kLegacyKernels; }

}  // namespace qtk
