// Q4_K and Q5_K: 8 sub-blocks of 32 with affine 4-bit and 5-bit levels and 6-bit sub-block
// scales and mins. Layouts in kquant_blocks.h. Without importance these follow ggml's
// quantize_row_q4_K_ref / quantize_row_q5_K_ref; with it, the *_impl variants.
#include <cmath>
#include <cstring>

#include "qtk/base/float_convert.h"
#include "quant/kquant_blocks.h"

namespace qtk {
namespace {

constexpr int kSubBlock = 32;
constexpr int kSubBlocks = kSuperBlockSize / kSubBlock;

// Sub-block scales and mins as searched, before they are quantized to 6 bits.
struct AffineSearchResult {
  uint8_t levels[kSuperBlockSize];
  float scales[kSubBlocks];
  float mins[kSubBlocks];
};

// Without importance: weights av_x + |x| per sub-block, then ggml's make_qkx2_quants.
void SearchPlain(const float* x, int nmax, float rmin, float rdelta, int nstep,
                 AffineSearchResult* result) {
  float weights[kSubBlock];
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* xs = x + kSubBlock * j;
    const float av_x = std::sqrt(SumOfSquares(kSubBlock, xs) / AsFloat(kSubBlock));
    for (int l = 0; l < kSubBlock; ++l) weights[l] = av_x + std::fabs(xs[l]);
    result->scales[j] =
        MakeAffineQuants(kSubBlock, nmax, xs, weights, result->levels + kSubBlock * j,
                         &result->mins[j], rmin, rdelta, nstep, /*use_mad=*/false);
  }
}

// Quantizes the sub-block scales and mins against their maxima (the reference path).
void StoreScalesPlain(const AffineSearchResult& result, uint8_t* scales, uint16_t* d,
                      uint16_t* dmin) {
  float max_scale = 0;  // the min is subtracted, so scales are positive
  float max_min = 0;
  for (int j = 0; j < kSubBlocks; ++j) {
    if (result.scales[j] > max_scale) max_scale = result.scales[j];
    if (result.mins[j] > max_min) max_min = result.mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kSubBlocks; ++j) {
    // Stored in 8 bits first, as the reference does, then capped.
    auto ls = static_cast<uint8_t>(NearestInt(inv_scale * result.scales[j]));
    auto lm = static_cast<uint8_t>(NearestInt(inv_min * result.mins[j]));
    ls = ls < 63 ? ls : uint8_t{63};
    lm = lm < 63 ? lm : uint8_t{63};
    PackScaleMinK4(j, ls, lm, scales);
  }
  *d = F32ToF16(max_scale / 63.f);
  *dmin = F32ToF16(max_min / 63.f);
}

// With importance: weights importance * sqrt(sigma2 + x^2), make_qkx3_quants per
// sub-block, then make_qp_quants for the scales and the mins. `cap_levels`: Q5_K caps the
// 6-bit levels at 63, Q4_K stores them as they are.
void QuantizeWeighted(const float* x, const float* importance, int nmax, bool cap_levels,
                      AffineSearchResult* result, uint8_t* scales, uint16_t* d, uint16_t* dmin) {
  float weights[kSubBlock];
  float sub_weights[kSubBlocks];
  uint8_t scale_levels[kSubBlocks];
  uint8_t min_levels[kSubBlocks];
  const float sigma2 = 2 * SumOfSquares(kSuperBlockSize, x) / AsFloat(kSuperBlockSize);
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* xs = x + kSubBlock * j;
    ImportanceWeights(kSubBlock, xs, importance + kSubBlock * j, sigma2, weights);
    sub_weights[j] = SumOf(kSubBlock, weights);
    result->scales[j] =
        MakeAffineQuantsWeighted(kSubBlock, nmax, xs, weights, result->levels + kSubBlock * j,
                                 &result->mins[j], -0.9f, 0.05f, 36, false);
  }
  const float d_block =
      MakePositiveQuants(kSubBlocks, 63, result->scales, scale_levels, sub_weights);
  const float m_block = MakePositiveQuants(kSubBlocks, 63, result->mins, min_levels, sub_weights);
  for (int j = 0; j < kSubBlocks; ++j) {
    uint8_t ls = scale_levels[j];
    uint8_t lm = min_levels[j];
    if (cap_levels) {
      ls = ls < 63 ? ls : uint8_t{63};
      lm = lm < 63 ? lm : uint8_t{63};
    }
    PackScaleMinK4(j, ls, lm, scales);
  }
  *d = F32ToF16(d_block);
  *dmin = F32ToF16(m_block);
}

// Final levels in [0, nmax] from the stored scales and mins; sub-blocks whose scale is zero
// keep the search's levels.
void Requantize(const float* x, const uint8_t* scales, uint16_t d16, uint16_t dmin16, int nmax,
                uint8_t* levels) {
  for (int j = 0; j < kSubBlocks; ++j) {
    uint8_t sc;
    uint8_t m;
    UnpackScaleMinK4(j, scales, &sc, &m);
    const float d = F16ToF32(d16) * AsFloat(sc);
    if (d == 0) continue;
    const float dm = F16ToF32(dmin16) * AsFloat(m);
    for (int i = 0; i < kSubBlock; ++i) {
      const int l = NearestInt((x[kSubBlock * j + i] + dm) / d);
      levels[kSubBlock * j + i] = static_cast<uint8_t>(ClampInt(l, 0, nmax));
    }
  }
}

// Low nibbles: chunk c of 64 elements goes to bytes 32c..32c+31, first half low nibble.
void PackNibbles(const uint8_t* levels, uint8_t* qs) {
  for (int c = 0; c < kSuperBlockSize / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      qs[32 * c + l] =
          static_cast<uint8_t>((levels[64 * c + l] & 0xF) | ((levels[64 * c + l + 32] & 0xF) << 4));
    }
  }
}

void FinishQ4K(const float* x, AffineSearchResult* result, BlockQ4K* block) {
  Requantize(x, block->scales, block->d, block->dmin, 15, result->levels);
  PackNibbles(result->levels, block->qs);
}

void FinishQ5K(const float* x, AffineSearchResult* result, BlockQ5K* block) {
  Requantize(x, block->scales, block->d, block->dmin, 31, result->levels);
  std::memset(block->qh, 0, sizeof(block->qh));
  for (int e = 0; e < kSuperBlockSize; ++e) {
    if (result->levels[e] > 15) {
      block->qh[e % 32] = static_cast<uint8_t>(block->qh[e % 32] | (1 << (e / 32)));
    }
  }
  PackNibbles(result->levels, block->qs);
}

void QuantizeBlockQ4K(const float* x, BlockQ4K* block) {
  AffineSearchResult result;
  SearchPlain(x, 15, -1.f, 0.1f, 20, &result);
  StoreScalesPlain(result, block->scales, &block->d, &block->dmin);
  FinishQ4K(x, &result, block);
}

void QuantizeBlockQ4KWeighted(const float* x, const float* importance, BlockQ4K* block) {
  AffineSearchResult result;
  QuantizeWeighted(x, importance, 15, /*cap_levels=*/false, &result, block->scales, &block->d,
                   &block->dmin);
  FinishQ4K(x, &result, block);
}

void QuantizeBlockQ5K(const float* x, BlockQ5K* block) {
  AffineSearchResult result;
  SearchPlain(x, 31, -0.5f, 0.1f, 15, &result);
  StoreScalesPlain(result, block->scales, &block->d, &block->dmin);
  FinishQ5K(x, &result, block);
}

void QuantizeBlockQ5KWeighted(const float* x, const float* importance, BlockQ5K* block) {
  AffineSearchResult result;
  QuantizeWeighted(x, importance, 31, /*cap_levels=*/true, &result, block->scales, &block->d,
                   &block->dmin);
  FinishQ5K(x, &result, block);
}

// Decodes one Q4_K/Q5_K block; `high_bits` is Q5_K's qh (nullptr for Q4_K).
void DequantizeAffineBlock(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qs,
                           const uint8_t* high_bits, float* x) {
  const float d = F16ToF32(d16);
  const float min = F16ToF32(dmin16);
  for (int j = 0; j < kSubBlocks; ++j) {
    uint8_t sc;
    uint8_t m;
    UnpackScaleMinK4(j, scales, &sc, &m);
    const float dl = d * AsFloat(sc);
    const float ml = min * AsFloat(m);
    const int shift = j % 2 == 0 ? 0 : 4;
    for (int l = 0; l < kSubBlock; ++l) {
      const int e = kSubBlock * j + l;
      int q = (qs[32 * (j / 2) + l] >> shift) & 0xF;
      if (high_bits != nullptr && ((high_bits[l] >> j) & 1) != 0) q += 16;
      x[e] = dl * AsFloat(q) - ml;
    }
  }
}

}  // namespace

void PackScaleMinK4(int j, uint8_t scale, uint8_t min, uint8_t* scales) {
  if (j < 4) {
    scales[j] = scale;
    scales[j + 4] = min;
  } else {
    scales[j + 4] = static_cast<uint8_t>((scale & 0xF) | ((min & 0xF) << 4));
    scales[j - 4] = static_cast<uint8_t>(scales[j - 4] | ((scale >> 4) << 6));
    scales[j] = static_cast<uint8_t>(scales[j] | ((min >> 4) << 6));
  }
}

void UnpackScaleMinK4(int j, const uint8_t* scales, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

void QuantizeRowQ4K(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSuperBlocks<BlockQ4K>(x, y, n, importance, QuantizeBlockQ4K, QuantizeBlockQ4KWeighted);
}

void QuantizeRowQ5K(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSuperBlocks<BlockQ5K>(x, y, n, importance, QuantizeBlockQ5K, QuantizeBlockQ5KWeighted);
}

void DequantizeRowQ4K(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = LoadBlock<BlockQ4K>(y, i);
    DequantizeAffineBlock(block.d, block.dmin, block.scales, block.qs, nullptr,
                          x + i * kSuperBlockSize);
  }
}

void DequantizeRowQ5K(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = LoadBlock<BlockQ5K>(y, i);
    DequantizeAffineBlock(block.d, block.dmin, block.scales, block.qs, block.qh,
                          x + i * kSuperBlockSize);
  }
}

}  // namespace qtk
