// Q2_K and Q3_K: 16 sub-blocks of 16 with 2-bit (affine) and 3-bit (symmetric) levels.
// Layouts in kquant_blocks.h. Without importance these follow ggml's quantize_row_q2_K_ref /
// quantize_row_q3_K_ref; with it, quantize_row_q2_K_impl / quantize_row_q3_K_impl.
#include <cmath>
#include <cstring>

#include "qtk/base/float_convert.h"
#include "quant/kquant_blocks.h"

namespace qtk {
namespace {

constexpr int kSubBlock = 16;
constexpr int kSubBlocks = kSuperBlockSize / kSubBlock;

// ---- Q2_K

// Final levels from the stored (rounded) scales and mins; sub-blocks whose scale rounded to
// zero keep the levels of the search.
void RequantizeQ2K(const float* x, const BlockQ2K& block, uint8_t* levels) {
  const float d_all = F16ToF32(block.d);
  const float m_all = F16ToF32(block.dmin);
  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = d_all * AsFloat(block.scales[j] & 0xF);
    if (d == 0) continue;
    const float m = m_all * AsFloat(block.scales[j] >> 4);
    for (int i = 0; i < kSubBlock; ++i) {
      const int l = NearestInt((x[kSubBlock * j + i] + m) / d);
      levels[kSubBlock * j + i] = static_cast<uint8_t>(ClampInt(l, 0, 3));
    }
  }
}

void QuantizeBlockQ2K(const float* x, BlockQ2K* block) {
  uint8_t levels[kSuperBlockSize];
  float weights[kSubBlock];
  float mins[kSubBlocks];
  float scales[kSubBlocks];
  float max_scale = 0;  // the min is subtracted, so scales are positive
  float max_min = 0;
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* xs = x + kSubBlock * j;
    for (int l = 0; l < kSubBlock; ++l) weights[l] = std::fabs(xs[l]);
    scales[j] = MakeAffineQuants(kSubBlock, 3, xs, weights, levels + kSubBlock * j, &mins[j], -0.5f,
                                 0.1f, 15, /*use_mad=*/true);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  if (max_scale > 0) {
    const float iscale = 15.f / max_scale;
    for (int j = 0; j < kSubBlocks; ++j) {
      block->scales[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
    }
    block->d = F32ToF16(max_scale / 15.f);
  } else {
    std::memset(block->scales, 0, sizeof(block->scales));
    block->d = F32ToF16(0.f);
  }
  if (max_min > 0) {
    const float iscale = 15.f / max_min;
    for (int j = 0; j < kSubBlocks; ++j) {
      const int l = NearestInt(iscale * mins[j]);
      block->scales[j] = static_cast<uint8_t>(block->scales[j] | (l << 4));
    }
    block->dmin = F32ToF16(max_min / 15.f);
  } else {
    block->dmin = F32ToF16(0.f);
  }
  RequantizeQ2K(x, *block, levels);
  PackTwoBitLevels(levels, block->qs);
}

void QuantizeBlockQ2KWeighted(const float* x, const float* importance, BlockQ2K* block) {
  uint8_t levels[kSuperBlockSize];
  float weights[kSubBlock];
  float mins[kSubBlocks];
  float scales[kSubBlocks];
  float sub_weights[kSubBlocks];
  uint8_t scale_levels[kSubBlocks];
  uint8_t min_levels[kSubBlocks];
  const float sigma2 = SumOfSquares(kSuperBlockSize, x) / AsFloat(kSuperBlockSize);
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* xs = x + kSubBlock * j;
    ImportanceWeights(kSubBlock, xs, importance + kSubBlock * j, sigma2, weights);
    sub_weights[j] = SumOf(kSubBlock, weights);
    scales[j] = MakeAffineQuantsWeighted(kSubBlock, 3, xs, weights, levels + kSubBlock * j,
                                         &mins[j], -0.9f, 0.05f, 36, /*use_mad=*/false);
  }
  const float dm = MakePositiveQuants(kSubBlocks, 15, scales, scale_levels, sub_weights);
  const float mm = MakePositiveQuants(kSubBlocks, 15, mins, min_levels, sub_weights);
  block->d = F32ToF16(dm);
  block->dmin = F32ToF16(mm);
  for (int j = 0; j < kSubBlocks; ++j) {
    block->scales[j] = static_cast<uint8_t>(scale_levels[j] | (min_levels[j] << 4));
  }
  RequantizeQ2K(x, *block, levels);
  PackTwoBitLevels(levels, block->qs);
}

// ---- Q3_K

// Stores sub-block j's 6-bit scale level (0..63). REQUIRES: scales zeroed, j in order.
void PackScaleQ3K(int j, int level, uint8_t* scales) {
  if (j < 8) {
    scales[j] = static_cast<uint8_t>(level & 0xF);
  } else {
    scales[j - 8] = static_cast<uint8_t>(scales[j - 8] | ((level & 0xF) << 4));
  }
  level >>= 4;
  scales[j % 4 + 8] = static_cast<uint8_t>(scales[j % 4 + 8] | (level << (2 * (j / 4))));
}

// Sub-block j's signed scale (level - 32).
int UnpackScaleQ3K(int j, const uint8_t* scales) {
  const int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// Final levels (0..7) from the stored scales; sub-blocks with a zero scale keep the search's.
void RequantizeQ3K(const float* x, const BlockQ3K& block, uint8_t* levels) {
  const float d_all = F16ToF32(block.d);
  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = d_all * AsFloat(UnpackScaleQ3K(j, block.scales));
    if (d == 0) continue;
    for (int i = 0; i < kSubBlock; ++i) {
      const int l = NearestInt(x[kSubBlock * j + i] / d);
      levels[kSubBlock * j + i] = static_cast<uint8_t>(ClampInt(l, -4, 3) + 4);
    }
  }
}

// Splits 3-bit levels into hmask (bit 2) and the 2-bit qs.
void PackLevelsQ3K(const uint8_t* levels, BlockQ3K* block) {
  uint8_t low[kSuperBlockSize];
  std::memset(block->hmask, 0, sizeof(block->hmask));
  for (int j = 0; j < kSuperBlockSize; ++j) {
    int l = levels[j];
    if (l > 3) {
      block->hmask[j % 32] = static_cast<uint8_t>(block->hmask[j % 32] | (1 << (j / 32)));
      l -= 4;
    }
    low[j] = static_cast<uint8_t>(l);
  }
  PackTwoBitLevels(low, block->qs);
}

void QuantizeBlockQ3K(const float* x, BlockQ3K* block) {
  uint8_t levels[kSuperBlockSize];
  float scales[kSubBlocks];
  float max_scale = 0;
  float amax = 0;
  for (int j = 0; j < kSubBlocks; ++j) {
    scales[j] = MakeSymmetricQuantsRefined(kSubBlock, 4, x + kSubBlock * j, levels + kSubBlock * j);
    const float scale = std::fabs(scales[j]);
    if (scale > amax) {
      amax = scale;
      max_scale = scales[j];
    }
  }
  std::memset(block->scales, 0, sizeof(block->scales));
  if (max_scale != 0) {
    const float iscale = -32.f / max_scale;
    for (int j = 0; j < kSubBlocks; ++j) {
      const int l = static_cast<int8_t>(NearestInt(iscale * scales[j]));  // as the reference
      PackScaleQ3K(j, ClampInt(l, -32, 31) + 32, block->scales);
    }
    block->d = F32ToF16(1 / iscale);
  } else {
    block->d = F32ToF16(0.f);
  }
  RequantizeQ3K(x, *block, levels);
  PackLevelsQ3K(levels, block);
}

void QuantizeBlockQ3KWeighted(const float* x, const float* importance, BlockQ3K* block) {
  uint8_t levels[kSuperBlockSize];
  float scales[kSubBlocks];
  float weights[kSubBlock];
  float sub_weights[kSubBlocks];
  uint8_t scale_levels[kSubBlocks];
  const float sigma2 = 2 * SumOfSquares(kSuperBlockSize, x) / AsFloat(kSuperBlockSize);
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* xs = x + kSubBlock * j;
    ImportanceWeights(kSubBlock, xs, importance + kSubBlock * j, sigma2, weights);
    sub_weights[j] = SumOf(kSubBlock, weights);
    scales[j] = MakeSymmetricQuants(kSubBlock, 4, xs, levels + kSubBlock * j, weights);
  }
  std::memset(block->scales, 0, sizeof(block->scales));
  const float d_block = MakeSymmetricQuants(kSubBlocks, 32, scales, scale_levels, sub_weights);
  for (int j = 0; j < kSubBlocks; ++j) PackScaleQ3K(j, scale_levels[j], block->scales);
  block->d = F32ToF16(d_block);
  RequantizeQ3K(x, *block, levels);
  PackLevelsQ3K(levels, block);
}

}  // namespace

void PackTwoBitLevels(const uint8_t* levels, uint8_t* qs) {
  for (int j = 0; j < kSuperBlockSize; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(levels[j + l] | (levels[j + l + 32] << 2) |
                                           (levels[j + l + 64] << 4) | (levels[j + l + 96] << 6));
    }
  }
}

void QuantizeRowQ2K(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSuperBlocks<BlockQ2K>(x, y, n, importance, QuantizeBlockQ2K, QuantizeBlockQ2KWeighted);
}

void QuantizeRowQ3K(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSuperBlocks<BlockQ3K>(x, y, n, importance, QuantizeBlockQ3K, QuantizeBlockQ3KWeighted);
}

void DequantizeRowQ2K(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = LoadBlock<BlockQ2K>(y, i);
    const float d = F16ToF32(block.d);
    const float min = F16ToF32(block.dmin);
    for (int j = 0; j < kSubBlocks; ++j) {
      const float dl = d * AsFloat(block.scales[j] & 0xF);
      const float ml = min * AsFloat(block.scales[j] >> 4);
      for (int l = 0; l < kSubBlock; ++l) {
        const int e = kSubBlock * j + l;
        const int q = (block.qs[e / 128 * 32 + e % 32] >> (2 * (e % 128 / 32))) & 3;
        *x++ = dl * AsFloat(q) - ml;
      }
    }
  }
}

void DequantizeRowQ3K(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = LoadBlock<BlockQ3K>(y, i);
    const float d_all = F16ToF32(block.d);
    for (int j = 0; j < kSubBlocks; ++j) {
      const float dl = d_all * AsFloat(UnpackScaleQ3K(j, block.scales));
      for (int l = 0; l < kSubBlock; ++l) {
        const int e = kSubBlock * j + l;
        const int low = (block.qs[e / 128 * 32 + e % 32] >> (2 * (e % 128 / 32))) & 3;
        const bool high = (block.hmask[e % 32] >> (e / 32) & 1) != 0;
        *x++ = dl * AsFloat(low - (high ? 0 : 4));
      }
    }
  }
}

}  // namespace qtk
