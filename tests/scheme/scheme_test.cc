#include "qtk/scheme/scheme.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/base/float_convert.h"
#include "qtk/base/sha256.h"
#include "qtk/format/gguf.h"
#include "qtk/format/gguf_writer.h"
#include "qtk/format/output_file.h"
#include "qtk/quant/quantize.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

Scheme MustParse(const std::string& name) {
  Result<Scheme> scheme = ParseScheme(name);
  INFO(name << ": " << scheme.status().message());
  REQUIRE(scheme.ok());
  return *scheme;
}

std::vector<float> RandomWeights(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> heavy(4.0f);
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = 0.02f * heavy(rng) + (i % 97 == 0 ? 0.01f : 0.0f);
  return values;
}

TEST_CASE("scheme names parse and print canonically", "[generic][scheme]") {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"int8-channel", "int8-channel"},
      {"INT8-G128", "int8-g128"},
      {"int4-g128", "int4-g128"},
      {"int4-g128-asym", "int4-g128-asym"},
      {"int4-channel", "int4-channel"},
      {"int4-g64-sym-f16", "int4-g64"},
      {"int3-g7-f32-asym-search", "int3-g7-asym-f32-search"},
      {"int2-tensor", "int2-tensor"},
      {"nf4", "nf4"},
      {"nf4-dq", "nf4-dq"},
      {"nf4-b64", "nf4"},
      {"fp4-b128-dq", "fp4-b128-dq"},
      {"fp4", "fp4"},
  };
  for (const auto& [name, canonical] : names) {
    const Scheme scheme = MustParse(name);
    CHECK(SchemeName(scheme) == canonical);
    CHECK(SchemeName(MustParse(canonical)) == canonical);
  }
  const Scheme s = MustParse("int4-g64-asym");
  CHECK(s.kind == SchemeKind::kAffine);
  CHECK(s.affine.bits == 4);
  CHECK(!s.affine.symmetric);
  CHECK(s.affine.granularity == AffineGranularity::kGroup);
  CHECK(s.affine.group_size == 64);
  CHECK(s.affine.scale_type == GgmlType::kF16);
  const Scheme nf4 = MustParse("nf4-dq");
  CHECK(nf4.kind == SchemeKind::kFourBit);
  CHECK(nf4.four_bit.block_size == 64);
  CHECK(nf4.four_bit.double_quant);
}

// The pipeline quantizes row-local schemes a chunk of rows at a time: the chunks' parts,
// concatenated, must be the whole tensor's bytes.
TEST_CASE("row-local schemes give the same bytes quantized a few rows at a time",
          "[generic][scheme]") {
  const int64_t row_length = 256;
  const int64_t n_rows = 12;
  const std::vector<float> values = RandomWeights(static_cast<size_t>(row_length * n_rows), 5);
  const std::vector<int64_t> shape = {row_length, n_rows};
  for (const char* name : {"int8-channel", "int4-g128", "int4-g128-asym", "int4-g64-search",
                           "int2-g32-asym-f32", "int8-g32", "int4-g32", "nf4", "fp4"}) {
    INFO(name);
    const Scheme scheme = MustParse(name);
    REQUIRE(SchemeIsRowLocal(scheme, row_length));
    Result<std::vector<std::vector<uint8_t>>> whole = QuantizeScheme(scheme, shape, values);
    REQUIRE(whole.ok());
    std::vector<std::vector<uint8_t>> joined(whole->size());
    for (int64_t first = 0; first < n_rows; first += 5) {
      const int64_t n = std::min<int64_t>(5, n_rows - first);
      const std::vector<int64_t> chunk_shape = {row_length, n};
      Result<std::vector<std::vector<uint8_t>>> part = QuantizeScheme(
          scheme, chunk_shape,
          std::span<const float>(values).subspan(static_cast<size_t>(first * row_length),
                                                 static_cast<size_t>(n * row_length)));
      REQUIRE(part.ok());
      REQUIRE(part->size() == whole->size());
      for (size_t k = 0; k < part->size(); ++k) {
        joined[k].insert(joined[k].end(), (*part)[k].begin(), (*part)[k].end());
      }
    }
    CHECK(joined == *whole);
  }
  CHECK_FALSE(SchemeIsRowLocal(MustParse("int8-tensor"), row_length));
  CHECK_FALSE(SchemeIsRowLocal(MustParse("nf4-dq"), row_length));
  CHECK_FALSE(SchemeIsRowLocal(MustParse("nf4"), 96));  // blocks of 64 straddle rows
}

TEST_CASE("bad scheme names say what is wrong", "[generic][scheme]") {
  const std::string grammar =
      "int<bits>-<tensor|channel|g<size>>[-asym][-f32][-search], nf4[-b<size>][-dq] or "
      "fp4[-b<size>][-dq]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"int9-g32", "scheme 'int9-g32': bits is 9, must be 2..8"},
      {"int1-channel", "scheme 'int1-channel': bits is 1, must be 2..8"},
      {"intx-g32", "scheme 'intx-g32': 'intx' is not int<bits>"},
      {"int4", "scheme 'int4': missing granularity (tensor, channel or g<size>)"},
      {"int4-g0", "scheme 'int4-g0': group size '0' must be a number in 1..1073741824"},
      {"int4-gx", "scheme 'int4-gx': group size 'x' must be a number in 1..1073741824"},
      {"int4-rows", "scheme 'int4-rows': granularity 'rows' is not tensor, channel or g<size>"},
      {"int4-g32-asym-sym",
       "scheme 'int4-g32-asym-sym': unexpected or repeated 'sym', expected " + grammar},
      {"nf4-b63", "scheme 'nf4-b63': block size '63' must be an even number in 2..1073741824"},
      {"nf4-dq-dq", "scheme 'nf4-dq-dq': unexpected or repeated 'dq', expected " + grammar},
      {"q4_k", "scheme 'q4_k': unknown scheme, expected " + grammar},
      {"", "scheme '': unknown scheme, expected " + grammar},
  };
  for (const auto& [name, message] : cases) {
    Result<Scheme> scheme = ParseScheme(name);
    REQUIRE(scheme.status().code() == Status::Code::kInvalidArgument);
    CHECK(scheme.status().message() == message);
  }
}

TEST_CASE("plans list every tensor and key before any data exists", "[generic][scheme]") {
  const std::vector<int64_t> shape = {200, 3};
  Result<SchemePlan> plan = PlanScheme("blk.0.attn_q.weight", shape, MustParse("int4-g64-asym"));
  REQUIRE(plan.ok());
  REQUIRE(plan->tensors.size() == 3);
  CHECK(plan->tensors[0].name == "blk.0.attn_q.weight");
  CHECK(plan->tensors[0].type == GgmlType::kI8);
  CHECK(plan->tensors[0].shape == std::vector<int64_t>{100, 3});
  CHECK(plan->tensors[1].name == "blk.0.attn_q.weight.scale");
  CHECK(plan->tensors[1].type == GgmlType::kF16);
  CHECK(plan->tensors[1].shape == std::vector<int64_t>{4, 3});  // 64 + 64 + 64 + 8
  CHECK(plan->tensors[2].name == "blk.0.attn_q.weight.zero");
  REQUIRE(plan->metadata.size() == 2);
  CHECK(plan->metadata[0].key == "qtk.quant.blk.0.attn_q.weight.scheme");
  CHECK(*plan->metadata[0].value.AsString() == "int4-g64-asym");
  CHECK(plan->metadata[1].key == "qtk.quant.blk.0.attn_q.weight.shape");
  CHECK(plan->metadata[1].value.array_size() == 2);

  Result<SchemePlan> nf4 = PlanScheme("w", shape, MustParse("nf4-dq"));
  REQUIRE(nf4.ok());
  REQUIRE(nf4->tensors.size() == 4);
  CHECK(nf4->tensors[0].shape == std::vector<int64_t>{300});
  CHECK(nf4->tensors[1].name == "w.absmax");
  CHECK(nf4->tensors[1].type == GgmlType::kI8);
  CHECK(nf4->tensors[1].shape == std::vector<int64_t>{10});  // 600 / 64, rounded up
  CHECK(nf4->tensors[2].name == "w.dq_scale");
  CHECK(nf4->tensors[2].shape == std::vector<int64_t>{1});
  CHECK(nf4->tensors[3].name == "w.dq_offset");
  REQUIRE(nf4->metadata.size() == 4);
  CHECK(nf4->metadata[2].value.array_size() == 16);
  CHECK(nf4->metadata[3].value.array_size() == 256);

  Result<SchemePlan> tensor = PlanScheme("w", shape, MustParse("int8-tensor-f32"));
  REQUIRE(tensor.ok());
  CHECK(tensor->tensors[1].shape == std::vector<int64_t>{1});
  CHECK(tensor->tensors[1].type == GgmlType::kF32);
}

TEST_CASE("schemes that are ggml types are written as those types", "[generic][scheme]") {
  const std::vector<int64_t> shape = {64, 2};
  Result<SchemePlan> q8 = PlanScheme("w", shape, MustParse("int8-g32"));
  REQUIRE(q8.ok());
  REQUIRE(q8->tensors.size() == 1);
  CHECK(q8->tensors[0].type == GgmlType::kQ8_0);
  CHECK(q8->tensors[0].shape == shape);
  CHECK(q8->metadata.empty());
  CHECK(SchemeGgmlType(MustParse("int4-g32"), 64) == GgmlType::kQ4_0);
  CHECK(SchemeGgmlType(MustParse("int8-g32-search"), 64) == GgmlType::kQ8_0);
  CHECK(!SchemeGgmlType(MustParse("int8-g32"), 48));      // not whole blocks
  CHECK(!SchemeGgmlType(MustParse("int8-g32-f32"), 64));  // Q8_0 scales are F16
  CHECK(!SchemeGgmlType(MustParse("int8-g32-asym"), 64));
  CHECK(!SchemeGgmlType(MustParse("int4-g32-asym"), 64));  // Q4_1 stores a float minimum
  CHECK(!SchemeGgmlType(MustParse("int8-channel"), 32));
  CHECK(!SchemeGgmlType(MustParse("nf4-b32"), 64));
}

TEST_CASE("plan errors", "[generic][scheme]") {
  const std::vector<int64_t> five = {2, 2, 2, 2, 2};
  CHECK(PlanScheme("w", five, MustParse("nf4")).status().message() ==
        "tensor 'w': shape has 5 dimensions, must be 1..4");
  const std::vector<int64_t> empty = {4, 0};
  CHECK(PlanScheme("w", empty, MustParse("nf4")).status().message() ==
        "tensor 'w': dimension 1 is 0, must be >= 1");
  const std::string long_name(55, 'x');
  const std::vector<int64_t> shape = {8};
  CHECK(PlanScheme(long_name, shape, MustParse("nf4-dq")).status().message() ==
        "tensor '" + long_name + "': name '" + long_name + ".dq_scale' is 64 bytes, max is 63");
}

// Decodes Q4_0 independently: d (F16), then byte j holds element j (low) and j + 16 (high).
std::vector<float> DecodeQ4_0(std::span<const uint8_t> bytes) {
  std::vector<float> out;
  for (size_t block = 0; block < bytes.size(); block += 18) {
    uint16_t half;
    std::memcpy(&half, bytes.data() + block, 2);
    const float d = F16ToF32(half);
    std::vector<float> values(32);
    for (size_t j = 0; j < 16; ++j) {
      values[j] = static_cast<float>((bytes[block + 2 + j] & 0x0F) - 8) * d;
      values[j + 16] = static_cast<float>((bytes[block + 2 + j] >> 4) - 8) * d;
    }
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

TEST_CASE("int4-g32 stored as Q4_0 decodes to the affine values", "[generic][scheme]") {
  const std::vector<int64_t> shape = {96, 5};
  const std::vector<float> x = RandomWeights(96 * 5, 2);
  const Scheme scheme = MustParse("int4-g32");
  Result<std::vector<std::vector<uint8_t>>> bytes = QuantizeScheme(scheme, shape, x);
  REQUIRE(bytes.ok());
  REQUIRE(bytes->size() == 1);
  REQUIRE((*bytes)[0].size() == 15 * 18);
  Result<AffineQuantized> q = QuantizeAffine(scheme.affine, x, 96);
  REQUIRE(q.ok());
  std::vector<float> expected(x.size());
  REQUIRE(DequantizeAffine(scheme.affine, q->codes, q->scales, {}, 96, expected).ok());
  CHECK(DecodeQ4_0((*bytes)[0]) == expected);
}

TEST_CASE("int8-g32 reproduces llama.cpp's Q8_0 bytes", "[generic][scheme][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference" / "llama.cpp" / "synth-a";
  Result<GgufFile> source = ReadGgufFile((dir / "synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  const Scheme scheme = MustParse("int8-g32");
  // llama-quantize's reference quantizer and convert_hf_to_gguf.py's numpy one.
  const std::string reference =
      GENERATE(std::string("synth-a-pure-Q8_0.gguf"), std::string("synth-a-convert-q8_0.gguf"));
  INFO(reference);
  int n_checked = 0;
  for (const testing::ManifestTensor& expected : testing::ReadManifest(dir, reference)) {
    if (expected.type != GgmlType::kQ8_0) continue;
    INFO(expected.name);
    const GgufTensorInfo* info = source->FindTensor(expected.name);
    REQUIRE(info != nullptr);
    const auto data = source->TensorData(*info);
    std::vector<float> values(data.size() / 4);
    std::memcpy(values.data(), data.data(), data.size());
    Result<std::vector<std::vector<uint8_t>>> bytes =
        QuantizeScheme(scheme, info->shape, values, 2);
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == 1);
    CHECK(Sha256Hex((*bytes)[0]) == expected.sha256);
    ++n_checked;
  }
  CHECK(n_checked >= 10);
}

// Writes each (name, shape, scheme) through the GGUF writer into memory and parses it back.
struct Case {
  std::string name;
  std::vector<int64_t> shape;
  std::string scheme;
};

Result<GgufFile> WriteSchemes(const std::vector<Case>& cases,
                              const std::vector<std::vector<float>>& values) {
  std::vector<GgufKeyValue> metadata = {{"general.architecture", GgufValue::String("llama")}};
  std::vector<GgufTensorInfo> infos;
  std::vector<std::vector<uint8_t>> payloads;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Scheme scheme = MustParse(cases[i].scheme);
    QTK_ASSIGN_OR_RETURN(SchemePlan plan, PlanScheme(cases[i].name, cases[i].shape, scheme));
    QTK_ASSIGN_OR_RETURN(auto bytes, QuantizeScheme(scheme, cases[i].shape, values[i], 2));
    for (size_t t = 0; t < plan.tensors.size(); ++t) {
      GgufTensorInfo info;
      info.name = plan.tensors[t].name;
      info.type = plan.tensors[t].type;
      info.shape = plan.tensors[t].shape;
      infos.push_back(info);
      payloads.push_back(std::move(bytes[t]));
    }
    metadata.insert(metadata.end(), plan.metadata.begin(), plan.metadata.end());
  }
  MemorySink sink;
  QTK_ASSIGN_OR_RETURN(GgufWriter writer, GgufWriter::Start(sink, metadata, infos));
  for (const auto& payload : payloads) QTK_RETURN_IF_ERROR(writer.WriteTensor(payload));
  QTK_RETURN_IF_ERROR(writer.Finish());
  return ParseGguf(MemorySource("schemes.gguf", sink.bytes()));
}

TEST_CASE("every qtk layout round-trips through a real GGUF file", "[generic][scheme]") {
  const std::vector<Case> cases = {
      {"int8.channel", {96, 7}, "int8-channel"},
      {"int8.g128", {300, 3}, "int8-g128"},
      {"int4.g128.asym", {200, 4}, "int4-g128-asym"},
      {"int4.channel", {33, 9}, "int4-channel-f32"},
      {"int4.tensor", {64, 2, 3}, "int4-tensor-asym"},
      {"int3.search", {50, 6}, "int3-g7-search"},
      {"int2.g16", {40, 2}, "int2-g16-asym-f32"},
      {"nf4", {129, 3}, "nf4"},
      {"nf4.dq", {512, 40}, "nf4-dq"},
      {"fp4.dq", {77, 5}, "fp4-b32-dq"},
      {"vector", {1}, "int8-channel"},
  };
  std::vector<std::vector<float>> values;
  for (size_t i = 0; i < cases.size(); ++i) {
    int64_t n = 1;
    for (int64_t d : cases[i].shape) n *= d;
    values.push_back(RandomWeights(static_cast<size_t>(n), static_cast<uint32_t>(i)));
  }
  Result<GgufFile> file = WriteSchemes(cases, values);
  INFO(file.status().message());
  REQUIRE(file.ok());
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].scheme);
    Result<std::vector<float>> decoded = DequantizeFromGguf(*file, cases[i].name, 2);
    INFO(decoded.status().message());
    REQUIRE(decoded.ok());
    // The file decodes to exactly what the in-memory quantizer and decoder give.
    const Scheme scheme = MustParse(cases[i].scheme);
    Result<ErrorStats> direct = MeasureScheme(scheme, cases[i].shape, values[i]);
    REQUIRE(direct.ok());
    const ErrorStats from_file = MeasureError(values[i], *decoded);
    CHECK(from_file.sum_sq_error == direct->sum_sq_error);
    CHECK(from_file.max_abs_error == direct->max_abs_error);
    CHECK(from_file.Cosine() >
          (scheme.kind == SchemeKind::kAffine && scheme.affine.bits == 2 ? 0.85 : 0.95));
  }
  const std::vector<std::string> companions = SchemeCompanionNames(*file);
  CHECK(std::count(companions.begin(), companions.end(), "int4.g128.asym.zero") == 1);
  CHECK(std::count(companions.begin(), companions.end(), "nf4.dq.dq_offset") == 1);
  CHECK(std::count(companions.begin(), companions.end(), "nf4") == 0);
  CHECK(companions.size() == 18);  // 8 scales, 3 zeros, 3 absmax, 2 x (dq_scale, dq_offset)
}

TEST_CASE("decoding checks the companions against the scheme", "[generic][scheme]") {
  const std::vector<Case> cases = {{"w", {64, 2}, "int4-g32-asym"}};
  const std::vector<std::vector<float>> values = {RandomWeights(128, 1)};
  Result<GgufFile> good = WriteSchemes(cases, values);
  REQUIRE(good.ok());
  CHECK(DequantizeFromGguf(*good, "missing").status().message() ==
        "schemes.gguf: tensor 'missing': no such tensor");

  // The same file with the zero points written as F32 instead of F16.
  std::vector<GgufKeyValue> metadata = good->metadata();
  std::vector<GgufTensorInfo> infos = good->tensors();
  infos[2].type = GgmlType::kF32;
  MemorySink sink;
  Result<GgufWriter> writer = GgufWriter::Start(sink, metadata, infos);
  REQUIRE(writer.ok());
  REQUIRE(writer->WriteTensor(good->TensorData(good->tensors()[0])).ok());
  REQUIRE(writer->WriteTensor(good->TensorData(good->tensors()[1])).ok());
  REQUIRE(writer->WriteTensor(std::vector<uint8_t>(2 * 2 * 4)).ok());
  REQUIRE(writer->Finish().ok());
  Result<GgufFile> bad = ParseGguf(MemorySource("bad.gguf", sink.bytes()));
  REQUIRE(bad.ok());
  Result<std::vector<float>> decoded = DequantizeFromGguf(*bad, "w");
  CHECK(decoded.status().code() == Status::Code::kCorruption);
  CHECK(decoded.status().message() ==
        "bad.gguf: tensor 'w.zero': type is F32, scheme 'int4-g32-asym' needs F16");

  // A scheme key naming a scheme qtk does not know.
  metadata[1].value = GgufValue::String("int4-g32-weird");
  MemorySink sink2;
  Result<GgufWriter> writer2 = GgufWriter::Start(sink2, metadata, good->tensors());
  REQUIRE(writer2.ok());
  for (const GgufTensorInfo& info : good->tensors()) {
    REQUIRE(writer2->WriteTensor(good->TensorData(info)).ok());
  }
  REQUIRE(writer2->Finish().ok());
  Result<GgufFile> unknown = ParseGguf(MemorySource("unknown.gguf", sink2.bytes()));
  REQUIRE(unknown.ok());
  CHECK(DequantizeFromGguf(*unknown, "w")
            .status()
            .message()
            .starts_with("unknown.gguf: key 'qtk.quant.w.scheme': scheme 'int4-g32-weird': "
                         "unexpected or repeated "
                         "'weird'"));
}

TEST_CASE("quantize scheme errors name the tensor's element", "[generic][scheme]") {
  std::vector<float> x(64, 0.5f);
  x[37] = std::nanf("");
  const std::vector<int64_t> shape = {32, 2};
  for (const char* name : {"int4-g32", "int4-channel", "nf4"}) {
    CHECK(QuantizeScheme(MustParse(name), shape, x).status().message() ==
          "element 37 (row 1, column 5) is nan");
  }
  CHECK(QuantizeScheme(MustParse("nf4"), shape, std::span(x).first(10)).status().message() ==
        "10 values, shape [32, 2] has 64");
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

// The RMSE of `scheme` over every 2-D tensor of synth-a (the weights a quantizer touches).
double SynthARmse(const GgufFile& source, const Scheme& scheme) {
  ErrorStats total;
  for (const GgufTensorInfo& info : source.tensors()) {
    if (info.shape.size() < 2) continue;
    const auto data = source.TensorData(info);
    std::vector<float> values(data.size() / 4);
    std::memcpy(values.data(), data.data(), data.size());
    Result<ErrorStats> stats = MeasureScheme(scheme, info.shape, values, 2);
    REQUIRE(stats.ok());
    total.Merge(*stats);
  }
  return total.Rmse();
}

TEST_CASE("the scale search lowers the RMSE on synth-a", "[generic][scheme][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  Result<GgufFile> source = ReadGgufFile(
      (testdata / "reference" / "llama.cpp" / "synth-a" / "synth-a-convert-f32.gguf").string());
  REQUIRE(source.ok());
  // Measured: int4-channel -13.4%, int4-g128 -7.2%, int4-g128-asym -3.8%, int8 ~0%.
  const std::vector<std::pair<std::string, double>> cases = {
      {"int4-channel", 0.90}, {"int4-g128", 0.95}, {"int4-g128-asym", 0.98}, {"int8-g128", 1.0}};
  for (const auto& [name, ratio] : cases) {
    const Scheme plain = MustParse(name);
    const Scheme search = MustParse(name + "-search");
    const double plain_rmse = SynthARmse(*source, plain);
    const double search_rmse = SynthARmse(*source, search);
    INFO(name << ": rmse " << plain_rmse << " -> " << search_rmse);
    CHECK(search_rmse <= plain_rmse * ratio);
  }
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

TEST_CASE("schemes written as ggml types decode through DequantizeRows", "[generic][scheme]") {
  if (!CanDequantize(GgmlType::kQ8_0) || !CanDequantize(GgmlType::kQ4_0)) {
    WARN("skipped: this build has no Q8_0/Q4_0 decoder yet (src/quant/quant_legacy.cc)");
    return;
  }
  const std::vector<Case> cases = {{"q8", {64, 3}, "int8-g32"}, {"q4", {96, 2}, "int4-g32"}};
  const std::vector<std::vector<float>> values = {RandomWeights(192, 1), RandomWeights(192, 2)};
  Result<GgufFile> file = WriteSchemes(cases, values);
  REQUIRE(file.ok());
  CHECK(file->tensors()[0].type == GgmlType::kQ8_0);
  CHECK(file->tensors()[1].type == GgmlType::kQ4_0);
  for (size_t i = 0; i < cases.size(); ++i) {
    Result<std::vector<float>> decoded = DequantizeFromGguf(*file, cases[i].name);
    REQUIRE(decoded.ok());
    Result<ErrorStats> direct =
        MeasureScheme(MustParse(cases[i].scheme), cases[i].shape, values[i]);
    REQUIRE(direct.ok());
    CHECK(MeasureError(values[i], *decoded).sum_sq_error == direct->sum_sq_error);
  }
}

}  // namespace
}  // namespace qtk
