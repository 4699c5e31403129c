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
#include <bit>
#include <cmath>
#include <cstring>

#include "quant_bytes.h"
#include "quant_legacy.h"

namespace qtk {
namespace {

constexpr int kBlock = static_cast<int>(kLegacyBlockSize);
constexpr int kHalf = kBlock / 2;
// ggml's GROUP_MAX_EPS: a block whose largest magnitude is below it is all zero.
constexpr float kGroupMaxEps = 1e-15f;

// ggml's nearest_int: adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits
// (round half to even). Exact for |f| <= 2^22 - 1; defined (if meaningless) beyond.
int NearestInt(float f) {
  const float shifted = f + 12582912.0f;
  const auto bits = std::bit_cast<int32_t>(shifted);
  return (bits & 0x007FFFFF) - 0x00400000;
}

int Clamp(int value, int lo, int hi) { return value < lo ? lo : (value > hi ? hi : value); }

// Row mean square, accumulated in order as ggml does.
float MeanSquare(const float* x, int64_t n) {
  float sum_x2 = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n);
}

void BlockWeights(const float* x, const float* importance, float sigma2, float* w) {
  for (int j = 0; j < kBlock; ++j) w[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
}

// Weighted sums for the symmetric codes round(iscale * x) in [-nmax, nmax - 1].
void SymmetricSums(const float* x, const float* w, int nmax, float iscale, float* sumlx,
                   float* suml2) {
  *sumlx = 0.0f;
  *suml2 = 0.0f;
  for (int i = 0; i < kBlock; ++i) {
    const auto l = static_cast<float>(Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
    *sumlx += w[i] * x[i] * l;
    *suml2 += w[i] * l * l;
  }
}

void SymmetricCodes(const float* x, int nmax, float iscale, uint8_t* L) {
  for (int i = 0; i < kBlock; ++i) {
    L[i] = static_cast<uint8_t>(nmax + Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
  }
}

// ggml's make_qx_quants(n = 32, nmax, x, L, rmse_type = 1, w): codes L in [0, 2 nmax) and
// the returned scale d give x ~ d * (L - nmax).
float MakeSymmetricQuants(const float* x, const float* w, int nmax, uint8_t* L) {
  float max = 0.0f;
  float amax = 0.0f;
  for (int i = 0; i < kBlock; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, kBlock);  // codes 0, not nmax: ggml's all-zero shortcut
    return 0.0f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx, suml2;
  SymmetricSums(x, w, nmax, iscale, &sumlx, &suml2);
  SymmetricCodes(x, nmax, iscale, L);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    SymmetricSums(x, w, nmax, iscale, &sumlx, &suml2);
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      SymmetricCodes(x, nmax, iscale, L);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// One trial of the affine search: codes for `iscale` and `min`, their weighted
// least-squares (scale, min), and that fit's weighted squared error. False if degenerate.
struct AffineFit {
  float scale;
  float min;
  float error;
};

bool FitAffine(const float* x, const float* w, float sum_w, float sum_x, int nmax, float iscale,
               float min, uint8_t* laux, AffineFit* fit) {
  float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
  for (int i = 0; i < kBlock; ++i) {
    // min is the best fit so far and may sit at or above some x, so v may be negative,
    // huge or NaN: only a positive v gets a code above 0.
    const float v = iscale * (x[i] - min);
    const int l =
        v > 0.0f ? NearestInt(v < static_cast<float>(nmax) ? v : static_cast<float>(nmax)) : 0;
    laux[i] = static_cast<uint8_t>(l);
    const auto lf = static_cast<float>(l);
    sum_l += w[i] * lf;
    sum_l2 += w[i] * lf * lf;
    sum_xl += w[i] * lf * x[i];
  }
  const float det = sum_w * sum_l2 - sum_l * sum_l;
  if (!(det > 0.0f)) return false;
  fit->scale = (sum_w * sum_xl - sum_x * sum_l) / det;
  fit->min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
  if (fit->min > 0.0f) {
    fit->min = 0.0f;
    fit->scale = sum_xl / sum_l2;
  }
  fit->error = 0.0f;
  for (int i = 0; i < kBlock; ++i) {
    const float diff = fit->scale * static_cast<float>(laux[i]) + fit->min - x[i];
    fit->error += w[i] * (diff * diff);
  }
  return true;
}

// ggml's make_qkx3_quants(n = 32, nmax, x, w, L, &the_min, Laux, -0.9f, 0.05f, 36, false):
// codes L in [0, nmax] and the returned scale d give x ~ d * L + *min_out (*min_out <= 0).
float MakeAffineQuants(const float* x, const float* w, int nmax, uint8_t* L, float* min_out) {
  constexpr float kRmin = -0.9f;
  constexpr float kRdelta = 0.05f;
  constexpr int kSteps = 36;
  float min = x[0];
  float max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < kBlock; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0.0f) min = 0.0f;
  if (max <= min) {
    std::memset(L, 0, kBlock);
    *min_out = min;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1.0f / iscale;
  float best_error = 0.0f;
  for (int i = 0; i < kBlock; ++i) {
    L[i] = static_cast<uint8_t>(Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax));
    const float diff = scale * static_cast<float>(L[i]) + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t laux[kBlock];
  for (int is = 0; is <= kSteps; ++is) {
    // ggml divides by (max - min) with min already moved to the best fit so far.
    iscale = (kRmin + kRdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    AffineFit fit;
    if (!FitAffine(x, w, sum_w, sum_x, nmax, iscale, min, laux, &fit)) continue;
    if (fit.error < best_error) {
      std::memcpy(L, laux, kBlock);
      best_error = fit.error;
      scale = fit.scale;
      min = fit.min;
    }
  }
  *min_out = min;
  return scale;
}

uint32_t PackNibbles(const uint8_t* L, uint8_t* qs) {
  uint32_t qh = 0;
  for (int j = 0; j < kHalf; ++j) {
    qs[j] = static_cast<uint8_t>((L[j] & 0x0F) | ((L[j + kHalf] & 0x0F) << 4));
    qh |= ((L[j] & 0x10u) >> 4) << j;
    qh |= ((L[j + kHalf] & 0x10u) >> 4) << (j + kHalf);
  }
  return qh;
}

// Symmetric formats: d, then (Q5_0 only) qh, then the nibbles.
template <int kNmax, int kBlockBytes>
void QuantizeSymmetricWeighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  const float sigma2 = MeanSquare(x, n);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float* xb = x + b * kBlock;
    uint8_t* yb = y + b * kBlockBytes;
    float w[kBlock];
    uint8_t L[kBlock];
    BlockWeights(xb, importance + b * kBlock, sigma2, w);
    StoreF16Le(yb, MakeSymmetricQuants(xb, w, kNmax, L));
    const uint32_t qh = PackNibbles(L, yb + kBlockBytes - kHalf);
    if constexpr (kNmax == 16) StoreU32Le(yb + 2, qh);
  }
}

// Affine formats: d, m = min, then (Q5_1 only) qh, then the nibbles.
template <int kNmax, int kBlockBytes>
void QuantizeAffineWeighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  const float sigma2 = MeanSquare(x, n);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float* xb = x + b * kBlock;
    uint8_t* yb = y + b * kBlockBytes;
    float w[kBlock];
    uint8_t L[kBlock];
    BlockWeights(xb, importance + b * kBlock, sigma2, w);
    float min;
    StoreF16Le(yb, MakeAffineQuants(xb, w, kNmax, L, &min));
    StoreF16Le(yb + 2, min);
    const uint32_t qh = PackNibbles(L, yb + kBlockBytes - kHalf);
    if constexpr (kNmax == 31) StoreU32Le(yb + 4, qh);
  }
}

}  // namespace

void QuantizeRowQ4_0Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSymmetricWeighted<8, 18>(x, y, n, importance);
}

void QuantizeRowQ5_0Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSymmetricWeighted<16, 22>(x, y, n, importance);
}

void QuantizeRowQ4_1Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeAffineWeighted<15, 20>(x, y, n, importance);
}

void QuantizeRowQ5_1Weighted(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeAffineWeighted<31, 24>(x, y, n, importance);
}

}  // namespace qtk
