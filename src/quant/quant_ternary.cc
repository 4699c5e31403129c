// TQ1_0 and TQ2_0: ternary weights (BitNet b1.58, TriLMs), byte-identical to llama.cpp's
// quantize_row_tq1_0_ref / quantize_row_tq2_0_ref (ggml-quants.c).
//
// Both take d = max |x| over a 256-element block and store each element as the trit
// t = lroundf(x * (1/d)) in {-1, 0, 1} (round half away from zero), kept as t + 1 in {0, 1, 2}.
// An element decodes as (t) * d.
//
// TQ1_0 block: 256 elements, 54 bytes (1.6875 bits per weight)
//   bytes 0..31   qs[0..31]: five trits per byte; byte m holds elements m, m+32, m+64, m+96,
//                 m+128 (elements 0..159)
//   bytes 32..47  qs[32..47]: five trits per byte; byte 32+m holds elements 160+m, 176+m,
//                 192+m, 208+m, 224+m (elements 160..239)
//   bytes 48..51  qh[4]: four trits per byte; byte j holds elements 240+j, 244+j, 248+j,
//                 252+j, followed by a zero fifth trit
//   bytes 52..53  d, f16
//   A byte's trits, first element most significant, form v = sum_k (t_k + 1) * 3^(4-k) < 243;
//   the byte stores ceil(v * 256 / 243), so trit k reads back as the top base-3 digit of a
//   fixed-point fraction: ((byte * 3^k) mod 256) * 3 >> 8.
//
// TQ2_0 block: 256 elements, 66 bytes (2.0625 bits per weight)
//   bytes 0..63   qs[64]: two halves of 32 bytes; in half h, byte m holds element
//                 128h + m + 32k in bits 2k..2k+1 (k = 0..3)
//   bytes 64..65  d, f16
#include <cmath>

#include "quant/quant_bytes.h"
#include "quant/quant_iq_rows.h"

namespace qtk {
namespace {

constexpr int kBlockSize = 256;
constexpr int64_t kTq1BlockBytes = 48 + 4 + 2;
constexpr int64_t kTq2BlockBytes = 64 + 2;

// The block scale d = max |x|, as ggml's MAX(amax, fabsf(x)): a NaN element makes it NaN.
// (Q8_0's and MXFP4's max loops skip NaN instead, so this one is not shared with them.)
float MaxAbs(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < kBlockSize; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

// t + 1 for one element. The arithmetic matches `lroundf(x * id) + 1` assigned to an int.
inline int StoredTrit(float x, float inverse_scale) {
  return static_cast<int>(std::lround(x * inverse_scale) + 1);
}

// Packs `count` trits of elements `stride` apart (first most significant), padded with
// zero trits to five, into one byte holding ceil(v * 256 / 243).
uint8_t PackTrits(const float* x, int stride, int count, float inverse_scale) {
  uint8_t v = 0;
  for (int k = 0; k < count; ++k) {
    v = static_cast<uint8_t>(v * 3 + StoredTrit(x[k * stride], inverse_scale));
  }
  for (int k = count; k < 5; ++k) v = static_cast<uint8_t>(v * 3);
  return static_cast<uint8_t>((v * 256 + (243 - 1)) / 243);
}

// Trit k (0 = most significant) of a TQ1_0 byte, as t in {-1, 0, 1}.
inline int UnpackTrit(uint8_t byte, int k) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const auto shifted = static_cast<uint8_t>(byte * kPow3[k]);
  return ((shifted * 3) >> 8) - 1;
}

}  // namespace

void QuantizeRowTq1_0(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const float* xb = x + block * kBlockSize;
    uint8_t* yb = y + block * kTq1BlockBytes;
    const float d = MaxAbs(xb);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    for (int m = 0; m < 32; ++m) yb[m] = PackTrits(xb + m, 32, 5, id);
    for (int m = 0; m < 16; ++m) yb[32 + m] = PackTrits(xb + 160 + m, 16, 5, id);
    for (int j = 0; j < 4; ++j) yb[48 + j] = PackTrits(xb + 240 + j, 4, 4, id);
    StoreF16Le(yb + 52, d);
  }
}

void DequantizeRowTq1_0(const uint8_t* y, float* x, int64_t n) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const uint8_t* yb = y + block * kTq1BlockBytes;
    float* xb = x + block * kBlockSize;
    const float d = LoadF16Le(yb + 52);
    for (int k = 0; k < 5; ++k) {
      for (int m = 0; m < 32; ++m) xb[32 * k + m] = static_cast<float>(UnpackTrit(yb[m], k)) * d;
    }
    for (int k = 0; k < 5; ++k) {
      for (int m = 0; m < 16; ++m) {
        xb[160 + 16 * k + m] = static_cast<float>(UnpackTrit(yb[32 + m], k)) * d;
      }
    }
    for (int k = 0; k < 4; ++k) {
      for (int j = 0; j < 4; ++j) {
        xb[240 + 4 * k + j] = static_cast<float>(UnpackTrit(yb[48 + j], k)) * d;
      }
    }
  }
}

void QuantizeRowTq2_0(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const float* xb = x + block * kBlockSize;
    uint8_t* yb = y + block * kTq2BlockBytes;
    const float d = MaxAbs(xb);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    for (int half = 0; half < 2; ++half) {
      for (int m = 0; m < 32; ++m) {
        int packed = 0;
        for (int k = 0; k < 4; ++k) {
          packed += (StoredTrit(xb[128 * half + 32 * k + m], id) & 3) << (2 * k);
        }
        yb[32 * half + m] = static_cast<uint8_t>(packed);
      }
    }
    StoreF16Le(yb + 64, d);
  }
}

void DequantizeRowTq2_0(const uint8_t* y, float* x, int64_t n) {
  for (int64_t block = 0; block < n / kBlockSize; ++block) {
    const uint8_t* yb = y + block * kTq2BlockBytes;
    float* xb = x + block * kBlockSize;
    const float d = LoadF16Le(yb + 64);
    for (int half = 0; half < 2; ++half) {
      for (int k = 0; k < 4; ++k) {
        for (int m = 0; m < 32; ++m) {
          const int t = ((yb[32 * half + m] >> (2 * k)) & 3) - 1;
          xb[128 * half + 32 * k + m] = static_cast<float>(t) * d;
        }
      }
    }
  }
}

}  // namespace qtk
