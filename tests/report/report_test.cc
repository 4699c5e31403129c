// The report library: units, KV-cache arithmetic against hand-computed values, memory fits,
// tensor classes, gate lines, and the error measurement against files really written.
#include "qtk/report/report.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "qtk/base/units.h"
#include "qtk/pipeline/quantize_model.h"
#include "qtk/report/compare.h"
#include "test_support.h"

namespace qtk {
namespace {

std::vector<GgufKeyValue> LlamaMetadata(uint32_t layers, uint32_t heads, uint32_t kv_heads,
                                        uint32_t embd, uint32_t context) {
  return {{"general.architecture", GgufValue::String("llama")},
          {"llama.block_count", GgufValue::Uint32(layers)},
          {"llama.attention.head_count", GgufValue::Uint32(heads)},
          {"llama.attention.head_count_kv", GgufValue::Uint32(kv_heads)},
          {"llama.embedding_length", GgufValue::Uint32(embd)},
          {"llama.context_length", GgufValue::Uint32(context)}};
}

TEST_CASE("byte sizes and counts parse with their units", "[report][units]") {
  CHECK(ParseByteSize("4GB").value() == 4000000000ull);
  CHECK(ParseByteSize("24GiB").value() == 25769803776ull);
  CHECK(ParseByteSize("512MiB").value() == 536870912ull);
  CHECK(ParseByteSize("1.5TB").value() == 1500000000000ull);
  CHECK(ParseByteSize("100").value() == 100);
  CHECK(ParseByteSize("8gb").value() == 8000000000ull);
  CHECK(ParseByteSize("4XB").status().message() ==
        "size '4XB': unknown unit 'XB' (B, KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, "
        "TiB powers of 1024)");
  CHECK(ParseByteSize("GB").status().message() ==
        "size 'GB': expected a number and a unit, e.g. 4GB, 24GiB, 512MiB");
  CHECK(!ParseByteSize("-1GB").ok());
  CHECK(ParseCount("7e9").value() == 7e9);
  CHECK(ParseCount("7B").value() == 7e9);
  CHECK(ParseCount("70b").value() == 70e9);
  CHECK(ParseCount("1.5T").value() == 1.5e12);
  CHECK(ParseCount("350M").value() == 350e6);
  CHECK(ParseCount("0").status().message() == "count '0': must be at least 1");
  CHECK(!ParseCount("7Q").ok());
}

TEST_CASE("kv cache bytes match hand-computed values", "[report][memory]") {
  // Llama-2-7B: 32 layers, 32 kv heads of 128, context 4096.
  const KvShape llama2{32, 32, 128};
  // 2 x 32 x 32 x 128 x 4096 x 1 x 2 bytes
  CHECK(KvCacheBytes(llama2, GgmlType::kF16, 4096, 1).value() == 2147483648ull);
  // Q8_0: a row of 4096 elements is 128 blocks of 34 bytes = 4352; x 2 x 32 x 4096.
  CHECK(KvCacheBytes(llama2, GgmlType::kQ8_0, 4096, 1).value() == 1140850688ull);
  // Q4_0: 128 blocks of 18 bytes = 2304; x 2 x 32 x 4096.
  CHECK(KvCacheBytes(llama2, GgmlType::kQ4_0, 4096, 1).value() == 603979776ull);
  // Llama-3-8B: 8 kv heads (GQA), context 8192, batch 4: 2 x 32 x 8 x 128 x 8192 x 4 x 2.
  CHECK(KvCacheBytes({32, 8, 128}, GgmlType::kF16, 8192, 4).value() == 4294967296ull);
  // F32 doubles F16.
  CHECK(KvCacheBytes({2, 2, 64}, GgmlType::kF32, 2048, 1).value() == 2ull * 2 * 2 * 64 * 2048 * 4);
  CHECK(KvCacheBytes({2, 5, 8}, GgmlType::kQ8_0, 512, 1).status().message() ==
        "kv cache type Q8_0: kv_heads × head_dim is 40, not a multiple of its block size 32");
  CHECK(KvCacheBytes({1 << 20, 1 << 20, 1 << 20}, GgmlType::kF16, 1 << 20, 1 << 20)
            .status()
            .message() == "kv cache: the size overflows 64 bits");
  CHECK(!KvCacheBytes({32, 8, 128}, GgmlType::kF16, 0, 1).ok());
}

TEST_CASE("the kv shape comes from the metadata or the overrides", "[report][memory]") {
  const auto metadata = LlamaMetadata(2, 4, 2, 256, 2048);
  std::string source;
  KvShape shape = ResolveKvShape(metadata, {}, &source).value();
  CHECK(shape.n_layers == 2);
  CHECK(shape.n_kv_heads == 2);
  CHECK(shape.head_dim == 64);  // 256 / 4 heads
  CHECK(source == "model metadata");
  shape = ResolveKvShape(metadata, {32, std::nullopt, 128}, &source).value();
  CHECK(shape.n_layers == 32);
  CHECK(shape.n_kv_heads == 2);
  CHECK(shape.head_dim == 128);
  CHECK(source == "model metadata, --layers, --head-dim");
  shape = ResolveKvShape({}, {32, 8, 128}, &source).value();
  CHECK(shape.n_kv_heads == 8);
  CHECK(source == "--layers, --kv-heads, --head-dim");
  CHECK(ResolveKvShape({}, {}, &source).status().message() ==
        "the model has no block_count (give --layers)");
  CHECK(ModelContextLength(metadata) == 2048);
}

TEST_CASE("deployment memory adds weights, kv cache and the stated overhead", "[report][memory]") {
  MemoryOptions options;
  options.shape_override = {32, 32, 128};
  options.context = 4096;
  options.budgets = {{"8GB", 8000000000ull}, {"16GB", 16000000000ull}};
  const std::vector<std::pair<std::string, uint64_t>> weights = {{"F16", 13476839424ull},
                                                                 {"Q4_K_M", 4081004544ull}};
  const MemoryReport report = ReportMemory({}, weights, options).value();
  REQUIRE(report.unavailable.empty());
  CHECK(report.context == 4096);
  CHECK(report.context_source == "--context");
  REQUIRE(report.rows.size() == 6);
  const MemoryRow& f16 = report.rows[0];
  CHECK(f16.target == "F16");
  CHECK(f16.kv_type == GgmlType::kF16);
  CHECK(f16.kv_bytes == 2147483648ull);
  // 512 MiB + 5% of (13476839424 + 2147483648) = 536870912 + 781216153.6
  CHECK(f16.overhead_bytes == 536870912ull + 781216154ull);
  CHECK(f16.total_bytes() == 13476839424ull + 2147483648ull + 1318087066ull);
  CHECK(f16.fits == std::vector<bool>{false, false});
  const MemoryRow& q4_with_q4_cache = report.rows[5];
  CHECK(q4_with_q4_cache.kv_type == GgmlType::kQ4_0);
  CHECK(q4_with_q4_cache.kv_bytes == 603979776ull);
  CHECK(q4_with_q4_cache.fits == std::vector<bool>{true, true});
  // The sweep: 4K, 32K, 128K (the chosen 4096 is one of them).
  REQUIRE(report.kv_by_context.size() == 3);
  CHECK(report.kv_by_context[2].context == 131072);
  CHECK(report.kv_by_context[2].n_bytes[0] == 2147483648ull * 32);  // 64 GiB: 16x the weights
  CHECK(report.kv_by_context[2].n_bytes[0] > weights[1].second);

  const MemoryReport unknown = ReportMemory({}, weights, MemoryOptions{}).value();
  CHECK(unknown.unavailable == "the model has no block_count (give --layers)");
  CHECK(unknown.rows.empty());
}

TEST_CASE("tensors fall into classes by name", "[report]") {
  CHECK(ClassOf("token_embd.weight") == TensorClass::kTokenEmbedding);
  CHECK(ClassOf("output.weight") == TensorClass::kOutput);
  CHECK(ClassOf("output_norm.weight") == TensorClass::kNorm);
  CHECK(ClassOf("blk.3.attn_norm.weight") == TensorClass::kNorm);
  CHECK(ClassOf("blk.3.attn_q.weight") == TensorClass::kAttention);
  CHECK(ClassOf("blk.3.attn_q.bias") == TensorClass::kAttention);
  CHECK(ClassOf("blk.3.ffn_down.weight") == TensorClass::kFeedForward);
  CHECK(ClassOf("blk.3.ffn_gate_inp.weight") == TensorClass::kFeedForward);
  CHECK(ClassOf("rope_freqs.weight") == TensorClass::kOther);
  CHECK(TensorClassName(TensorClass::kFeedForward) == "feed-forward");
  CHECK(TensorClassKey(TensorClass::kFeedForward) == "feed_forward");
}

TEST_CASE("nominal bits are the bits in the type's name", "[report]") {
  CHECK(NominalBits(ReportTarget{"F16", FileType::kMostlyF16, std::nullopt}) == 16);
  CHECK(NominalBits(ReportTarget{"Q8_0", FileType::kMostlyQ8_0, std::nullopt}) == 8);
  CHECK(NominalBits(ReportTarget{"Q4_K_M", FileType::kMostlyQ4_K_M, std::nullopt}) == 4);
  CHECK(NominalBits(ReportTarget{"IQ3_XXS", FileType::kMostlyIQ3_XXS, std::nullopt}) == 3);
  CHECK(NominalBits(
            ReportTarget{"int4-g128", FileType::kAllF32, ParseScheme("int4-g128").value()}) == 4);
  CHECK(NominalBits(ReportTarget{"int8-channel", FileType::kAllF32,
                                 ParseScheme("int8-channel").value()}) == 8);
  CHECK(NominalBits(ReportTarget{"nf4", FileType::kAllF32, ParseScheme("nf4").value()}) == 4);
  for (const GgmlTypeTraits& traits : AllGgmlTypes()) {
    INFO(traits.name);
    CHECK(NominalBits(traits.type) > 0);
  }
}

TEST_CASE("gates print one line per breach", "[report][gates]") {
  Gates gates;
  gates.max_size_bytes = 1000000;
  gates.max_size_text = "1MB";
  gates.min_snr_db = 20;
  gates.max_rmse = 0.01;
  gates.must_fit_bytes = 500000000;
  gates.must_fit_text = "500MB";
  ErrorStats good;
  good.n_elements = 4;
  good.sum_sq_signal = 1000;
  good.sum_sq_error = 1e-4;  // 70 dB, rmse 0.005
  ErrorStats bad;
  bad.n_elements = 4;
  bad.sum_sq_signal = 10;
  bad.sum_sq_error = 1;  // 10 dB, rmse 0.5
  const std::vector<GateSubject> subjects = {
      {"Q8_0", 1828192, good, 400000000, "context 2048, batch 1, F16 kv cache"},
      {"Q2_K", 701280, bad, 540133438, "context 2048, batch 1, F16 kv cache"},
      {"Q4_0", 900000, std::nullopt, std::nullopt, ""}};
  const std::vector<std::string> lines = CheckGates(gates, subjects);
  CHECK(lines == std::vector<std::string>{
                     "Q8_0: size 1,828,192 bytes (1.83 MB) is above --max-size 1MB (1,000,000 "
                     "bytes)",
                     "Q2_K: snr 10.00 dB is below --min-snr 20",
                     "Q2_K: rmse 0.5 is above --max-rmse 0.01",
                     "Q2_K: needs 540,133,438 bytes (540.13 MB) at context 2048, batch 1, F16 kv "
                     "cache, above --must-fit 500MB (500,000,000 bytes)",
                     "Q4_0: the error was not measured, so --min-snr/--max-rmse cannot pass",
                     "Q4_0: the deployment memory is unknown, so --must-fit cannot pass"});
  CHECK(CheckGates(Gates{}, subjects).empty());
}

std::string SynthA(const std::filesystem::path& testdata) {
  return (testdata / "reference/llama.cpp/synth-a/synth-a-convert-f32.gguf").string();
}

std::vector<ReportTarget> Targets(const std::vector<std::string>& names) {
  std::vector<ReportTarget> targets;
  for (const std::string& name : names) {
    if (auto file_type = FileTypeFromName(name)) {
      targets.push_back({name, *file_type, std::nullopt});
    } else {
      targets.push_back({name, FileType::kAllF32, ParseScheme(name).value()});
    }
  }
  return targets;
}

bool SameStats(const ErrorStats& a, const ErrorStats& b) {
  return a.n_elements == b.n_elements && a.sum_sq_error == b.sum_sq_error &&
         a.sum_sq_signal == b.sum_sq_signal && a.sum_sq_recon == b.sum_sq_recon &&
         a.sum_product == b.sum_product && a.max_abs_error == b.max_abs_error;
}

TEST_CASE("the error measured in memory is the error of the file qtk quantize writes",
          "[report][quality][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  auto input = OpenGgufInput(SynthA(testdata)).value();
  const auto targets = Targets({"Q4_0", "Q4_K_M", "int4-g128", "nf4-dq"});
  SizeReport sizes = ReportSizes(*input, targets, {}).value();
  QualityOptions quality_options;
  quality_options.n_threads = 2;
  const auto quality = MeasureQuality(*input, sizes.plans, quality_options).value();
  for (size_t i = 0; i < targets.size(); ++i) {
    sizes.plans[i].spec.path = (tmp / (targets[i].name + ".gguf")).string();
  }
  QuantizeModelOptions options;
  options.n_threads = 2;
  REQUIRE(QuantizeModel(*input, sizes.plans, options).ok());
  for (size_t i = 0; i < targets.size(); ++i) {
    INFO(targets[i].name);
    CHECK(std::filesystem::file_size(sizes.plans[i].spec.path) == sizes.targets[i].file_bytes);
    const ErrorStats written = MeasureWrittenOutput(*input, sizes.plans[i], 2).value();
    CHECK(SameStats(quality[i].total, written));
    CHECK(quality[i].tensors.size() == 15);  // the 15 matrices; the 5 norms stay F32
  }
  CHECK(quality[0].total.SnrDb() > 15);
  CHECK(quality[0].total.SnrDb() < 20);
}

TEST_CASE("the error is the same for any thread count, and sampling measures fewer rows",
          "[report][quality][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto input = OpenGgufInput(SynthA(testdata)).value();
  const SizeReport sizes = ReportSizes(*input, Targets({"Q4_K_M", "int8-channel"}), {}).value();
  QualityOptions one;
  one.n_threads = 1;
  QualityOptions two;
  two.n_threads = 2;
  const auto q1 = MeasureQuality(*input, sizes.plans, one).value();
  const auto q2 = MeasureQuality(*input, sizes.plans, two).value();
  for (size_t i = 0; i < q1.size(); ++i) CHECK(SameStats(q1[i].total, q2[i].total));

  QualityOptions sampled;
  sampled.sample_rows = 16;
  const auto qs = MeasureQuality(*input, sizes.plans, sampled).value();
  int64_t expected = 0;
  for (const InputTensor& tensor : input->tensors()) {
    if (tensor.shape.size() == 2) expected += 16 * tensor.row_length();
  }
  CHECK(qs[0].total.n_elements == expected);
  CHECK(qs[0].total.n_elements < q1[0].total.n_elements);
  CHECK(std::fabs(qs[0].total.SnrDb() - q1[0].total.SnrDb()) < 3);  // an estimate, near
  QualityOptions everything;
  everything.sample_rows = 1000000;  // more rows than any tensor has: all of them
  const auto qa = MeasureQuality(*input, sizes.plans, everything).value();
  CHECK(SameStats(qa[0].total, q1[0].total));
}

TEST_CASE("compare on a file against itself finds no error", "[report][compare][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  auto a = WeightsOf(OpenModelInput(SynthA(testdata)).value());
  auto b = WeightsOf(OpenModelInput(SynthA(testdata)).value());
  const Comparison c = CompareWeights(*a, *b, {}).value();
  CHECK(c.tensors.size() == 20);
  CHECK(c.total.sum_sq_error == 0);
  CHECK(std::isinf(c.total.SnrDb()));
  CHECK(c.only_in_a.empty());
  CHECK(c.only_in_b.empty());
}

}  // namespace
}  // namespace qtk
