// Q6_K: 16 sub-blocks of 16 with symmetric 6-bit levels and 8-bit sub-block scales. Layout in
// kquant_blocks.h. ggml's quantize_row_q6_K_ref and quantize_row_q6_K_impl differ only in the
// weights of the sub-block search (x^2 vs the importance itself), so one function serves both.
#include <cmath>
#include <cstring>

#include "qtk/base/float_convert.h"
#include "quant/kquant_blocks.h"

namespace qtk {
namespace {

constexpr int kSubBlock = 16;
constexpr int kSubBlocks = kSuperBlockSize / kSubBlock;

void PackLevelsQ6K(const uint8_t* levels, BlockQ6K* block) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* lv = levels + 128 * h;
    uint8_t* ql = block->ql + 64 * h;
    uint8_t* qh = block->qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((lv[l] & 0xF) | ((lv[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((lv[l + 32] & 0xF) | ((lv[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((lv[l] >> 4) | ((lv[l + 32] >> 4) << 2) |
                                   ((lv[l + 64] >> 4) << 4) | ((lv[l + 96] >> 4) << 6));
    }
  }
}

// `importance` is nullptr (weights x^2) or this block's 256 per-column weights.
void QuantizeBlockQ6K(const float* x, const float* importance, BlockQ6K* block) {
  uint8_t levels[kSuperBlockSize];
  float scales[kSubBlocks];
  float max_scale = 0;
  float max_abs_scale = 0;
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* weights = importance != nullptr ? importance + kSubBlock * j : nullptr;
    scales[j] =
        MakeSymmetricQuants(kSubBlock, 32, x + kSubBlock * j, levels + kSubBlock * j, weights);
    const float abs_scale = std::fabs(scales[j]);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scales[j];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(block, 0, sizeof(*block));
    block->d = F32ToF16(0.f);
    return;
  }
  const float iscale = -128.f / max_scale;
  block->d = F32ToF16(1 / iscale);
  for (int j = 0; j < kSubBlocks; ++j) {
    const int level = NearestInt(iscale * scales[j]);
    block->scales[j] = static_cast<int8_t>(level < 127 ? level : 127);
  }
  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = F16ToF32(block->d) * AsFloat(block->scales[j]);
    if (d == 0) continue;  // keep the search's levels
    for (int i = 0; i < kSubBlock; ++i) {
      const int l = NearestInt(x[kSubBlock * j + i] / d);
      levels[kSubBlock * j + i] = static_cast<uint8_t>(ClampInt(l, -32, 31) + 32);
    }
  }
  PackLevelsQ6K(levels, block);
}

void QuantizeBlockQ6KPlain(const float* x, BlockQ6K* block) { QuantizeBlockQ6K(x, nullptr, block); }

}  // namespace

void QuantizeRowQ6K(const float* x, uint8_t* y, int64_t n, const float* importance) {
  QuantizeSuperBlocks<BlockQ6K>(x, y, n, importance, QuantizeBlockQ6KPlain, QuantizeBlockQ6K);
}

void DequantizeRowQ6K(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = LoadBlock<BlockQ6K>(y, i);
    const float d = F16ToF32(block.d);
    for (int e = 0; e < kSuperBlockSize; ++e) {
      const int h = e / 128;       // half
      const int g = e % 128 / 32;  // which of the four 32-element groups of the half
      const int l = e % 32;
      const uint8_t low_byte = block.ql[64 * h + 32 * (g % 2) + l];
      const int low = g < 2 ? low_byte & 0xF : low_byte >> 4;
      const int high = (block.qh[32 * h + l] >> (2 * g)) & 3;
      const int q = (low | (high << 4)) - 32;
      *x++ = d * AsFloat(block.scales[e / 16]) * AsFloat(q);
    }
  }
}

}  // namespace qtk
