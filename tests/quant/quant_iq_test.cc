// Tests for the IQ4_NL, IQ4_XS, TQ1_0, TQ2_0 and MXFP4 kernels: llama.cpp's reference bytes,
// decoding of handcrafted blocks, round-trip error bounds, edge rows and thread independence.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qtk/base/float_convert.h"
#include "qtk/format/gguf.h"
#include "qtk/format/imatrix.h"
#include "qtk/quant/quantize.h"
#include "reference_support.h"
#include "test_support.h"

namespace qtk {
namespace {

constexpr GgmlType kIqTypes[] = {GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kTQ1_0,
                                 GgmlType::kTQ2_0, GgmlType::kMXFP4};

// The non-linear IQ4 levels, restated from the format description (not from src/).
constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                   1,    13,   25,  38,  53,  69,  89,  113};
// Doubled E2M1 magnitudes by code.
constexpr int8_t kFp4Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

std::vector<uint8_t> Quantize(GgmlType type, const std::vector<float>& x, int64_t row_length,
                              int n_threads = 1, std::span<const float> importance = {}) {
  const auto n_rows = static_cast<int64_t>(x.size()) / row_length;
  std::vector<uint8_t> bytes(static_cast<size_t>(n_rows) * GgmlRowBytes(type, row_length));
  QuantizeOptions options;
  options.n_threads = n_threads;
  options.importance = importance;
  const Status status = QuantizeRows(type, x, row_length, bytes, options);
  INFO(status.message());
  REQUIRE(status.ok());
  return bytes;
}

std::vector<float> Dequantize(GgmlType type, const std::vector<uint8_t>& bytes, int64_t row_length,
                              size_t n_values) {
  std::vector<float> x(n_values);
  const Status status = DequantizeRows(type, bytes, row_length, x);
  INFO(status.message());
  REQUIRE(status.ok());
  return x;
}

// Gaussian rows whose scales spread over two orders of magnitude, like real weight rows.
std::vector<float> GaussianRows(int64_t n_rows, int64_t row_length, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_scale(-3.0f, -1.0f);
  std::vector<float> x(static_cast<size_t>(n_rows * row_length));
  for (int64_t row = 0; row < n_rows; ++row) {
    const float scale = std::pow(10.0f, log_scale(rng));
    for (int64_t j = 0; j < row_length; ++j)
      x[static_cast<size_t>(row * row_length + j)] = scale * normal(rng);
  }
  return x;
}

// sqrt(sum (a - b)^2 / sum a^2).
double RelativeRmse(const std::vector<float>& a, const std::vector<float>& b) {
  double error = 0;
  double energy = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    error += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    energy += static_cast<double>(a[i]) * a[i];
  }
  return std::sqrt(error / energy);
}

void PutF16(std::vector<uint8_t>& bytes, size_t offset, float value) {
  const uint16_t h = F32ToF16(value);
  bytes[offset] = static_cast<uint8_t>(h & 0xFF);
  bytes[offset + 1] = static_cast<uint8_t>(h >> 8);
}

// ---- llama.cpp's reference files ------------------------------------------------------

TEST_CASE("IQ4/ternary/MXFP4 kernels reproduce llama-quantize --pure", "[iq][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference" / "llama.cpp" / "synth-a";
  for (std::string type : {"IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4_MOE"}) {
    INFO(type);
    CHECK(testing::DiffAgainstReference(dir / "synth-a-convert-f32.gguf", dir,
                                        "synth-a-pure-" + type + ".gguf") == "");
  }
}

// ---- decoding handcrafted blocks (layouts as documented in src/quant/quant_iq4.cc etc.) ------

TEST_CASE("IQ4_NL decodes nibbles through the non-linear table", "[iq]") {
  std::vector<uint8_t> block(18, 0);
  PutF16(block, 0, 0.5f);
  for (int j = 0; j < 16; ++j) block[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto x = Dequantize(GgmlType::kIQ4_NL, block, 32, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(x[j] == 0.5f * kIq4Levels[j]);            // low nibbles: elements 0..15
    CHECK(x[16 + j] == 0.5f * kIq4Levels[15 - j]);  // high nibbles: elements 16..31
  }
}

TEST_CASE("IQ4_XS decodes 6-bit sub-block scales split into low and high bits", "[iq]") {
  std::vector<uint8_t> block(136, 0);
  PutF16(block, 0, 0.25f);
  // Sub-block i gets ls_i = 32 + i - 3 (dl = d * (i - 3)), except sub-block 7: ls = 63.
  int scale_bits[8];
  for (int i = 0; i < 8; ++i) scale_bits[i] = i == 7 ? 63 : 32 + i - 3;
  uint16_t scales_h = 0;
  for (int i = 0; i < 8; ++i) {
    block[4 + i / 2] =
        static_cast<uint8_t>(block[4 + i / 2] | ((scale_bits[i] & 0xF) << (4 * (i % 2))));
    scales_h = static_cast<uint16_t>(scales_h | ((scale_bits[i] >> 4) << (2 * i)));
  }
  block[2] = static_cast<uint8_t>(scales_h & 0xFF);
  block[3] = static_cast<uint8_t>(scales_h >> 8);
  for (int i = 0; i < 8; ++i) block[8 + 16 * i] = 0xF0;  // element 0: index 0, element 16: 15
  const auto x = Dequantize(GgmlType::kIQ4_XS, block, 256, 256);
  for (int i = 0; i < 8; ++i) {
    INFO("sub-block " << i);
    const float dl = 0.25f * static_cast<float>(scale_bits[i] - 32);
    CHECK(x[32 * i] == dl * -127);
    CHECK(x[32 * i + 16] == dl * 113);
    CHECK(x[32 * i + 1] == dl * -127);  // byte 1 is 0: index 0 in both nibbles
  }
}

TEST_CASE("TQ1_0 decodes base-3 bytes with the first element most significant", "[iq]") {
  std::vector<uint8_t> block(54, 0);
  // Trits (t+1) 2,1,0,1,2 -> v = 194 -> ceil(194 * 256 / 243) = 205.
  block[0] = 205;
  // A qh byte: trits 0,2,2,1 and a zero fifth trit -> v = 0*81 + 2*27 + 2*9 + 1*3 = 75 -> 80.
  block[48] = 80;
  PutF16(block, 52, 2.0f);
  const auto x = Dequantize(GgmlType::kTQ1_0, block, 256, 256);
  CHECK(x[0] == 2.0f);
  CHECK(x[32] == 0.0f);
  CHECK(x[64] == -2.0f);
  CHECK(x[96] == 0.0f);
  CHECK(x[128] == 2.0f);
  CHECK(x[240] == -2.0f);
  CHECK(x[244] == 2.0f);
  CHECK(x[248] == 2.0f);
  CHECK(x[252] == 0.0f);
  // Byte 0 everywhere else decodes as trit 0, i.e. -d.
  CHECK(x[1] == -2.0f);
  CHECK(x[160] == -2.0f);
}

TEST_CASE("TQ2_0 decodes 2-bit fields four elements 32 apart", "[iq]") {
  std::vector<uint8_t> block(66, 0x55);  // every field 1: t = 0
  block[0] = 0b00'01'10'01;              // elements 0, 32, 64, 96 -> t = 0, 1, 0, -1
  block[32 + 5] = 0b10'01'01'01;         // elements 128+5+96 -> t = 1
  PutF16(block, 64, 3.0f);
  const auto x = Dequantize(GgmlType::kTQ2_0, block, 256, 256);
  CHECK(x[0] == 0.0f);
  CHECK(x[32] == 3.0f);
  CHECK(x[64] == 0.0f);
  CHECK(x[96] == -3.0f);
  CHECK(x[128 + 5 + 96] == 3.0f);
  CHECK(x[128 + 5] == 0.0f);
}

TEST_CASE("MXFP4 decodes E2M1 nibbles with a shared E8M0 exponent", "[iq]") {
  std::vector<uint8_t> block(17, 0);
  block[0] = 127;  // scale 2^0: codes decode to 0, 0.5, 1, 1.5, 2, 3, 4, 6
  for (int j = 0; j < 16; ++j) block[1 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto x = Dequantize(GgmlType::kMXFP4, block, 32, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(x[j] == 0.5f * kFp4Doubled[j]);
    CHECK(x[16 + j] == 0.5f * kFp4Doubled[15 - j]);
  }
  block[0] = 0;  // the smallest scale, 2^-127: subnormal but exact
  x = Dequantize(GgmlType::kMXFP4, block, 32, 32);
  CHECK(x[7] == std::ldexp(6.0f, -127));
  CHECK(x[16] == std::ldexp(-6.0f, -127));
}

// ---- round trips -----------------------------------------------------------------------

TEST_CASE("IQ kernels round-trip Gaussian rows within per-type error bounds", "[iq]") {
  constexpr int64_t kRowLength = 1024;
  const auto x = GaussianRows(64, kRowLength, 7);
  // Relative RMSE bounds, 10-20% above what these kernels measure on this data (IQ4_NL 0.075,
  // IQ4_XS 0.076, MXFP4 0.115, TQ 0.815). The ternary formats are meant for weights trained
  // to be ternary: on Gaussian data most elements round to 0.
  const std::pair<GgmlType, double> bounds[] = {{GgmlType::kIQ4_NL, 0.09},
                                                {GgmlType::kIQ4_XS, 0.09},
                                                {GgmlType::kMXFP4, 0.135},
                                                {GgmlType::kTQ2_0, 0.9},
                                                {GgmlType::kTQ1_0, 0.9}};
  for (const auto& [type, bound] : bounds) {
    INFO(GgmlTypeName(type));
    const auto y = Dequantize(type, Quantize(type, x, kRowLength), kRowLength, x.size());
    const double rmse = RelativeRmse(x, y);
    UNSCOPED_INFO("relative rmse " << rmse);
    CHECK(rmse < bound);
  }
}

TEST_CASE("Ternary and MXFP4 errors stay within the format's rounding step", "[iq]") {
  constexpr int64_t kRowLength = 512;
  const auto x = GaussianRows(16, kRowLength, 11);
  for (GgmlType type : {GgmlType::kTQ1_0, GgmlType::kTQ2_0}) {
    INFO(GgmlTypeName(type));
    const auto y = Dequantize(type, Quantize(type, x, kRowLength), kRowLength, x.size());
    for (size_t block = 0; block < x.size() / 256; ++block) {
      float amax = 0;
      for (size_t j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[256 * block + j]));
      // Rounding x/d to a trit loses at most d/2; storing d as f16 adds at most d * 2^-11.
      for (size_t j = 0; j < 256; ++j) {
        REQUIRE(std::fabs(x[256 * block + j] - y[256 * block + j]) <= 0.5f * amax * 1.001f);
      }
    }
  }
  const auto y =
      Dequantize(GgmlType::kMXFP4, Quantize(GgmlType::kMXFP4, x, kRowLength), kRowLength, x.size());
  for (size_t block = 0; block < x.size() / 32; ++block) {
    float amax = 0;
    for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * block + j]));
    // amax in [2^k, 2^(k+1)) gives the grid h * {0,1,2,3,4,6,8,12}, h = 2^(k-3): gaps of at
    // most 4h up to 12h, then a clamp up to amax < 16h.
    const float h = std::ldexp(1.0f, std::ilogb(amax) - 3);
    for (size_t j = 0; j < 32; ++j) {
      const float v = std::fabs(x[32 * block + j]);
      REQUIRE(std::fabs(x[32 * block + j] - y[32 * block + j]) <= (v > 12 * h ? 4 * h : 2 * h));
    }
  }
}

TEST_CASE("IQ kernels reproduce values on their grid exactly", "[iq]") {
  SECTION("IQ4_NL, one block") {
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j) x[j] = kIq4Levels[(j * 7) % 16] / 128.0f;
    CHECK(Dequantize(GgmlType::kIQ4_NL, Quantize(GgmlType::kIQ4_NL, x, 32), 32, 32) == x);
  }
  SECTION("IQ4_XS, one super-block") {
    std::vector<float> x(256);
    for (int j = 0; j < 256; ++j) x[j] = kIq4Levels[(j * 5) % 16] / 64.0f;
    CHECK(Dequantize(GgmlType::kIQ4_XS, Quantize(GgmlType::kIQ4_XS, x, 256), 256, 256) == x);
  }
  SECTION("TQ1_0 and TQ2_0, one block") {
    std::vector<float> x(256);
    for (int j = 0; j < 256; ++j) x[j] = 0.25f * static_cast<float>((j * 7) % 3 - 1);
    for (GgmlType type : {GgmlType::kTQ1_0, GgmlType::kTQ2_0}) {
      INFO(GgmlTypeName(type));
      CHECK(Dequantize(type, Quantize(type, x, 256), 256, 256) == x);
    }
  }
  SECTION("MXFP4, one block") {
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
      x[j] = std::ldexp(static_cast<float>(kFp4Doubled[(j * 3) % 16]), -5);
    CHECK(Dequantize(GgmlType::kMXFP4, Quantize(GgmlType::kMXFP4, x, 32), 32, 32) == x);
  }
}

// ---- edge rows -------------------------------------------------------------------------

TEST_CASE("All-zero rows give llama.cpp's zero blocks and decode to zero", "[iq]") {
  // What ggml writes for a zero block, worked out from its algorithm: IQ4 picks index 8
  // (level 1) for 0; IQ4_XS stores d = -0/32 (f16 0x8000) and ls = 32 (scales_h 0b10 each);
  // the ternary formats store trit 0 as digit 1; MXFP4 stores e = 0 and code 0.
  std::vector<uint8_t> iq4_xs = {0x00, 0x80, 0xAA, 0xAA, 0, 0, 0, 0};
  iq4_xs.resize(136, 0x88);
  std::vector<uint8_t> iq4_nl = {0, 0};
  iq4_nl.resize(18, 0x88);
  std::vector<uint8_t> tq1(54, 128);           // 1,1,1,1,1 -> 121 -> ceil(121 * 256 / 243) = 128
  for (int j = 48; j < 52; ++j) tq1[j] = 127;  // 1,1,1,1,0 -> 120 -> 127
  tq1[52] = tq1[53] = 0;
  std::vector<uint8_t> tq2(66, 0x55);
  tq2[64] = tq2[65] = 0;
  const std::vector<uint8_t> mxfp4(17, 0);
  const std::pair<GgmlType, const std::vector<uint8_t>*> expected[] = {{GgmlType::kIQ4_NL, &iq4_nl},
                                                                       {GgmlType::kIQ4_XS, &iq4_xs},
                                                                       {GgmlType::kTQ1_0, &tq1},
                                                                       {GgmlType::kTQ2_0, &tq2},
                                                                       {GgmlType::kMXFP4, &mxfp4}};
  for (const auto& [type, block] : expected) {
    INFO(GgmlTypeName(type));
    const int64_t n = 512;
    const std::vector<float> zeros(2 * n, 0.0f);
    const auto bytes = Quantize(type, zeros, n);
    for (size_t offset = 0; offset < bytes.size(); offset += block->size()) {
      REQUIRE(std::equal(block->begin(), block->end(), bytes.begin() + static_cast<long>(offset)));
    }
    for (float v : Dequantize(type, bytes, n, zeros.size())) REQUIRE(v == 0.0f);
  }
}

TEST_CASE("Constant rows decode to the constant up to f16 scale rounding", "[iq]") {
  // IQ4_XS stores about c / 3616 as its f16 super-block scale: constants below ~0.22 make it
  // subnormal and coarser than this bound.
  for (float c : {0.5f, -0.37f, 7.0f, -1234.5f}) {
    for (GgmlType type : kIqTypes) {
      INFO(GgmlTypeName(type) << " constant " << c);
      const std::vector<float> x(512, c);
      const auto y = Dequantize(type, Quantize(type, x, 512), 512, x.size());
      // MXFP4's scale is a power of two, so the constant lands on the nearest E2M1 value:
      // off by at most 2^(k-2) <= |c| / 4 for |c| in [2^k, 2^(k+1)).
      const float tolerance = type == GgmlType::kMXFP4 ? std::fabs(c) / 4 : std::fabs(c) * 0x1p-10f;
      for (float v : y) REQUIRE(std::fabs(v - c) <= tolerance);
      for (float v : y) REQUIRE(v == y[0]);
    }
  }
}

TEST_CASE("Rows of subnormal-sized values follow the reference's arithmetic", "[iq]") {
  const float tiny = std::ldexp(1.0f, -130);
  const std::vector<float> x(512, tiny);
  // IQ4 treats blocks below 1e-15 as zero; the ternary formats store d = tiny, which f16
  // flushes to 0 (and 1/d overflows, which lroundf maps to trit 0 as in the reference).
  for (GgmlType type : {GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kTQ1_0, GgmlType::kTQ2_0}) {
    INFO(GgmlTypeName(type));
    for (float v : Dequantize(type, Quantize(type, x, 512), 512, x.size())) REQUIRE(v == 0.0f);
  }
  // MXFP4: floor(log2(2^-130)) - 2 + 127 = -5, which the reference casts to uint8_t; its x86
  // build converts through int32 and keeps the low byte, 251.
  const auto bytes = Quantize(GgmlType::kMXFP4, x, 512);
  CHECK(bytes[0] == 251);
  CHECK(bytes[17] == 251);
}

TEST_CASE("IQ kernels write the same bytes for 1, 2 and 3 threads", "[iq]") {
  constexpr int64_t kRowLength = 512;
  const auto x = GaussianRows(37, kRowLength, 3);
  std::vector<float> importance(kRowLength);
  for (int64_t j = 0; j < kRowLength; ++j)
    importance[static_cast<size_t>(j)] = 0.5f + static_cast<float>(j % 13);
  for (GgmlType type : kIqTypes) {
    INFO(GgmlTypeName(type));
    const auto one = Quantize(type, x, kRowLength, 1);
    CHECK(Quantize(type, x, kRowLength, 2) == one);
    CHECK(Quantize(type, x, kRowLength, 3) == one);
    const auto one_weighted = Quantize(type, x, kRowLength, 1, importance);
    CHECK(Quantize(type, x, kRowLength, 2, importance) == one_weighted);
    CHECK(Quantize(type, x, kRowLength, 3, importance) == one_weighted);
  }
}

// ---- importance ------------------------------------------------------------------------

TEST_CASE("IQ4 kernels trade error towards important columns; others ignore importance", "[iq]") {
  constexpr int64_t kRowLength = 512;
  const auto x = GaussianRows(64, kRowLength, 5);
  std::vector<float> importance(kRowLength, 1.0f);
  for (int64_t j = 0; j < kRowLength; j += 8) importance[static_cast<size_t>(j)] = 100.0f;
  for (GgmlType type : {GgmlType::kIQ4_NL, GgmlType::kIQ4_XS}) {
    INFO(GgmlTypeName(type));
    const auto plain = Dequantize(type, Quantize(type, x, kRowLength), kRowLength, x.size());
    const auto weighted =
        Dequantize(type, Quantize(type, x, kRowLength, 1, importance), kRowLength, x.size());
    double plain_error = 0;
    double weighted_error = 0;
    for (size_t i = 0; i < x.size(); i += 8) {
      plain_error += (x[i] - plain[i]) * (x[i] - plain[i]);
      weighted_error += (x[i] - weighted[i]) * (x[i] - weighted[i]);
    }
    UNSCOPED_INFO("important columns: error " << weighted_error << " vs " << plain_error);
    CHECK(weighted_error < 0.8 * plain_error);
  }
  for (GgmlType type : {GgmlType::kTQ1_0, GgmlType::kTQ2_0, GgmlType::kMXFP4}) {
    INFO(GgmlTypeName(type));
    CHECK(Quantize(type, x, kRowLength, 1, importance) == Quantize(type, x, kRowLength));
  }
}

// llama-quantize's importance for a tensor: the imatrix's in_sum2 divided by its count
// (1 for a tensor the calibration never reached); none for tensors the imatrix lacks.
// A minimal reading of the imatrix GGUF, enough to check the IQ4_XS importance path.
TEST_CASE("IQ4_XS with importance reproduces llama-quantize --imatrix", "[iq][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto dir = testdata / "reference" / "llama.cpp" / "synth-a";
  Result<ImportanceMatrix> imatrix =
      ReadImportanceMatrixFile((dir / "imatrix" / "synth-a.imatrix.gguf").string());
  REQUIRE(imatrix.ok());
  CHECK(testing::DiffAgainstReference(
            dir / "synth-a-convert-f32.gguf", dir / "imatrix", "synth-a-imatrix-pure-IQ4_XS.gguf",
            [&](const std::string& name) {
              const ImportanceEntry* entry = imatrix->Find(name);
              return entry != nullptr ? entry->weights : std::vector<float>();
            }) == "");
}

}  // namespace
}  // namespace qtk
