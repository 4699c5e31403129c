// 4-bit NormalFloat (NF4, QLoRA) and FP4 (E2M1) quantization as bitsandbytes does it.
//
// The tensor is flattened (row after row) and cut into blocks of `block_size` elements; the
// last block may be shorter. Each block keeps its absolute maximum `absmax` (F32); every
// element x becomes the 4-bit index of the table value nearest to x · (1/absmax), decided by
// bitsandbytes' own comparison tree (dQuantizeNF4 / dQuantizeFP4 in its CUDA kernels), so
// values exactly on a boundary go where bitsandbytes sends them (the lower code). It decodes
// as table[code] · absmax. Two codes share a byte, the first element of each pair in the HIGH
// nibble; an odd element count pads the last low nibble with the code of 0 · (1/absmax).
// A block of zeros has absmax 0; its elements become code 0 (bitsandbytes computes
// 0 · (1/0) = NaN, which every comparison rejects) and decode to (−)0.
//
// Double quantization (bitsandbytes' compress_statistics): the F32 absmax values minus their
// mean (the offset) are quantized in blocks of 256 with bitsandbytes' blockwise 8-bit
// quantizer: each block stores its own absolute maximum (F32) and one byte per absmax, the
// index into the signed dynamic map create_dynamic_map(signed=True) chosen by the same binary
// search and midpoint rule as its kernel (dQuantize). absmax decodes as
// map[code] · scale + offset.
//
// Where qtk cannot reproduce bitsandbytes to the last bit: the offset is the mean computed in
// double and rounded to F32 (torch's float reduction order is unspecified), and the dynamic map
// is built with the scalar linspace formula. Both are stored in qtk's files (docs/FORMAT.md),
// so decoding a file is always exact.
#ifndef QTK_SCHEME_NF4_H_
#define QTK_SCHEME_NF4_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

enum class FourBitCode : uint8_t { kNf4, kFp4 };

inline constexpr int64_t kFourBitDefaultBlockSize = 64;
inline constexpr int64_t kDoubleQuantBlockSize = 256;

struct FourBitSpec {
  // Default: NF4.
  FourBitCode code = FourBitCode::kNf4;
  // Elements per absmax block: even, >= 2 (bitsandbytes itself offers 32..4096). Default: 64.
  int64_t block_size = kFourBitDefaultBlockSize;
  // Quantize the absmax values to 8 bits (bitsandbytes' compress_statistics). Default: off.
  bool double_quant = false;
};

// InvalidArgument for an odd or non-positive block size.
Status ValidateFourBitSpec(const FourBitSpec& spec);

// The 16 decode values of NF4 (bitsandbytes' constants) and FP4 (signed, index bit 3 = sign).
const std::array<float, 16>& Nf4Table();
const std::array<float, 16>& Fp4Table();
const std::array<float, 16>& FourBitTable(FourBitCode code);
// bitsandbytes' signed dynamic 8-bit map (create_dynamic_map(signed=True)), ascending.
const std::array<float, 256>& DynamicMapTable();

// The 4-bit code of a value already scaled to [−1, 1]; NaN gives 0, as in bitsandbytes.
uint8_t EncodeNf4(float x);
uint8_t EncodeFp4(float x);
// The index into `map` (ascending, 256 values) bitsandbytes' dQuantize picks for x.
uint8_t EncodeDynamic(std::span<const float, 256> map, float x);

// Blocks for n elements, and blocks of absmax values for double quantization.
int64_t FourBitBlockCount(const FourBitSpec& spec, int64_t n_elements);
int64_t DoubleQuantBlockCount(int64_t n_blocks);
inline int64_t FourBitCodeBytes(int64_t n_elements) { return (n_elements + 1) / 2; }

struct FourBitQuantized {
  std::vector<uint8_t> codes;         // FourBitCodeBytes(n) bytes
  std::vector<float> absmax;          // one per block; empty with double quantization
  std::vector<uint8_t> absmax_codes;  // double quant: one dynamic-map index per block
  std::vector<float> absmax_scales;   // double quant: one per 256 blocks
  float absmax_offset = 0;            // double quant: the mean subtracted before quantizing
};

// Quantizes `values` (any shape, flattened).
// Errors: InvalidArgument for an invalid spec or a NaN or infinity ("element 12 is nan").
Result<FourBitQuantized> QuantizeFourBit(const FourBitSpec& spec, std::span<const float> values,
                                         int n_threads = 1);

// absmax[i] = map[codes[i]] · scales[i / 256] + offset.
// Errors: InvalidArgument when the sizes do not agree.
Status DecodeDoubleQuant(std::span<const float, 256> map, std::span<const uint8_t> codes,
                         std::span<const float> scales, float offset, std::span<float> absmax);

// out[i] = table[code i] · absmax[i / block_size] for every element of `out`.
// Errors: InvalidArgument when the sizes do not agree with block_size and out.size().
Status DequantizeFourBit(std::span<const float, 16> table, int64_t block_size,
                         std::span<const uint8_t> codes, std::span<const float> absmax,
                         std::span<float> out, int n_threads = 1);

}  // namespace qtk

#endif  // QTK_SCHEME_NF4_H_
