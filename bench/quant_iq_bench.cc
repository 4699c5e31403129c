// Single-thread throughput of the IQ4_NL, IQ4_XS, TQ1_0, TQ2_0 and MXFP4 row kernels.
// bytes_per_second counts the kernel's input (F32 for quantizing, blocks for decoding);
// items_per_second counts elements. Rows are 4096 wide, like a small model's hidden size.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "quant/quant_kernels.h"

namespace qtk {
namespace {

constexpr int64_t kRowLength = 4096;
constexpr int64_t kRows = 16;

std::vector<float> GaussianValues(int64_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  return x;
}

std::vector<float> Importance() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.1f, 4.0f);
  std::vector<float> w(kRowLength);
  for (float& v : w) v = uniform(rng);
  return w;
}

void BM_Quantize(benchmark::State& state, GgmlType type, bool with_importance) {
  const QuantKernel* kernel = FindQuantKernel(type);
  const auto x = GaussianValues(kRows * kRowLength);
  const auto importance = Importance();
  const uint64_t row_bytes = GgmlRowBytes(type, kRowLength);
  std::vector<uint8_t> y(kRows * row_bytes);
  for (auto _ : state) {
    for (int64_t row = 0; row < kRows; ++row) {
      kernel->quantize_row(x.data() + row * kRowLength, y.data() + row * row_bytes, kRowLength,
                           with_importance ? importance.data() : nullptr);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kRows * kRowLength *
                          static_cast<int64_t>(sizeof(float)));
  state.SetItemsProcessed(state.iterations() * kRows * kRowLength);
}

void BM_Dequantize(benchmark::State& state, GgmlType type) {
  const QuantKernel* kernel = FindQuantKernel(type);
  const auto x = GaussianValues(kRows * kRowLength);
  const uint64_t row_bytes = GgmlRowBytes(type, kRowLength);
  std::vector<uint8_t> y(kRows * row_bytes);
  for (int64_t row = 0; row < kRows; ++row) {
    kernel->quantize_row(x.data() + row * kRowLength, y.data() + row * row_bytes, kRowLength,
                         nullptr);
  }
  std::vector<float> out(x.size());
  for (auto _ : state) {
    for (int64_t row = 0; row < kRows; ++row) {
      kernel->dequantize_row(y.data() + row * row_bytes, out.data() + row * kRowLength, kRowLength);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(y.size()));
  state.SetItemsProcessed(state.iterations() * kRows * kRowLength);
}

BENCHMARK_CAPTURE(BM_Quantize, IQ4_NL, GgmlType::kIQ4_NL, false);
BENCHMARK_CAPTURE(BM_Quantize, IQ4_NL_importance, GgmlType::kIQ4_NL, true);
BENCHMARK_CAPTURE(BM_Quantize, IQ4_XS, GgmlType::kIQ4_XS, false);
BENCHMARK_CAPTURE(BM_Quantize, IQ4_XS_importance, GgmlType::kIQ4_XS, true);
BENCHMARK_CAPTURE(BM_Quantize, TQ1_0, GgmlType::kTQ1_0, false);
BENCHMARK_CAPTURE(BM_Quantize, TQ2_0, GgmlType::kTQ2_0, false);
BENCHMARK_CAPTURE(BM_Quantize, MXFP4, GgmlType::kMXFP4, false);

BENCHMARK_CAPTURE(BM_Dequantize, IQ4_NL, GgmlType::kIQ4_NL);
BENCHMARK_CAPTURE(BM_Dequantize, IQ4_XS, GgmlType::kIQ4_XS);
BENCHMARK_CAPTURE(BM_Dequantize, TQ1_0, GgmlType::kTQ1_0);
BENCHMARK_CAPTURE(BM_Dequantize, TQ2_0, GgmlType::kTQ2_0);
BENCHMARK_CAPTURE(BM_Dequantize, MXFP4, GgmlType::kMXFP4);

}  // namespace
}  // namespace qtk
