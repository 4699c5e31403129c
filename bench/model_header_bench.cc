// Header parsing cost per tensor, for safetensors and GGUF, at growing tensor counts: the
// time per tensor must stay flat (parsing is linear), which is what keeps `qtk inspect` fast
// on checkpoints with tens of thousands of tensors.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/format/output_file.h"
#include "qtk/format/safetensors.h"

namespace qtk {
namespace {

std::vector<uint8_t> SafetensorsWithTensors(int64_t n_tensors) {
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  uint64_t offset = 0;
  for (int64_t i = 0; i < n_tensors; ++i) {
    header += ",\"model.layers." + std::to_string(i) +
              ".mlp.down_proj.weight\":{\"dtype\":\"BF16\",\"shape\":[4,4],\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(offset + 32) + "]}";
    offset += 32;
  }
  header += "}";
  std::vector<uint8_t> bytes;
  bytes.reserve(8 + header.size() + offset);
  for (int shift = 0; shift < 64; shift += 8) {
    bytes.push_back(static_cast<uint8_t>(header.size() >> shift));
  }
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + offset, 0);
  return bytes;
}

std::vector<uint8_t> GgufWithTensors(int64_t n_tensors) {
  std::vector<GgufTensorInfo> tensors(static_cast<size_t>(n_tensors));
  for (int64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo& info = tensors[static_cast<size_t>(i)];
    info.name = "blk." + std::to_string(i) + ".ffn_down.weight";
    info.shape = {32, 4};
    info.type = GgmlType::kQ8_0;
  }
  MemorySink sink;
  auto writer = GgufWriter::Start(sink, {{"general.architecture", GgufValue::String("llama")}},
                                  std::move(tensors));
  const std::vector<uint8_t> block(4 * 34, 0);
  while (writer->next_tensor() != nullptr) (void)writer->WriteTensor(block);
  (void)writer->Finish();
  return sink.bytes();
}

void BM_ParseSafetensorsHeader(benchmark::State& state) {
  const auto source = MemorySource("bench.safetensors", SafetensorsWithTensors(state.range(0)));
  for (auto _ : state) {
    auto file = ParseSafetensors(source);
    benchmark::DoNotOptimize(file);
    if (!file.ok()) state.SkipWithError(file.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));  // items = tensors
}
BENCHMARK(BM_ParseSafetensorsHeader)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

void BM_ParseGgufHeader(benchmark::State& state) {
  const auto source = MemorySource("bench.gguf", GgufWithTensors(state.range(0)));
  for (auto _ : state) {
    auto file = ParseGguf(source);
    benchmark::DoNotOptimize(file);
    if (!file.ok()) state.SkipWithError(file.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseGgufHeader)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qtk
