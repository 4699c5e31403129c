// Legacy block kernels and bulk float conversions, scalar reference vs fast path.
//
// Each benchmark runs on one thread over 64 Ki elements (256 KiB of F32, cache resident) and
// reports input bytes per second: F32 for the quantizers, the encoded bytes for the
// decoders and conversions. Compare a `...Ref` / `...Scalar` line with its `...Avx2` /
// `...F16c` twin for the speed-up.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "base/cpu_features.h"
#include "base/float_convert_paths.h"
#include "quant/quant_legacy.h"

namespace qtk {
namespace {

constexpr int64_t kElements = int64_t{1} << 16;

using RowQuantizer = void (*)(const float*, uint8_t*, int64_t);
using WeightedRowQuantizer = void (*)(const float*, uint8_t*, int64_t, const float*);
using RowDequantizer = void (*)(const uint8_t*, float*, int64_t);
using BulkConversion = void (*)(std::span<const uint16_t>, std::span<float>);

// Weight-like data: normal values with a per-block scale spread.
std::vector<float> WeightLikeData() {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kElements);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = normal(rng) * 0.01f * static_cast<float>(1 + i / 32 % 7);
  }
  return x;
}

// Whether the running CPU can run a path; nullptr: always (the scalar references).
using Availability = bool (*)();

bool Unavailable(benchmark::State& state, Availability available) {
  if (available != nullptr && !available()) {
    state.SkipWithError("this CPU lacks the instructions of this path");
    return true;
  }
  return false;
}

void BM_Quantize(benchmark::State& state, RowQuantizer quantize, int block_bytes,
                 Availability available) {
  if (Unavailable(state, available)) return;
  const std::vector<float> x = WeightLikeData();
  std::vector<uint8_t> y(kElements / kLegacyBlockSize * block_bytes);
  for (auto _ : state) {
    quantize(x.data(), y.data(), kElements);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kElements * int64_t{sizeof(float)});
}

void BM_QuantizeWeighted(benchmark::State& state, WeightedRowQuantizer quantize, int block_bytes) {
  const std::vector<float> x = WeightLikeData();
  std::vector<float> importance(kElements);
  for (size_t i = 0; i < importance.size(); ++i) importance[i] = 1.0f + static_cast<float>(i % 5);
  std::vector<uint8_t> y(kElements / kLegacyBlockSize * block_bytes);
  for (auto _ : state) {
    quantize(x.data(), y.data(), kElements, importance.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kElements * int64_t{sizeof(float)});
}

void BM_Dequantize(benchmark::State& state, RowQuantizer quantize, RowDequantizer dequantize,
                   int block_bytes) {
  const std::vector<float> x = WeightLikeData();
  std::vector<uint8_t> y(kElements / kLegacyBlockSize * block_bytes);
  quantize(x.data(), y.data(), kElements);
  std::vector<float> out(kElements);
  for (auto _ : state) {
    dequantize(y.data(), out.data(), kElements);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(y.size()));
}

void BM_Convert(benchmark::State& state, BulkConversion convert, bool bf16,
                Availability available) {
  if (Unavailable(state, available)) return;
  std::mt19937 rng(7);
  std::vector<uint16_t> src(kElements);
  // Finite values only, as real weights are (a NaN sends F16C's chunk to the scalar code).
  for (uint16_t& h : src) h = static_cast<uint16_t>(rng() & (bf16 ? 0xBF7Fu : 0xBBFFu));
  std::vector<float> dst(kElements);
  for (auto _ : state) {
    convert(src, dst);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kElements * int64_t{sizeof(uint16_t)});
}

BENCHMARK_CAPTURE(BM_Quantize, Q8_0Ref, QuantizeRowQ8_0Ref, 34, nullptr);
#if QTK_HAVE_X86_SIMD
BENCHMARK_CAPTURE(BM_Quantize, Q8_0Avx2, QuantizeRowQ8_0Avx2, 34, CpuHasAvx2);
#endif
BENCHMARK_CAPTURE(BM_Quantize, Q4_0Ref, QuantizeRowQ4_0Ref, 18, nullptr);
#if QTK_HAVE_X86_SIMD
BENCHMARK_CAPTURE(BM_Quantize, Q4_0Avx2, QuantizeRowQ4_0Avx2, 18, CpuHasAvx2);
#endif
BENCHMARK_CAPTURE(BM_Quantize, Q4_1Ref, QuantizeRowQ4_1Ref, 20, nullptr);
BENCHMARK_CAPTURE(BM_Quantize, Q5_0Ref, QuantizeRowQ5_0Ref, 22, nullptr);
BENCHMARK_CAPTURE(BM_Quantize, Q5_1Ref, QuantizeRowQ5_1Ref, 24, nullptr);

BENCHMARK_CAPTURE(BM_QuantizeWeighted, Q4_0, QuantizeRowQ4_0Weighted, 18);
BENCHMARK_CAPTURE(BM_QuantizeWeighted, Q4_1, QuantizeRowQ4_1Weighted, 20);
BENCHMARK_CAPTURE(BM_QuantizeWeighted, Q5_0, QuantizeRowQ5_0Weighted, 22);
BENCHMARK_CAPTURE(BM_QuantizeWeighted, Q5_1, QuantizeRowQ5_1Weighted, 24);

BENCHMARK_CAPTURE(BM_Dequantize, Q8_0, QuantizeRowQ8_0Ref, DequantizeRowQ8_0, 34);
BENCHMARK_CAPTURE(BM_Dequantize, Q4_0, QuantizeRowQ4_0Ref, DequantizeRowQ4_0, 18);
BENCHMARK_CAPTURE(BM_Dequantize, Q4_1, QuantizeRowQ4_1Ref, DequantizeRowQ4_1, 20);
BENCHMARK_CAPTURE(BM_Dequantize, Q5_0, QuantizeRowQ5_0Ref, DequantizeRowQ5_0, 22);
BENCHMARK_CAPTURE(BM_Dequantize, Q5_1, QuantizeRowQ5_1Ref, DequantizeRowQ5_1, 24);

BENCHMARK_CAPTURE(BM_Convert, F16ToF32Scalar, ConvertF16ToF32Scalar, false, nullptr);
#if QTK_HAVE_X86_SIMD
BENCHMARK_CAPTURE(BM_Convert, F16ToF32F16c, ConvertF16ToF32F16c, false, CpuHasAvx2F16c);
#endif
BENCHMARK_CAPTURE(BM_Convert, BF16ToF32Scalar, ConvertBF16ToF32Scalar, true, nullptr);
#if QTK_HAVE_X86_SIMD
BENCHMARK_CAPTURE(BM_Convert, BF16ToF32Avx2, ConvertBF16ToF32Avx2, true, CpuHasAvx2);
#endif

}  // namespace
}  // namespace qtk
