// K-quant kernel throughput: input megabytes (F32) per second on one thread, quantizing
// with and without importance, and decoding.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "quant/quant_kernels.h"

namespace qtk {
namespace {

constexpr int64_t kRowLength = 4096;
constexpr int64_t kRows = 64;  // 1 MiB of F32 input

std::vector<float> RandomValues(int64_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = normal(rng);
  return values;
}

void BM_Quantize(benchmark::State& state, GgmlType type, bool with_importance) {
  const QuantKernel* kernel = FindQuantKernel(type);
  const auto values = RandomValues(kRows * kRowLength, 0.02f, 1);
  auto importance = RandomValues(kRowLength, 1.f, 2);
  for (float& w : importance) w *= w;
  const uint64_t row_bytes = GgmlRowBytes(type, kRowLength);
  std::vector<uint8_t> out(kRows * row_bytes);
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; ++r) {
      kernel->quantize_row(values.data() + r * kRowLength, out.data() + r * row_bytes, kRowLength,
                           with_importance ? importance.data() : nullptr);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kRows * kRowLength *
                          static_cast<int64_t>(sizeof(float)));
}

void BM_Dequantize(benchmark::State& state, GgmlType type) {
  const QuantKernel* kernel = FindQuantKernel(type);
  const auto values = RandomValues(kRows * kRowLength, 0.02f, 1);
  const uint64_t row_bytes = GgmlRowBytes(type, kRowLength);
  std::vector<uint8_t> quantized(kRows * row_bytes);
  for (int64_t r = 0; r < kRows; ++r) {
    kernel->quantize_row(values.data() + r * kRowLength, quantized.data() + r * row_bytes,
                         kRowLength, nullptr);
  }
  std::vector<float> out(values.size());
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; ++r) {
      kernel->dequantize_row(quantized.data() + r * row_bytes, out.data() + r * kRowLength,
                             kRowLength);
    }
    benchmark::DoNotOptimize(out.data());
  }
  // Reported as F32 output bytes, the same unit as the quantizers' input.
  state.SetBytesProcessed(state.iterations() * kRows * kRowLength *
                          static_cast<int64_t>(sizeof(float)));
}

#define QTK_KQUANT_BENCHMARKS(name, type)                                                    \
  BENCHMARK_CAPTURE(BM_Quantize, name, type, false)->Unit(benchmark::kMillisecond);          \
  BENCHMARK_CAPTURE(BM_Quantize, name##_imatrix, type, true)->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_Dequantize, name, type)->Unit(benchmark::kMillisecond)

QTK_KQUANT_BENCHMARKS(Q2_K, GgmlType::kQ2_K);
QTK_KQUANT_BENCHMARKS(Q3_K, GgmlType::kQ3_K);
QTK_KQUANT_BENCHMARKS(Q4_K, GgmlType::kQ4_K);
QTK_KQUANT_BENCHMARKS(Q5_K, GgmlType::kQ5_K);
QTK_KQUANT_BENCHMARKS(Q6_K, GgmlType::kQ6_K);

}  // namespace
}  // namespace qtk
