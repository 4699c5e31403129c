// qtk_fuzz_seeds TESTDATA OUT: writes the fuzz targets' seed corpora into OUT/<target>/.
//
// Seeds are derived at run time (the shared test data are never copied into the project):
//   gguf:          every GGUF under TESTDATA cut to its header (the reader validates all of
//                  it, then refuses the missing data), and a small valid copy with the same
//                  metadata and tensors whose shapes are cut to a block or two per dimension;
//                  plus handcrafted files breaking one rule each.
//   imatrix:       every importance matrix under TESTDATA, the same data in the legacy form,
//                  and handcrafted legacy files breaking one rule each.
//   quantize_rows: for every quantizable type, rows of ordinary, zero, denormal, huge and
//                  non-finite values, and the first rows of the F32 tensors under TESTDATA.
//   safetensors, safetensors_index, config, sentencepiece: see seeds_hf.cc.
// TESTDATA may be "-" (a fresh clone has none): then only the handcrafted seeds are written.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/format/imatrix.h"
#include "qtk/format/output_file.h"
#include "qtk/quant/quantize.h"
#include "seeds_hf.h"
#include "test_support.h"

namespace qtk::fuzz {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;

void Write(const fs::path& dir, const std::string& name, std::span<const uint8_t> bytes) {
  WriteSeed(dir, name, bytes);
}

std::vector<fs::path> GgufFilesUnder(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".gguf") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "reference-llama.cpp-synth-a-synth-a-pure-Q4_0": unique and readable.
std::string SeedName(const fs::path& root, const fs::path& file) {
  std::string name = fs::relative(file, root).replace_extension().string();
  std::replace(name.begin(), name.end(), '/', '-');
  return name;
}

// ---- GGUF

// The same metadata and tensors, each dimension cut to at most two blocks (rows: two).
Result<std::vector<uint8_t>> ShrunkCopy(const GgufFile& file) {
  std::vector<GgufTensorInfo> infos;
  for (const GgufTensorInfo& info : file.tensors()) {
    GgufTensorInfo small{info.name, info.type, info.shape, 0, 0};
    if (!small.shape.empty()) {
      small.shape[0] = std::min<int64_t>(small.shape[0], 2 * GgmlBlockSize(info.type));
    }
    for (size_t d = 1; d < small.shape.size(); ++d)
      small.shape[d] = std::min<int64_t>(small.shape[d], 2);
    infos.push_back(std::move(small));
  }
  MemorySink sink;
  QTK_ASSIGN_OR_RETURN(GgufWriter writer, GgufWriter::Start(sink, file.metadata(), infos));
  for (size_t i = 0; i < infos.size(); ++i) {
    const uint64_t n_bytes = writer.layout().tensors[i].n_bytes;
    QTK_RETURN_IF_ERROR(writer.WriteTensor(file.TensorData(file.tensors()[i]).first(n_bytes)));
  }
  QTK_RETURN_IF_ERROR(writer.Finish());
  return sink.bytes();
}

void WriteGgufSeedsFrom(const fs::path& testdata, const fs::path& out) {
  for (const fs::path& path : GgufFilesUnder(testdata)) {
    Result<GgufFile> file = ReadGgufFile(path.string());
    if (!file.ok()) {
      std::fprintf(stderr, "qtk_fuzz_seeds: skipping %s\n", file.status().message().c_str());
      continue;
    }
    const std::string name = SeedName(testdata, path);
    const auto bytes = file->source()->bytes();
    Write(out, name + ".header", bytes.first(std::min<size_t>(bytes.size(), file->data_offset())));
    Result<std::vector<uint8_t>> small = ShrunkCopy(*file);
    if (small.ok()) Write(out, name + ".small", *small);
  }
}

// A small valid GGUF whose fields sit at known offsets, for one-rule-broken variants.
struct HandcraftedGguf {
  std::vector<uint8_t> bytes;
  size_t version_at = 4, n_tensors_at = 8, n_kv_at = 16;
  size_t alignment_value_at = 0, array_count_at = 0;
  size_t n_dims_at = 0, dim0_at = 0, type_at = 0, offset_at = 0, second_name_at = 0;
};

HandcraftedGguf BaseGguf() {
  HandcraftedGguf g;
  Bytes b;
  b.Raw("GGUF").Put<uint32_t>(3).Put<int64_t>(2).Put<int64_t>(3);
  b.GgufString("general.architecture").Put<uint32_t>(8).GgufString("llama");
  b.GgufString("general.alignment").Put<uint32_t>(4);
  g.alignment_value_at = b.size();
  b.Put<uint32_t>(32);
  b.GgufString("tokenizer.ggml.scores").Put<uint32_t>(9).Put<uint32_t>(6);
  g.array_count_at = b.size();
  b.Put<uint64_t>(4).Put<float>(0.0f).Put<float>(-1.0f).Put<float>(-2.0f).Put<float>(-3.0f);
  b.GgufString("blk.0.attn_q.weight");
  g.n_dims_at = b.size();
  b.Put<uint32_t>(2);
  g.dim0_at = b.size();
  b.Put<int64_t>(32).Put<int64_t>(2);
  g.type_at = b.size();
  b.Put<uint32_t>(8);  // Q8_0: 2 rows of 34 bytes
  g.offset_at = b.size();
  b.Put<uint64_t>(0);
  g.second_name_at = b.size();
  b.GgufString("output_norm.weight").Put<uint32_t>(1).Put<int64_t>(8).Put<uint32_t>(0);
  b.Put<uint64_t>(96);
  b.PadTo(32);
  for (int row = 0; row < 2; ++row) {
    b.Put<uint16_t>(0x2c00);  // d = 0.0625 in F16
    for (int i = 0; i < 32; ++i) b.Put<int8_t>(static_cast<int8_t>(i * 4 - 64 + row));
  }
  b.PadTo(32);
  for (int i = 0; i < 8; ++i) b.Put<float>(1.0f + static_cast<float>(i) / 8.0f);
  g.bytes = b.bytes();
  return g;
}

template <typename T>
std::vector<uint8_t> Patched(std::vector<uint8_t> bytes, size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
  return bytes;
}

std::vector<uint8_t> Cut(const std::vector<uint8_t>& bytes, size_t n) {
  return {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(n, bytes.size()))};
}

void WriteHandcraftedGguf(const fs::path& out) {
  const HandcraftedGguf g = BaseGguf();
  const auto& b = g.bytes;
  Write(out, "valid", b);
  Write(out, "version-1", Patched<uint32_t>(b, g.version_at, 1));
  Write(out, "version-byte-swapped", Patched<uint32_t>(b, g.version_at, 0x03000000));
  Write(out, "tensor-count-huge", Patched<int64_t>(b, g.n_tensors_at, int64_t{1} << 62));
  Write(out, "metadata-count-negative", Patched<int64_t>(b, g.n_kv_at, -1));
  Write(out, "array-count-1e8", Patched<uint64_t>(b, g.array_count_at, 100000000));
  Write(out, "array-count-max", Patched<uint64_t>(b, g.array_count_at, UINT64_MAX));
  Write(out, "string-length-huge", Patched<uint64_t>(b, 24, uint64_t{1} << 63));
  Write(out, "alignment-0", Patched<uint32_t>(b, g.alignment_value_at, 0));
  Write(out, "alignment-3", Patched<uint32_t>(b, g.alignment_value_at, 3));
  Write(out, "alignment-1", Patched<uint32_t>(b, g.alignment_value_at, 1));
  Write(out, "n-dims-5", Patched<uint32_t>(b, g.n_dims_at, 5));
  Write(out, "n-dims-0", Patched<uint32_t>(b, g.n_dims_at, 0));
  Write(out, "dimension-negative", Patched<int64_t>(b, g.dim0_at, -32));
  Write(out, "dimension-zero", Patched<int64_t>(b, g.dim0_at, 0));
  Write(out, "dimension-overflow", Patched<int64_t>(b, g.dim0_at + 8, int64_t{1} << 62));
  Write(out, "row-not-whole-blocks", Patched<int64_t>(b, g.dim0_at, 33));
  Write(out, "type-unknown", Patched<uint32_t>(b, g.type_at, 99));
  Write(out, "type-iq2-xxs", Patched<uint32_t>(b, g.type_at, 16));
  Write(out, "offset-misaligned", Patched<uint64_t>(b, g.offset_at, 1));
  Write(out, "offset-huge", Patched<uint64_t>(b, g.offset_at, UINT64_MAX - 7));
  std::vector<uint8_t> duplicate = b;
  std::memcpy(duplicate.data() + g.second_name_at + 8, "blk.0.attn_q.weight", 18);
  Write(out, "second-name-changed", duplicate);
  std::vector<uint8_t> bad_utf8 = b;
  bad_utf8[24 + 8] = 0xC0;
  Write(out, "key-invalid-utf8", bad_utf8);
  for (size_t n : {size_t{3}, size_t{12}, size_t{30}, size_t{90}, b.size() - 1}) {
    Write(out, "cut-" + std::to_string(n), Cut(b, n));
  }
}

// ---- Importance matrices

// The legacy form of `matrix`: every entry's weights with a call count of 1, and the trailer.
std::vector<uint8_t> LegacyForm(const ImportanceMatrix& matrix, int32_t ncall, bool trailer) {
  Bytes b;
  b.Put<int32_t>(static_cast<int32_t>(matrix.entries().size()));
  for (const ImportanceEntry& entry : matrix.entries()) {
    b.Put<int32_t>(static_cast<int32_t>(entry.name.size())).Raw(entry.name);
    b.Put<int32_t>(ncall).Put<int32_t>(static_cast<int32_t>(entry.weights.size()));
    for (float w : entry.weights) b.Put<float>(w * static_cast<float>(std::max(ncall, 1)));
  }
  if (trailer) {
    const std::string dataset = matrix.datasets().empty() ? "" : matrix.datasets().front();
    b.Put<int32_t>(static_cast<int32_t>(matrix.chunk_count()));
    b.Put<int32_t>(static_cast<int32_t>(dataset.size())).Raw(dataset);
  }
  return b.bytes();
}

void WriteImatrixSeedsFrom(const fs::path& testdata, const fs::path& out) {
  for (const fs::path& path : GgufFilesUnder(testdata)) {
    if (path.filename().string().find("imatrix.") == std::string::npos) continue;
    Result<ImportanceMatrix> matrix = ReadImportanceMatrixFile(path.string());
    if (!matrix.ok()) continue;
    const std::string name = SeedName(testdata, path);
    Write(out, name, MapFile(path.string()).value()->bytes());
    Write(out, name + ".legacy", LegacyForm(*matrix, 1, true));
    Write(out, name + ".legacy-ncall-0-no-trailer", LegacyForm(*matrix, 0, false));
  }
}

std::vector<uint8_t> LegacyEntry(const std::string& name, int32_t ncall,
                                 const std::vector<float>& values) {
  Bytes b;
  b.Put<int32_t>(static_cast<int32_t>(name.size())).Raw(name).Put<int32_t>(ncall);
  b.Put<int32_t>(static_cast<int32_t>(values.size()));
  for (float v : values) b.Put<float>(v);
  return b.bytes();
}

std::vector<uint8_t> Legacy(int32_t n_entries, const std::vector<std::vector<uint8_t>>& entries,
                            const std::string& trailer_dataset = "calibration.txt") {
  Bytes b;
  b.Put<int32_t>(n_entries);
  for (const auto& entry : entries)
    b.mutable_bytes().insert(b.mutable_bytes().end(), entry.begin(), entry.end());
  if (!trailer_dataset.empty()) {
    b.Put<int32_t>(10)
        .Put<int32_t>(static_cast<int32_t>(trailer_dataset.size()))
        .Raw(trailer_dataset);
  }
  return b.bytes();
}

void WriteHandcraftedImatrix(const fs::path& out) {
  const auto a = LegacyEntry("blk.0.ffn_down.weight", 4, {1, 2, 3, 4, 5, 6, 7, 8});
  const auto b = LegacyEntry("blk.0.attn_q.weight", 0, {0.5f, 0.25f, 0, 1e-40f});
  Write(out, "legacy-valid", Legacy(2, {a, b}));
  Write(out, "legacy-no-trailer", Legacy(2, {a, b}, ""));
  Write(out, "legacy-entry-count-huge", Legacy(INT32_MAX, {a, b}));
  Write(out, "legacy-entry-count-negative", Legacy(-1, {a, b}));
  Write(out, "legacy-duplicate-name", Legacy(2, {a, a}));
  Write(out, "legacy-nan", Legacy(1, {LegacyEntry("w", 1, {1, NAN, 2, 3})}));
  Write(out, "legacy-negative-value", Legacy(1, {LegacyEntry("w", 1, {1, -2})}));
  Write(out, "legacy-ncall-negative", Legacy(1, {LegacyEntry("w", -3, {1, 2})}));
  std::vector<uint8_t> huge_count = Legacy(1, {LegacyEntry("w", 1, {1, 2})});
  std::memcpy(huge_count.data() + 4 + 4 + 1 + 4, "\xff\xff\xff\x7f", 4);
  Write(out, "legacy-value-count-huge", huge_count);
  std::vector<uint8_t> trailing = Legacy(2, {a, b});
  trailing.push_back(0);
  Write(out, "legacy-trailing-byte", trailing);
  Write(out, "legacy-cut", Cut(Legacy(2, {a, b}), 30));
}

// ---- Quantizer rows

// Byte 0: the type's ggml id; byte 1: the row length in blocks, minus one; byte 2: options
// (see FuzzQuantizeRows in tests/fuzz_bodies.h); then the floats.
std::vector<uint8_t> RowsSeed(GgmlType type, uint8_t options, const std::vector<float>& values) {
  Bytes b;
  b.Put<uint8_t>(static_cast<uint8_t>(type)).Put<uint8_t>(0).Put<uint8_t>(options);
  for (float v : values) b.Put<float>(v);
  return b.bytes();
}

void WriteRowSeeds(const fs::path& testdata, const fs::path& out) {
  std::vector<GgmlType> types;
  for (const GgmlTypeTraits& traits : AllGgmlTypes()) {
    if (CanQuantize(traits.type)) types.push_back(traits.type);
  }
  // A sample of real weights: the first F32 tensor of the first F32 conversion found.
  std::vector<float> real;
  if (!testdata.empty()) {
    for (const fs::path& path : GgufFilesUnder(testdata)) {
      if (path.filename().string().find("convert-f32") == std::string::npos) continue;
      Result<GgufFile> file = ReadGgufFile(path.string());
      if (!file.ok()) continue;
      for (const GgufTensorInfo& info : file->tensors()) {
        if (info.type != GgmlType::kF32 || info.shape.size() < 2) continue;
        const auto data = file->TensorData(info);
        real.resize(std::min<size_t>(data.size() / 4, 1024));
        std::memcpy(real.data(), data.data(), real.size() * 4);
        break;
      }
      break;
    }
  }
  for (size_t t = 0; t < types.size(); ++t) {
    const auto n = static_cast<size_t>(GgmlBlockSize(types[t]));
    const std::string name(GgmlTypeName(types[t]));
    std::vector<float> ordinary(2 * n), zeros(2 * n, 0.0f), denormal(2 * n), huge(2 * n),
        non_finite(2 * n);
    for (size_t i = 0; i < 2 * n; ++i) {
      ordinary[i] = std::sin(static_cast<float>(i) * 0.7f) * (i % 7 == 0 ? 8.0f : 1.0f);
      denormal[i] = std::numeric_limits<float>::denorm_min() * static_cast<float>(i % 13);
      huge[i] = (i % 2 == 0 ? 1.0f : -1.0f) * std::numeric_limits<float>::max() /
                static_cast<float>(1 + i % 3);
      non_finite[i] = i % 5 == 0 ? NAN : i % 5 == 1 ? INFINITY : ordinary[i];
    }
    Write(out, name + "-ordinary", RowsSeed(types[t], 0, ordinary));
    Write(out, name + "-ordinary-importance", RowsSeed(types[t], 1, ordinary));
    Write(out, name + "-zeros", RowsSeed(types[t], 0, zeros));
    Write(out, name + "-denormal", RowsSeed(types[t], 0, denormal));
    Write(out, name + "-huge", RowsSeed(types[t], 1, huge));
    Write(out, name + "-non-finite-kept", RowsSeed(types[t], 2, non_finite));
    if (real.size() >= 2 * n) {
      Write(
          out, name + "-real",
          RowsSeed(types[t], 1, {real.begin(), real.begin() + static_cast<std::ptrdiff_t>(2 * n)}));
    }
  }
}

}  // namespace
}  // namespace qtk::fuzz

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 3) {
    std::fprintf(stderr, "usage: qtk_fuzz_seeds TESTDATA|- OUT\n");
    return 2;
  }
  const fs::path testdata = std::string(argv[1]) == "-" ? fs::path() : fs::path(argv[1]);
  const fs::path out = argv[2];
  if (!testdata.empty() && !fs::is_directory(testdata)) {
    std::fprintf(stderr, "qtk_fuzz_seeds: %s is not a directory\n", argv[1]);
    return 1;
  }
  qtk::fuzz::WriteHandcraftedGguf(out / "gguf");
  qtk::fuzz::WriteHandcraftedImatrix(out / "imatrix");
  if (!testdata.empty()) {
    qtk::fuzz::WriteGgufSeedsFrom(testdata, out / "gguf");
    qtk::fuzz::WriteImatrixSeedsFrom(testdata, out / "imatrix");
  }
  qtk::fuzz::WriteRowSeeds(testdata, out / "quantize_rows");
  qtk::fuzz::WriteSafetensorsSeeds(testdata, out / "safetensors");
  qtk::fuzz::WriteIndexSeeds(testdata, out / "safetensors_index");
  qtk::fuzz::WriteConfigSeeds(testdata, out / "config");
  qtk::fuzz::WriteSentencePieceSeeds(testdata, out / "sentencepiece");
  qtk::fuzz::WriteTokenizerSeeds(out / "tokenizer");
  return 0;
}
