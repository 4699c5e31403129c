// Throughput of the synthetic weight generator and of the q/k row permutation, next to a
// plain copy of the same bytes as the yardstick.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "qtk/convert/architecture.h"
#include "qtk/synth/synth.h"

namespace qtk {
namespace {

const SynthShape kShape = PresetShape(SynthPreset::k1B);
const SynthTensor kGate = {
    "model.layers.3.mlp.gate_proj.weight", {512, 2048}, SynthTensorKind::kLinear};

void BM_GenerateSynthRows(benchmark::State& state) {
  std::vector<float> out(static_cast<size_t>(kGate.n_rows() * kGate.row_length()));
  for (auto _ : state) {
    GenerateSynthRows(kShape, kGate, 0, 0, kGate.n_rows(), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(out.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size() * sizeof(float)));
}
BENCHMARK(BM_GenerateSynthRows);

void BM_PermuteRopeRows(benchmark::State& state) {
  const int64_t n_rows = 2048;
  const int64_t row_length = 2048;
  std::vector<float> src(static_cast<size_t>(n_rows * row_length), 1.0f);
  std::vector<float> dst(src.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(PermuteRopeRows(src, dst, n_rows, row_length, 32).ok());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.size() * sizeof(float)));
}
BENCHMARK(BM_PermuteRopeRows);

void BM_MemcpyBaseline(benchmark::State& state) {
  std::vector<float> src(size_t{2048} * 2048, 1.0f);
  std::vector<float> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size() * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.size() * sizeof(float)));
}
BENCHMARK(BM_MemcpyBaseline);

}  // namespace
}  // namespace qtk
