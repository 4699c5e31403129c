#include "qtk/scheme/nf4.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace qtk {
namespace {

float Above(float x) { return std::nextafter(x, 2.0f); }

std::vector<float> RandomValues(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) {
    // A slowly varying magnitude so that the absmax values differ from block to block.
    values[i] = normal(rng) * (1.0f + static_cast<float>(i % 1000) / 250.0f);
  }
  return values;
}

FourBitSpec Spec(FourBitCode code, int64_t block_size, bool double_quant = false) {
  return FourBitSpec{code, block_size, double_quant};
}

std::vector<float> Decode(const FourBitSpec& spec, const FourBitQuantized& q, size_t n) {
  std::vector<float> absmax = q.absmax;
  if (spec.double_quant) {
    absmax.resize(q.absmax_codes.size());
    REQUIRE(DecodeDoubleQuant(DynamicMapTable(), q.absmax_codes, q.absmax_scales, q.absmax_offset,
                              absmax)
                .ok());
  }
  std::vector<float> out(n);
  REQUIRE(DequantizeFourBit(FourBitTable(spec.code), spec.block_size, q.codes, absmax, out).ok());
  return out;
}

TEST_CASE("NF4 values map to their own codes and boundaries to the lower code", "[generic][nf4]") {
  const std::array<float, 16>& table = Nf4Table();
  CHECK(table[0] == -1.0f);
  CHECK(table[7] == 0.0f);
  CHECK(table[15] == 1.0f);
  CHECK(table[1] == -0.6961928009986877f);
  CHECK(table[14] == 0.7229568362236023f);
  for (uint8_t i = 0; i < 16; ++i) CHECK(EncodeNf4(table[i]) == i);
  // dQuantizeNF4's boundaries: on the boundary the lower code, one ulp above the upper one.
  const std::array<float, 15> boundaries = {
      -0.8480964004993439f,  -0.6106329262256622f,  -0.4599952697753906f,   -0.33967943489551544f,
      -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
      0.1202552504837513f,   0.2035212516784668f,   0.2920137718319893f,    0.3893125355243683f,
      0.5016634166240692f,   0.6427869200706482f,   0.8614784181118011f};
  for (uint8_t k = 0; k < 15; ++k) {
    CHECK(EncodeNf4(boundaries[k]) == k);
    CHECK(EncodeNf4(Above(boundaries[k])) == k + 1);
  }
  CHECK(EncodeNf4(std::numeric_limits<float>::quiet_NaN()) == 0);
  CHECK(EncodeNf4(-2.0f) == 0);
  CHECK(EncodeNf4(2.0f) == 15);
}

TEST_CASE("FP4 codes follow bitsandbytes' tree", "[generic][nf4]") {
  const std::array<float, 16>& table = Fp4Table();
  for (uint8_t i = 0; i < 16; ++i) {
    if (i == 8) continue;  // −0 is not negative: it takes code 0, like +0
    CHECK(EncodeFp4(table[i]) == i);
  }
  CHECK(EncodeFp4(-0.0f) == 0);
  CHECK(EncodeFp4(0.29166667f) == 0b0111);  // on the 0.25 | 0.3333 boundary: 0.25
  CHECK(EncodeFp4(Above(0.29166667f)) == 0b0100);
  CHECK(EncodeFp4(-0.8333333f) == 0b1010);  // −0.6667
  CHECK(EncodeFp4(-0.9f) == 0b1011);
  CHECK(EncodeFp4(0.002f) == 0);
  CHECK(EncodeFp4(0.003f) == 1);
  CHECK(EncodeFp4(std::numeric_limits<float>::quiet_NaN()) == 0);
}

TEST_CASE("NF4 blocks computed by hand, ties included", "[generic][nf4]") {
  // Block 1: absmax 1, so the scaled values are the inputs. Block 2: absmax 2, every value
  // scales by exactly 0.5 onto a boundary (a tie: the lower code) or a table value.
  const std::vector<float> x = {
      1.0f,
      -1.0f,
      0.0f,
      0.03979014977812767f,
      Above(0.03979014977812767f),
      -0.045525018125772476f,
      0.5f,
      -0.5f,
      2.0f,
      2 * 0.8614784181118011f,
      2 * -0.8480964004993439f,
      -2.0f,
      2 * 0.1202552504837513f,
      2 * 0.44070982933044434f,
      0.0f,
      2 * -0.33967943489551544f,
  };
  Result<FourBitQuantized> q = QuantizeFourBit(Spec(FourBitCode::kNf4, 8), x);
  REQUIRE(q.ok());
  CHECK(q->absmax == std::vector<float>{1.0f, 2.0f});
  // (15, 0) (7, 7) (8, 6) (12, 2) | (15, 14) (0, 0) (8, 12) (7, 3)
  CHECK(q->codes == std::vector<uint8_t>{0xF0, 0x77, 0x86, 0xC2, 0xFE, 0x00, 0x8C, 0x73});
  const std::vector<float> x_hat = Decode(Spec(FourBitCode::kNf4, 8), *q, x.size());
  CHECK(x_hat[0] == 1.0f);
  CHECK(x_hat[9] == Nf4Table()[14] * 2.0f);
  CHECK(x_hat[13] == Nf4Table()[12] * 2.0f);
}

TEST_CASE("NF4 zero blocks, odd lengths and short last blocks", "[generic][nf4]") {
  // A zero block: bitsandbytes scales by 1/0, 0·inf is NaN, and NaN takes code 0.
  const std::vector<float> zeros(6, 0.0f);
  Result<FourBitQuantized> qz = QuantizeFourBit(Spec(FourBitCode::kNf4, 4), zeros);
  REQUIRE(qz.ok());
  CHECK(qz->codes == std::vector<uint8_t>{0x00, 0x00, 0x00});
  CHECK(qz->absmax == std::vector<float>{0.0f, 0.0f});
  for (float v : Decode(Spec(FourBitCode::kNf4, 4), *qz, 6)) CHECK(v == 0);
  // Five elements in blocks of 4: the second block holds one element; its pair is padded
  // with the code of 0 (7 for NF4, 0 for FP4).
  const std::vector<float> x = {0.5f, -1.0f, 1.0f, 0.0f, -3.0f};
  Result<FourBitQuantized> q = QuantizeFourBit(Spec(FourBitCode::kNf4, 4), x);
  REQUIRE(q.ok());
  CHECK(q->absmax == std::vector<float>{1.0f, 3.0f});
  CHECK(q->codes == std::vector<uint8_t>{0xC0, 0xF7, 0x07});
  CHECK(Decode(Spec(FourBitCode::kNf4, 4), *q, 5)[4] == -3.0f);
  Result<FourBitQuantized> f = QuantizeFourBit(Spec(FourBitCode::kFp4, 4), x);
  REQUIRE(f.ok());
  CHECK(f->codes == std::vector<uint8_t>{0x5B, 0x30, 0xB0});
}

TEST_CASE("NF4 and FP4 round trips stay within half the widest code gap", "[generic][nf4]") {
  const std::vector<float> x = RandomValues(10001, 3);
  for (FourBitCode code : {FourBitCode::kNf4, FourBitCode::kFp4}) {
    for (int64_t block : {2, 64, 256}) {
      const FourBitSpec spec = Spec(code, block);
      INFO("code " << static_cast<int>(code) << " block " << block);
      Result<FourBitQuantized> q = QuantizeFourBit(spec, x);
      REQUIRE(q.ok());
      REQUIRE(q->codes.size() == 5001);
      REQUIRE(q->absmax.size() == static_cast<size_t>(FourBitBlockCount(spec, 10001)));
      const std::array<float, 16> table = FourBitTable(code);
      std::vector<float> sorted(table.begin(), table.end());
      std::sort(sorted.begin(), sorted.end());
      float widest = 0;
      for (size_t i = 1; i < sorted.size(); ++i)
        widest = std::max(widest, sorted[i] - sorted[i - 1]);
      const std::vector<float> x_hat = Decode(spec, *q, x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const float absmax = q->absmax[i / static_cast<size_t>(block)];
        REQUIRE(std::fabs(x[i] - x_hat[i]) <= absmax * (widest / 2) * 1.0001f);
      }
    }
  }
}

TEST_CASE("the dynamic map is bitsandbytes' signed 8-bit code", "[generic][nf4]") {
  const std::array<float, 256>& map = DynamicMapTable();
  CHECK(std::is_sorted(map.begin(), map.end()));
  CHECK(map[127] == 0.0f);
  CHECK(map[255] == 1.0f);
  CHECK(map[0] == Approx(-0.99296875).epsilon(1e-6));  // −(0.9859375 + 1) / 2
  CHECK(map[128] == Approx(0.55e-6).epsilon(1e-5));    // the smallest: 1e-6 · (0.1 + 1) / 2
  for (int k = 0; k < 127; ++k)
    CHECK(map[static_cast<size_t>(128 + k)] == -map[static_cast<size_t>(126 - k)]);
  for (int i = 0; i < 256; ++i) CHECK(EncodeDynamic(map, map[static_cast<size_t>(i)]) == i);
  // Nearest code everywhere (the midpoint itself goes to the code the search ended on).
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int trial = 0; trial < 20000; ++trial) {
    const float x = trial % 2 == 0 ? uniform(rng) : uniform(rng) * 1e-3f;
    const int code = EncodeDynamic(map, x);
    const float distance = std::fabs(x - map[static_cast<size_t>(code)]);
    if (code > 0) REQUIRE(distance <= std::fabs(x - map[static_cast<size_t>(code - 1)]));
    if (code < 255) REQUIRE(distance <= std::fabs(x - map[static_cast<size_t>(code + 1)]));
  }
  CHECK(EncodeDynamic(map, -1.0f) == 0);
  CHECK(EncodeDynamic(map, std::numeric_limits<float>::quiet_NaN()) == 0);
}

TEST_CASE("double quantization round-trips the absmax values", "[generic][nf4]") {
  const std::vector<float> x = RandomValues(64 * 700 + 10, 9);  // 701 blocks: 3 dq blocks
  const FourBitSpec plain = Spec(FourBitCode::kNf4, 64);
  const FourBitSpec dq = Spec(FourBitCode::kNf4, 64, true);
  Result<FourBitQuantized> qp = QuantizeFourBit(plain, x);
  Result<FourBitQuantized> qd = QuantizeFourBit(dq, x);
  REQUIRE(qp.ok());
  REQUIRE(qd.ok());
  CHECK(qd->codes == qp->codes);  // double quantization only touches the statistics
  CHECK(qd->absmax.empty());
  REQUIRE(qd->absmax_codes.size() == 701);
  REQUIRE(qd->absmax_scales.size() == 3);
  double mean = 0;
  for (float a : qp->absmax) mean += a;
  mean /= 701;
  CHECK(qd->absmax_offset == static_cast<float>(mean));
  std::vector<float> absmax(701);
  REQUIRE(DecodeDoubleQuant(DynamicMapTable(), qd->absmax_codes, qd->absmax_scales,
                            qd->absmax_offset, absmax)
              .ok());
  for (size_t i = 0; i < absmax.size(); ++i) {
    const float block_max = qd->absmax_scales[i / 256];
    // The widest gap of the dynamic map is 0.9/64 (between its largest values).
    REQUIRE(std::fabs(absmax[i] - qp->absmax[i]) <= block_max * (0.9f / 128) * 1.001f + 1e-7f);
    const float centered = qp->absmax[i] - qd->absmax_offset;
    REQUIRE(qd->absmax_codes[i] == EncodeDynamic(DynamicMapTable(), centered * (1.0f / block_max)));
  }
  // A single block: its absmax is the mean, so it is stored exactly in the offset.
  const std::vector<float> one = {0.25f, -0.5f};
  Result<FourBitQuantized> q1 = QuantizeFourBit(Spec(FourBitCode::kNf4, 64, true), one);
  REQUIRE(q1.ok());
  CHECK(q1->absmax_scales == std::vector<float>{0.0f});
  CHECK(Decode(Spec(FourBitCode::kNf4, 64, true), *q1, 2)[1] == -0.5f);
}

TEST_CASE("4-bit output does not depend on the thread count", "[generic][nf4]") {
  const std::vector<float> x = RandomValues(64 * 1000 + 33, 4);
  for (FourBitCode code : {FourBitCode::kNf4, FourBitCode::kFp4}) {
    const FourBitSpec spec = Spec(code, 64, true);
    Result<FourBitQuantized> one = QuantizeFourBit(spec, x, 1);
    REQUIRE(one.ok());
    for (int threads : {2, 3, 8}) {
      Result<FourBitQuantized> many = QuantizeFourBit(spec, x, threads);
      REQUIRE(many.ok());
      CHECK(many->codes == one->codes);
      CHECK(many->absmax_codes == one->absmax_codes);
      CHECK(many->absmax_scales == one->absmax_scales);
      CHECK(many->absmax_offset == one->absmax_offset);
    }
  }
}

TEST_CASE("4-bit errors", "[generic][nf4]") {
  std::vector<float> x(10, 1.0f);
  x[7] = std::numeric_limits<float>::quiet_NaN();
  CHECK(QuantizeFourBit(Spec(FourBitCode::kNf4, 64), x).status().message() == "element 7 is nan");
  x[7] = 0;
  CHECK(QuantizeFourBit(Spec(FourBitCode::kNf4, 63), x).status().message() ==
        "4-bit block size is 63, must be even and >= 2");
  CHECK(QuantizeFourBit(Spec(FourBitCode::kNf4, 0), x).status().message() ==
        "4-bit block size is 0, must be even and >= 2");
  std::vector<float> out(10);
  const std::vector<uint8_t> codes(5);
  const std::vector<float> absmax(2);
  CHECK(DequantizeFourBit(Nf4Table(), 64, codes, absmax, out).message() ==
        "4-bit data has 5 code bytes and 2 absmax values, expected 5 and 1 for 10 elements");
}

}  // namespace
}  // namespace qtk
