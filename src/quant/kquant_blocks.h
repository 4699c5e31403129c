// K-quant block layouts and the per-type row functions (internal): Q2_K and Q3_K in
// kquant_q2_q3.cc, Q4_K and Q5_K in kquant_q4_q5.cc, Q6_K in kquant_q6.cc; their kernel table in
// quant_kquants.cc.
//
// Every K-quant row is a sequence of super-blocks of 256 elements. F16 values are IEEE
// half-precision bit patterns, little-endian. Levels are packed low bits first.
//
//   Q2_K (84 bytes, 2.625 bits/weight): 16 sub-blocks of 16, affine x = d*s*q - dmin*m
//     scales[16]  u8   low nibble: sub-block scale s, high nibble: sub-block min m
//     qs[64]      u8   2-bit levels q; for each half h (128 elements) byte 32h + l holds
//                      elements 128h + l, +32, +64, +96 in bits 0-1, 2-3, 4-5, 6-7
//     d, dmin     f16  super-block scale for s and for m
//
//   Q3_K (110 bytes, 3.4375 bits/weight): 16 sub-blocks of 16, symmetric x = d*(s-32)*(q-4)
//     hmask[32]   u8   bit 2 of q: element e in byte e % 32, bit e / 32
//     qs[64]      u8   bits 0-1 of q, packed as Q2_K's qs
//     scales[12]  u8   6-bit s: low nibbles of sub-blocks 0-7 in bytes 0-7 (bits 0-3) and
//                      8-15 in bytes 0-7 (bits 4-7); high 2 bits of sub-block j in byte
//                      8 + j % 4 at bit 2 * (j / 4)
//     d           f16
//
//   Q4_K (144 bytes, 4.5 bits/weight): 8 sub-blocks of 32, affine x = d*s*q - dmin*m
//     d, dmin     f16
//     scales[12]  u8   6-bit s and m ("k4" packing): for j < 4, s in byte j and m in byte
//                      j + 4 (bits 0-5); for j >= 4, low nibbles of s and m in byte j + 4,
//                      high 2 bits of s in bits 6-7 of byte j - 4 and of m in byte j
//     qs[128]     u8   4-bit q: for each 64-element chunk c, byte 32c + l holds elements
//                      64c + l (low nibble) and 64c + l + 32 (high nibble)
//
//   Q5_K (176 bytes, 5.5 bits/weight): as Q4_K with 5-bit q
//     d, dmin     f16
//     scales[12]  u8   as Q4_K
//     qh[32]      u8   bit 4 of q: element e in byte e % 32, bit e / 32
//     qs[128]     u8   bits 0-3 of q, packed as Q4_K's qs
//
//   Q6_K (210 bytes, 6.5625 bits/weight): 16 sub-blocks of 16, symmetric x = d*s*(q-32)
//     ql[128]     u8   bits 0-3 of q: for each half h and l < 32, byte 64h + l holds
//                      elements 128h + l (low nibble) and +64 (high nibble); byte
//                      64h + 32 + l holds +32 and +96
//     qh[64]      u8   bits 4-5 of q: byte 32h + l holds elements 128h + l, +32, +64, +96
//                      in bits 0-1, 2-3, 4-5, 6-7
//     scales[16]  i8   sub-block scales s
//     d           f16
#ifndef QTK_QUANT_KQUANT_BLOCKS_H_
#define QTK_QUANT_KQUANT_BLOCKS_H_

#include <cstdint>
#include <cstring>

#include "quant/quant_search.h"

namespace qtk {

struct BlockQ2K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2K) == 84);

struct BlockQ3K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3K) == 110);

struct BlockQ4K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4K) == 144);

struct BlockQ5K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5K) == 176);

struct BlockQ6K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6K) == 210);

// Packs 2-bit levels L[0..256) into 64 bytes (Q2_K and Q3_K's qs).
void PackTwoBitLevels(const uint8_t* levels, uint8_t* qs);

// The "k4" 6-bit scale/min packing of Q4_K and Q5_K: stores sub-block j's (scale, min).
// Call for j = 0..7 in order: j < 4 assigns bytes 0-7 that j >= 4 then ORs high bits into
// (the reference's order, which matters when a level does not fit in 6 bits).
void PackScaleMinK4(int j, uint8_t scale, uint8_t min, uint8_t* scales);
// Reads sub-block j's (scale, min) back.
void UnpackScaleMinK4(int j, const uint8_t* scales, uint8_t* scale, uint8_t* min);

// Runs quantize_plain (no importance) or quantize_weighted over every super-block of a row;
// blocks are built on the stack and
// copied out because rows need not be aligned for the block structs.
template <typename Block, typename Plain, typename Weighted>
void QuantizeSuperBlocks(const float* x, uint8_t* y, int64_t n, const float* importance,
                         Plain quantize_plain, Weighted quantize_weighted) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    Block block;
    const float* xb = x + i * kSuperBlockSize;
    if (importance != nullptr) {
      quantize_weighted(xb, importance + i * kSuperBlockSize, &block);
    } else {
      quantize_plain(xb, &block);
    }
    std::memcpy(y + i * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
  }
}

// Block i of a row (copied out: rows need not be aligned for the block structs).
template <typename Block>
Block LoadBlock(const uint8_t* y, int64_t i) {
  Block block;
  std::memcpy(&block, y + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return block;
}

// Row functions. x holds n elements, y n / 256 blocks; `importance` is n per-column weights.
// REQUIRES: n % 256 == 0.
void QuantizeRowQ2K(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ3K(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ4K(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ5K(const float* x, uint8_t* y, int64_t n, const float* importance);
void QuantizeRowQ6K(const float* x, uint8_t* y, int64_t n, const float* importance);
void DequantizeRowQ2K(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ3K(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ4K(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ5K(const uint8_t* y, float* x, int64_t n);
void DequantizeRowQ6K(const uint8_t* y, float* x, int64_t n);

}  // namespace qtk

#endif  // QTK_QUANT_KQUANT_BLOCKS_H_
