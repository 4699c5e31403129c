// Throughput of the generic schemes (qtk/scheme/scheme.h): input GB/s per thread, quantizing
// through QuantizeScheme (the pipeline's path, byte serialization included) and decoding.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "qtk/scheme/affine.h"
#include "qtk/scheme/nf4.h"
#include "qtk/scheme/scheme.h"

namespace qtk {
namespace {

constexpr int64_t kRowLength = 4096;
constexpr int64_t kRows = 256;  // 4 MiB of F32 input

const std::vector<float>& Weights() {
  static const std::vector<float> weights = [] {
    std::mt19937 rng(1);
    std::student_t_distribution<float> heavy(5.0f);
    std::vector<float> values(static_cast<size_t>(kRows * kRowLength));
    for (float& v : values) v = 0.02f * heavy(rng);
    return values;
  }();
  return weights;
}

void SetThroughput(benchmark::State& state, int n_threads) {
  const double gigabytes = static_cast<double>(Weights().size() * sizeof(float)) / 1e9;
  state.counters["GB/s/thread"] =
      benchmark::Counter(gigabytes / n_threads, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_QuantizeScheme(benchmark::State& state, const std::string& name) {
  const Scheme scheme = *ParseScheme(name);
  const int n_threads = static_cast<int>(state.range(0));
  const std::vector<int64_t> shape = {kRowLength, kRows};
  for (auto _ : state) {
    auto bytes = QuantizeScheme(scheme, shape, Weights(), n_threads);
    if (!bytes.ok()) state.SkipWithError(bytes.status().message().c_str());
    benchmark::DoNotOptimize(bytes);
  }
  SetThroughput(state, n_threads);
}

void BM_DequantizeAffine(benchmark::State& state, const std::string& name) {
  const AffineSpec spec = ParseScheme(name)->affine;
  const int n_threads = static_cast<int>(state.range(0));
  const AffineQuantized q = *QuantizeAffine(spec, Weights(), kRowLength, n_threads);
  std::vector<float> out(Weights().size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        DequantizeAffine(spec, q.codes, q.scales, q.zero_points, kRowLength, out, n_threads));
    benchmark::ClobberMemory();
  }
  SetThroughput(state, n_threads);
}

void BM_DequantizeNf4(benchmark::State& state) {
  const FourBitSpec spec;
  const int n_threads = static_cast<int>(state.range(0));
  const FourBitQuantized q = *QuantizeFourBit(spec, Weights(), n_threads);
  std::vector<float> out(Weights().size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        DequantizeFourBit(Nf4Table(), spec.block_size, q.codes, q.absmax, out, n_threads));
    benchmark::ClobberMemory();
  }
  SetThroughput(state, n_threads);
}

#define QTK_SCHEME_BENCHMARK(label, name)                        \
  BENCHMARK_CAPTURE(BM_QuantizeScheme, label, std::string(name)) \
      ->Arg(1)                                                   \
      ->Arg(2)                                                   \
      ->UseRealTime()                                            \
      ->Unit(benchmark::kMillisecond)

QTK_SCHEME_BENCHMARK(int8_channel, "int8-channel");
QTK_SCHEME_BENCHMARK(int8_g32_as_q8_0, "int8-g32");
QTK_SCHEME_BENCHMARK(int8_g128, "int8-g128");
QTK_SCHEME_BENCHMARK(int4_channel, "int4-channel");
QTK_SCHEME_BENCHMARK(int4_g128, "int4-g128");
QTK_SCHEME_BENCHMARK(int4_g128_asym, "int4-g128-asym");
QTK_SCHEME_BENCHMARK(int4_g128_search, "int4-g128-search");
QTK_SCHEME_BENCHMARK(int4_tensor, "int4-tensor");
QTK_SCHEME_BENCHMARK(nf4, "nf4");
QTK_SCHEME_BENCHMARK(nf4_dq, "nf4-dq");
QTK_SCHEME_BENCHMARK(fp4, "fp4");

BENCHMARK_CAPTURE(BM_DequantizeAffine, int4_g128, std::string("int4-g128"))
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DequantizeAffine, int8_channel, std::string("int8-channel"))
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DequantizeNf4)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qtk
