// IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear table of levels, byte-identical to
// llama.cpp's quantize_iq4_nl / quantize_iq4_xs (ggml-quants.c), which is what
// llama-quantize runs through ggml_quantize_chunk.
//
// The levels (kLevels) are 16 int8 values, denser near zero where weights cluster:
//   -127 -104 -83 -65 -49 -35 -22 -10 1 13 25 38 53 69 89 113
// An element decodes as scale * kLevels[index].
//
// IQ4_NL block: 32 elements, 18 bytes
//   bytes 0..1    d, f16: the block scale
//   bytes 2..17   qs[16]: byte j holds element j's index in its low nibble and element
//                 j+16's in its high nibble
//
// IQ4_XS super-block: 256 elements, 136 bytes, eight sub-blocks of 32 elements
//   bytes 0..1    d, f16: the super-block scale
//   bytes 2..3    scales_h, u16: bits 2i..2i+1 are the top two bits of sub-block i's scale
//   bytes 4..7    scales_l[4]: the low four bits of sub-block i's scale, in byte i/2
//                 (low nibble for even i, high nibble for odd i)
//   bytes 8..135  qs[128]: 16 bytes per sub-block, packed as in IQ4_NL
//   Sub-block i has the 6-bit scale ls_i (0..63) and decodes with d * (ls_i - 32).
//
// Quantizing, per 32-element block: the weight of element j is x_j^2, or with importance
// imp_j * sqrt(sigma2 + x_j^2) where sigma2 = 2 * mean(x^2) over the block (IQ4_NL) or the
// super-block (IQ4_XS). Starting from the scale that puts the largest-magnitude element at
// -127, the search tries the inverse scales (t - 127) / max for t = -7..7; for each it rounds
// every element to its nearest level and takes the weighted least-squares scale
// sum(w q x) / sum(w q^2), keeping the one with the largest sum(w q x)^2 / sum(w q^2).
// IQ4_NL stores that scale as f16 and re-rounds every element against it. IQ4_XS quantizes
// the eight block scales to 6 bits against d = -max_scale / 32 (max_scale: the block scale
// of largest magnitude) and re-rounds every element against its quantized block scale.
//
// Bit-identity needs the reference's single-precision arithmetic in the same order; this
// file is compiled without FMA contraction (see CMakeLists.txt).
#include <array>
#include <cmath>
#include <cstring>

#include "quant/quant_bytes.h"
#include "quant/quant_iq_rows.h"
#include "quant/quant_search.h"

namespace qtk {
namespace {

constexpr int kBlockSize = 32;
constexpr int kSubBlocks = kSuperBlockSize / kBlockSize;
constexpr int64_t kIq4NlBlockBytes = 2 + kBlockSize / 2;
constexpr int64_t kIq4XsBlockBytes = 2 + 2 + kSubBlocks / 2 + kSuperBlockSize / 2;
static_assert(kIq4NlBlockBytes == 18 && kIq4XsBlockBytes == 136);

// The scale search tries 2 * kSearchSteps + 1 candidates (ggml's ntry = 7).
constexpr int kSearchSteps = 7;

constexpr std::array<int8_t, 16> kLevels = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// kTwiceMidpoints[j] = kLevels[j-1] + kLevels[j]: twice the boundary between levels j-1 and j
// (entry 0 unused). Comparing 2x against these keeps both sides exact.
constexpr std::array<float, 16> kTwiceMidpoints = [] {
  std::array<float, 16> sums{};
  for (size_t j = 1; j < sums.size(); ++j)
    sums[j] = static_cast<float>(kLevels[j - 1] + kLevels[j]);
  return sums;
}();

inline float LevelValue(int index) { return static_cast<float>(kLevels[index]); }

// 2 * mean(x^2) over n elements. The reference multiplies by 2/n where the K-quants divide.
float TwiceMeanSquare(const float* x, int n) {
  return SumOfSquares(n, x) * (2.f / static_cast<float>(n));
}

// The per-element weights of one 32-element block.
void BlockWeights(const float* xb, const float* importance, float sigma2, float* weight) {
  if (importance != nullptr) {
    ImportanceWeights(kBlockSize, xb, importance, sigma2, weight);
  } else {
    for (int j = 0; j < kBlockSize; ++j) weight[j] = xb[j] * xb[j];
  }
}

// The index of the level nearest to each element of a block times `inverse_scale`; a tie goes
// to the upper level. ggml's best_index_int8 binary-searches the boundaries, comparing
// 2x >= kTwiceMidpoints[j]; as the boundaries increase, its answer is the number of
// boundaries at or below 2x, which is what this counts (for all 32 elements at once, so it
// vectorizes: 4x faster than the search). NaN compares false everywhere and gets 0 either way.
void NearestLevels(const float* xb, float inverse_scale, int32_t* indices) {
  float twice[kBlockSize];
  for (int j = 0; j < kBlockSize; ++j) {
    const float scaled = inverse_scale * xb[j];
    twice[j] = scaled + scaled;
    indices[j] = 0;
  }
  for (size_t k = 1; k < kTwiceMidpoints.size(); ++k) {
    for (int j = 0; j < kBlockSize; ++j) indices[j] += twice[j] >= kTwiceMidpoints[k] ? 1 : 0;
  }
}

struct Fit {
  float sum_qx = 0;  // sum of w * q * x
  float sum_q2 = 0;  // sum of w * q * q
};

// Rounds each element of the block times `inverse_scale` to its nearest level and sums in
// element order, as the reference does.
Fit FitLevels(const float* xb, const float* weight, float inverse_scale) {
  int32_t indices[kBlockSize];
  NearestLevels(xb, inverse_scale, indices);
  Fit fit;
  for (int j = 0; j < kBlockSize; ++j) {
    const float q = LevelValue(indices[j]);
    const float w = weight[j];
    fit.sum_qx += w * q * xb[j];
    fit.sum_q2 += w * q * q;
  }
  return fit;
}

// The best block scale found by the search in the file comment; 0 for an all-zero block.
float SearchBlockScale(const float* xb, const float* weight) {
  float amax = 0;
  const float max = SignedAbsMax(kBlockSize, xb, &amax);
  if (amax < kGroupMaxEps) return 0.f;

  const float start = -max / LevelValue(0);
  Fit fit = FitLevels(xb, weight, 1 / start);
  float scale = fit.sum_q2 > 0 ? fit.sum_qx / fit.sum_q2 : 0.f;
  float best = scale * fit.sum_qx;
  for (int step = -kSearchSteps; step <= kSearchSteps; ++step) {
    const float inverse_scale = static_cast<float>(step + kLevels[0]) / max;
    fit = FitLevels(xb, weight, inverse_scale);
    if (fit.sum_q2 > 0 && fit.sum_qx * fit.sum_qx > best * fit.sum_q2) {
      scale = fit.sum_qx / fit.sum_q2;
      best = scale * fit.sum_qx;
    }
  }
  return scale;
}

// Rounds the block against `inverse_scale` and packs its 32 indices into 16 bytes.
void PackBlock(const float* xb, float inverse_scale, uint8_t* qs) {
  int32_t indices[kBlockSize];
  NearestLevels(xb, inverse_scale, indices);
  for (int j = 0; j < kBlockSize / 2; ++j) {
    qs[j] = static_cast<uint8_t>(indices[j] | (indices[j + kBlockSize / 2] << 4));
  }
}

void UnpackBlock(const uint8_t* qs, float scale, float* x) {
  for (int j = 0; j < kBlockSize / 2; ++j) {
    x[j] = scale * LevelValue(qs[j] & 0xF);
    x[j + kBlockSize / 2] = scale * LevelValue(qs[j] >> 4);
  }
}

void QuantizeSuperBlockIq4Xs(const float* x, const float* importance, uint8_t* y) {
  const float sigma2 = importance != nullptr ? TwiceMeanSquare(x, kSuperBlockSize) : 0.f;
  float scales[kSubBlocks];
  float max_scale = 0;
  float amax_scale = 0;
  for (int ib = 0; ib < kSubBlocks; ++ib) {
    float weight[kBlockSize];
    BlockWeights(x + ib * kBlockSize,
                 importance != nullptr ? importance + ib * kBlockSize : nullptr, sigma2, weight);
    scales[ib] = SearchBlockScale(x + ib * kBlockSize, weight);
    const float abs_scale = std::fabs(scales[ib]);
    if (abs_scale > amax_scale) {
      amax_scale = abs_scale;
      max_scale = scales[ib];
    }
  }

  const float d = -max_scale / 32;
  StoreF16Le(y, d);
  const float inverse_d = d != 0 ? 1 / d : 0.f;
  uint16_t scales_h = 0;
  uint8_t* scales_l = y + 4;
  std::memset(scales_l, 0, kSubBlocks / 2);
  for (int ib = 0; ib < kSubBlocks; ++ib) {
    const int l = ClampInt(NearestInt(inverse_d * scales[ib]), -32, 31);
    const float block_scale = d * static_cast<float>(l);
    const float inverse_block_scale = block_scale != 0 ? 1 / block_scale : 0.f;
    PackBlock(x + ib * kBlockSize, inverse_block_scale, y + 8 + ib * (kBlockSize / 2));
    const int biased = l + 32;  // 0..63
    scales_l[ib / 2] = static_cast<uint8_t>(scales_l[ib / 2] | ((biased & 0xF) << (4 * (ib % 2))));
    scales_h = static_cast<uint16_t>(scales_h | ((biased >> 4) << (2 * ib)));
  }
  StoreU16Le(y + 2, scales_h);
}

}  // namespace

void QuantizeRowIq4Nl(const float* x, uint8_t* y, int64_t n, const float* importance) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const float* xb = x + block * kBlockSize;
    uint8_t* yb = y + block * kIq4NlBlockBytes;
    const float* ib = importance != nullptr ? importance + block * kBlockSize : nullptr;
    float weight[kBlockSize];
    BlockWeights(xb, ib, ib != nullptr ? TwiceMeanSquare(xb, kBlockSize) : 0.f, weight);
    const float scale = SearchBlockScale(xb, weight);
    StoreF16Le(yb, scale);
    PackBlock(xb, scale != 0 ? 1 / scale : 0.f, yb + 2);
  }
}

void DequantizeRowIq4Nl(const uint8_t* y, float* x, int64_t n) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const uint8_t* yb = y + block * kIq4NlBlockBytes;
    UnpackBlock(yb + 2, LoadF16Le(yb), x + block * kBlockSize);
  }
}

void QuantizeRowIq4Xs(const float* x, uint8_t* y, int64_t n, const float* importance) {
  for (int64_t block = 0; block < n / kSuperBlockSize; ++block) {
    QuantizeSuperBlockIq4Xs(x + block * kSuperBlockSize,
                            importance != nullptr ? importance + block * kSuperBlockSize : nullptr,
                            y + block * kIq4XsBlockBytes);
  }
}

void DequantizeRowIq4Xs(const uint8_t* y, float* x, int64_t n) {
  for (int64_t block = 0; block < n / kSuperBlockSize; ++block) {
    const uint8_t* yb = y + block * kIq4XsBlockBytes;
    const float d = LoadF16Le(yb);
    const uint16_t scales_h = LoadU16Le(yb + 2);
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const int ls =
          ((yb[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
      UnpackBlock(yb + 8 + ib * (kBlockSize / 2), d * static_cast<float>(ls - 32),
                  x + block * kSuperBlockSize + ib * kBlockSize);
    }
  }
}

}  // namespace qtk
