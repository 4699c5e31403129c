// NF4 / FP4 block quantization and bitsandbytes' double quantization (qtk/scheme/nf4.h).
#include "qtk/scheme/nf4.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "base/parallel.h"
#include "base/value_scan.h"
#include "qtk/quant/quantize.h"

namespace qtk {
namespace {

// bitsandbytes' NF4 values (nf4_dequantization_lut in its kernels, get_4bit_type("nf4")).
constexpr std::array<float, 16> kNf4Table = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

// The boundaries of dQuantizeNF4's comparison tree, ascending: code c is chosen exactly when
// x is above the first c of them (x > t, so a value on a boundary takes the lower code).
constexpr std::array<float, 15> kNf4Thresholds = {
    -0.8480964004993439f,  -0.6106329262256622f,  -0.4599952697753906f,   -0.33967943489551544f,
    -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
    0.1202552504837513f,   0.2035212516784668f,   0.2920137718319893f,    0.3893125355243683f,
    0.5016634166240692f,   0.6427869200706482f,   0.8614784181118011f,
};

// bitsandbytes' FP4 (E2M1, normalised so the largest magnitude is 1): bit 3 is the sign, the
// low three bits index the magnitudes (fp4_dequantization_lut).
constexpr std::array<float, 16> kFp4Table = {
    0.0f,  0.005208333333f,  0.66666667f,  1.0f,  0.33333333f,  0.5f,  0.16666667f,  0.25f,
    -0.0f, -0.005208333333f, -0.66666667f, -1.0f, -0.33333333f, -0.5f, -0.16666667f, -0.25f,
};

// dQuantizeFP4's boundaries between the magnitudes in ascending order, and the 3-bit code of
// each magnitude rank (0, 0.0052, 0.1667, 0.25, 0.3333, 0.5, 0.6667, 1).
constexpr std::array<float, 7> kFp4Thresholds = {
    0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f,
};
constexpr std::array<int, 8> kFp4CodeOfRank = {0, 1, 6, 7, 4, 5, 2, 3};

// kFp4CodeOfRank without a table lookup or a branch, so that callers' loops vectorize: the
// rank pairs (0 1) (2 3) (4 5) (6 7) become (0 1) (6 7) (4 5) (2 3).
constexpr int Fp4CodeOfRank(int rank) { return (((4 - (rank >> 1)) & 3) << 1) | (rank & 1); }

constexpr bool Fp4RanksMatch() {
  for (int rank = 0; rank < 8; ++rank) {
    if (Fp4CodeOfRank(rank) != kFp4CodeOfRank[static_cast<size_t>(rank)]) return false;
  }
  return true;
}
static_assert(Fp4RanksMatch());

// create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i = 0..6,
// the 2^i midpoints of torch.linspace(0.1, 1, 2^i + 1) (F32) times 10^(i−6), with both signs,
// plus 0 and 1, sorted.
std::array<float, 256> BuildDynamicMap() {
  constexpr std::array<double, 7> kPowersOfTen = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  std::array<float, 256> map{};
  size_t n_values = 0;
  for (int i = 0; i < 7; ++i) {
    const int n_points = (1 << i) + 1;
    // torch's F32 linspace: the first half steps up from the start, the rest down from the end.
    const float start = 0.1f;
    const float end = 1.0f;
    const float step = (end - start) / static_cast<float>(n_points - 1);
    auto point = [&](int j) {
      return j < n_points / 2 ? start + step * static_cast<float>(j)
                              : end - step * static_cast<float>(n_points - j - 1);
    };
    const auto scale = static_cast<float>(kPowersOfTen[static_cast<size_t>(i)]);
    for (int j = 0; j + 1 < n_points; ++j) {
      const float mean = (point(j) + point(j + 1)) / 2.0f;
      map[n_values++] = scale * mean;
      map[n_values++] = -scale * mean;
    }
  }
  map[n_values++] = 0.0f;
  map[n_values++] = 1.0f;
  std::sort(map.begin(), map.end());
  return map;
}

template <FourBitCode kCode>
inline uint8_t Encode(float x) {
  if constexpr (kCode == FourBitCode::kNf4) {
    return EncodeNf4(x);
  } else {
    return EncodeFp4(x);
  }
}

// Codes are computed a chunk at a time into a buffer, a loop without calls or branches that
// the compiler can vectorize. Even, so chunks start on byte boundaries.
constexpr int64_t kChunk = 256;

// One block: absmax, then codes of x · (1/absmax), two per byte, first in the high nibble.
template <FourBitCode kCode>
void QuantizeBlock(const float* x, int64_t n, uint8_t* codes, float* absmax) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));  // inputs are finite
  *absmax = amax;
  // bitsandbytes multiplies by 1/absmax; for a zero block that is 0 · inf = NaN (code 0).
  const float inv = amax != 0 ? 1.0f / amax : std::numeric_limits<float>::infinity();
  uint8_t chunk[kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t count = std::min(kChunk, n - start);
    for (int64_t i = 0; i < count; ++i) chunk[i] = Encode<kCode>(x[start + i] * inv);
    if (count % 2 != 0) chunk[count] = Encode<kCode>(0.0f * inv);  // the padding nibble
    for (int64_t j = 0; j < (count + 1) / 2; ++j) {
      codes[start / 2 + j] = static_cast<uint8_t>((chunk[2 * j] << 4) | chunk[2 * j + 1]);
    }
  }
}

template <FourBitCode kCode>
void QuantizeBlocks(const FourBitSpec& spec, std::span<const float> values, FourBitQuantized& out,
                    std::vector<float>& absmax, int n_threads) {
  const auto n = static_cast<int64_t>(values.size());
  const int64_t block = spec.block_size;
  ParallelFor(n_threads, static_cast<int64_t>(absmax.size()), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = b * block;
      QuantizeBlock<kCode>(values.data() + first, std::min(block, n - first),
                           out.codes.data() + first / 2, &absmax[static_cast<size_t>(b)]);
    }
  });
}

// bitsandbytes' quantize_blockwise(absmax − mean, blocksize=256) with the dynamic map.
void DoubleQuantize(const std::vector<float>& absmax, FourBitQuantized& out, int n_threads) {
  double sum = 0;
  for (float a : absmax) sum += a;
  const float offset = static_cast<float>(sum / static_cast<double>(absmax.size()));
  const auto n_blocks = static_cast<int64_t>(absmax.size());
  const std::array<float, 256>& map = DynamicMapTable();
  out.absmax_offset = offset;
  out.absmax_codes.assign(absmax.size(), 0);
  out.absmax_scales.assign(static_cast<size_t>(DoubleQuantBlockCount(n_blocks)), 0.0f);
  ParallelFor(
      n_threads, static_cast<int64_t>(out.absmax_scales.size()), [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
          const int64_t first = b * kDoubleQuantBlockSize;
          const int64_t last = std::min(n_blocks, first + kDoubleQuantBlockSize);
          float amax = 0.0f;
          for (int64_t i = first; i < last; ++i) {
            amax = std::max(amax, std::fabs(absmax[static_cast<size_t>(i)] - offset));
          }
          out.absmax_scales[static_cast<size_t>(b)] = amax;
          const float inv = amax != 0 ? 1.0f / amax : std::numeric_limits<float>::infinity();
          for (int64_t i = first; i < last; ++i) {
            const float centered = absmax[static_cast<size_t>(i)] - offset;
            out.absmax_codes[static_cast<size_t>(i)] = EncodeDynamic(map, centered * inv);
          }
        }
      });
}

}  // namespace

Status ValidateFourBitSpec(const FourBitSpec& spec) {
  if (spec.block_size < 2 || spec.block_size % 2 != 0) {
    return Status::InvalidArgument("4-bit block size is " + std::to_string(spec.block_size) +
                                   ", must be even and >= 2");
  }
  return Status::Ok();
}

const std::array<float, 16>& Nf4Table() { return kNf4Table; }
const std::array<float, 16>& Fp4Table() { return kFp4Table; }
const std::array<float, 16>& FourBitTable(FourBitCode code) {
  return code == FourBitCode::kNf4 ? kNf4Table : kFp4Table;
}

const std::array<float, 256>& DynamicMapTable() {
  static const std::array<float, 256> kMap = BuildDynamicMap();  // immutable once built
  return kMap;
}

uint8_t EncodeNf4(float x) {
  int code = 0;
  for (float threshold : kNf4Thresholds) code += x > threshold ? 1 : 0;
  return static_cast<uint8_t>(code);
}

uint8_t EncodeFp4(float x) {
  const int sign = static_cast<int>(x < 0) << 3;
  const float magnitude = std::fabs(x);
  int rank = 0;
  for (float threshold : kFp4Thresholds) rank += magnitude > threshold ? 1 : 0;
  return static_cast<uint8_t>(sign | Fp4CodeOfRank(rank));
}

uint8_t EncodeDynamic(std::span<const float, 256> map, float x) {
  // The binary search of bitsandbytes' dQuantize: seven halving steps from index 127, keeping
  // the last index passed on each side, then the midpoint rule against those neighbours.
  int pivot = 127;
  int lower_pivot = 0;
  int upper_pivot = 255;
  float lower = -1.0f;
  float upper = 1.0f;
  float value = map[127];
  for (int step = 64; step > 0; step >>= 1) {
    if (x > value) {
      lower_pivot = pivot;
      lower = value;
      pivot += step;
    } else {
      upper_pivot = pivot;
      upper = value;
      pivot -= step;
    }
    value = map[static_cast<size_t>(pivot)];
  }
  if (upper_pivot == 255) upper = map[255];
  if (lower_pivot == 0) lower = map[0];
  if (x > value) {
    const float midpoint = (upper + value) * 0.5f;
    return static_cast<uint8_t>(x > midpoint ? upper_pivot : pivot);
  }
  const float midpoint = (lower + value) * 0.5f;
  return static_cast<uint8_t>(x < midpoint ? lower_pivot : pivot);
}

int64_t FourBitBlockCount(const FourBitSpec& spec, int64_t n_elements) {
  return (n_elements + spec.block_size - 1) / spec.block_size;
}

int64_t DoubleQuantBlockCount(int64_t n_blocks) {
  return (n_blocks + kDoubleQuantBlockSize - 1) / kDoubleQuantBlockSize;
}

Result<FourBitQuantized> QuantizeFourBit(const FourBitSpec& spec, std::span<const float> values,
                                         int n_threads) {
  QTK_RETURN_IF_ERROR(ValidateFourBitSpec(spec));
  if (const std::optional<int64_t> bad = ScanValues(values, n_threads).first_non_finite) {
    const float value = values[static_cast<size_t>(*bad)];
    return Status::InvalidArgument("element " + std::to_string(*bad) + " is " +
                                   (std::isnan(value) ? "nan"
                                    : value > 0       ? "inf"
                                                      : "-inf"));
  }
  const auto n = static_cast<int64_t>(values.size());
  FourBitQuantized out;
  out.codes.assign(static_cast<size_t>(FourBitCodeBytes(n)), 0);
  std::vector<float> absmax(static_cast<size_t>(FourBitBlockCount(spec, n)), 0.0f);
  if (spec.code == FourBitCode::kNf4) {
    QuantizeBlocks<FourBitCode::kNf4>(spec, values, out, absmax, n_threads);
  } else {
    QuantizeBlocks<FourBitCode::kFp4>(spec, values, out, absmax, n_threads);
  }
  if (spec.double_quant && !absmax.empty()) {
    DoubleQuantize(absmax, out, n_threads);
  } else if (!spec.double_quant) {
    out.absmax = std::move(absmax);
  }
  return out;
}

Status DecodeDoubleQuant(std::span<const float, 256> map, std::span<const uint8_t> codes,
                         std::span<const float> scales, float offset, std::span<float> absmax) {
  const auto n_blocks = static_cast<int64_t>(absmax.size());
  if (codes.size() != absmax.size() ||
      static_cast<int64_t>(scales.size()) != DoubleQuantBlockCount(n_blocks)) {
    return Status::InvalidArgument("double quantization has " + std::to_string(codes.size()) +
                                   " codes and " + std::to_string(scales.size()) +
                                   " scales, expected " + std::to_string(n_blocks) + " and " +
                                   std::to_string(DoubleQuantBlockCount(n_blocks)));
  }
  for (size_t i = 0; i < absmax.size(); ++i) {
    // Two roundings, as bitsandbytes: the kernel's product, then torch adds the offset.
    const float scaled = map[codes[i]] * scales[i / kDoubleQuantBlockSize];
    absmax[i] = scaled + offset;
  }
  return Status::Ok();
}

Status DequantizeFourBit(std::span<const float, 16> table, int64_t block_size,
                         std::span<const uint8_t> codes, std::span<const float> absmax,
                         std::span<float> out, int n_threads) {
  QTK_RETURN_IF_ERROR(ValidateFourBitSpec(FourBitSpec{FourBitCode::kNf4, block_size, false}));
  const auto n = static_cast<int64_t>(out.size());
  const int64_t n_blocks = (n + block_size - 1) / block_size;
  if (static_cast<int64_t>(codes.size()) != FourBitCodeBytes(n) ||
      static_cast<int64_t>(absmax.size()) != n_blocks) {
    return Status::InvalidArgument(
        "4-bit data has " + std::to_string(codes.size()) + " code bytes and " +
        std::to_string(absmax.size()) + " absmax values, expected " +
        std::to_string(FourBitCodeBytes(n)) + " and " + std::to_string(n_blocks) + " for " +
        std::to_string(n) + " elements");
  }
  ParallelFor(n_threads, n_blocks, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const float scale = absmax[static_cast<size_t>(b)];
      const int64_t last = std::min(n, (b + 1) * block_size);
      for (int64_t i = b * block_size; i < last; ++i) {
        const uint8_t byte = codes[static_cast<size_t>(i / 2)];
        const int code = i % 2 == 0 ? byte >> 4 : byte & 0x0F;
        out[static_cast<size_t>(i)] = table[static_cast<size_t>(code)] * scale;
      }
    }
  });
  return Status::Ok();
}

}  // namespace qtk
