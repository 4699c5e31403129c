// Q4_0, Q4_1, Q5_0, Q5_1 with per-column importance (llama-quantize --imatrix).
//
// ggml's quantize_row_*_impl, reproduced in single precision operation by operation. Each
// block's weights are w[j] = importance[j] * sqrt(sigma2 + x[j]^2), sigma2 being the mean
// square of the whole row. Then:
//   Q4_0 / Q5_0: a symmetric scale search (ggml's make_qx_quants with nmax 8 / 16): start
//     from d = max / -nmax, try 18 nearby scales, keep the codes with the best weighted
//     fit and return the least-squares scale for them.
//   Q4_1 / Q5_1: an affine search (ggml's make_qkx3_quants with nmax 15 / 31, 37 steps):
//     for each trial scale, the weighted least-squares (scale, min) for its codes, keeping
//     the pair with the smallest weighted squared error; min is never above 0.
// Rounding is nearest_int: round half to even through the 1.5 * 2^23 trick.
#include "quant/quant_bytes.h"
#include "quant/quant_legacy.h"
#include "quant/quant_search.h"

namespace qtk {
namespace {

constexpr int kBlock = static_cast<int>(kLegacyBlockSize);
constexpr int kHalf = kBlock / 2;

// The affine search's candidate inverse scales, (nmax + kRmin + kRdelta * i) / (max - min)
// for i = 0..kSteps: what ggml's quantize_row_q4_1_impl / q5_1_impl pass to make_qkx3_quants.
constexpr float kRmin = -0.9f;
constexpr float kRdelta = 0.05f;
constexpr int kSteps = 36;

// Row mean square, accumulated in order as ggml does.
float MeanSquare(const float* x, int64_t n) { return SumOfSquares(n, x) / static_cast<float>(n); }

// One row: per block d (affine formats: then m = min), then (5-bit formats) qh, then the
// nibbles. kNmax picks the format: 8 Q4_0, 16 Q5_0 (symmetric); 15 Q4_1, 31 Q5_1 (affine).
template <int kNmax, bool kAffine, typename Block>
void QuantizeRowWeighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  constexpr int64_t kBlockBytes = sizeof(Block);
  constexpr bool kFiveBit = kNmax >= 16;  // codes up to 31: bit 4 goes to qh
  const float sigma2 = MeanSquare(x, n);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float* xb = x + b * kBlock;
    uint8_t* yb = y + b * kBlockBytes;
    float w[kBlock];
    uint8_t L[kBlock];
    ImportanceWeights(kBlock, xb, importance + b * kBlock, sigma2, w);
    if constexpr (kAffine) {
      float negated_min;
      StoreF16Le(yb, MakeAffineQuantsWeighted(kBlock, kNmax, xb, w, L, &negated_min, kRmin, kRdelta,
                                              kSteps, /*use_mad=*/false));
      StoreF16Le(yb + 2, -negated_min);  // -(-min) is min, bit for bit
    } else {
      StoreF16Le(yb, MakeSymmetricQuants(kBlock, kNmax, xb, L, w));
    }
    uint8_t* qs = yb + kBlockBytes - kHalf;
    const uint32_t qh = PackLegacyNibbles(L, qs);
    if constexpr (kFiveBit) StoreU32Le(qs - 4, qh);
  }
}

}  // namespace

void QuantizeRowQ4_0Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeRowWeighted<8, /*kAffine=*/false, BlockQ4_0>(x, y, n, importance);
}

void QuantizeRowQ5_0Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeRowWeighted<16, /*kAffine=*/false, BlockQ5_0>(x, y, n, importance);
}

void QuantizeRowQ4_1Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeRowWeighted<15, /*kAffine=*/true, BlockQ4_1>(x, y, n, importance);
}

void QuantizeRowQ5_1Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeRowWeighted<31, /*kAffine=*/true, BlockQ5_1>(x, y, n, importance);
}

}  // namespace qtk
