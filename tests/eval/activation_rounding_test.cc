// The activation formats of ggml's CPU backend, on values worked out by hand.
#include "eval/activation_rounding.h"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "qtk/base/float_convert.h"
#include "qtk/quant/quantize.h"

namespace qtk {
namespace {

TEST_CASE("activation rounding: the weight type picks ggml's vec_dot_type", "[eval]") {
  CHECK(GgmlActivationFormat("F32") == ActivationFormat::kF32);
  CHECK(GgmlActivationFormat("F16") == ActivationFormat::kF16);
  CHECK(GgmlActivationFormat("BF16") == ActivationFormat::kBF16);
  CHECK(GgmlActivationFormat("Q4_0") == ActivationFormat::kQ8_0);
  CHECK(GgmlActivationFormat("IQ4_NL") == ActivationFormat::kQ8_0);
  CHECK(GgmlActivationFormat("Q5_1") == ActivationFormat::kQ8_1);
  CHECK(GgmlActivationFormat("Q4_K") == ActivationFormat::kQ8_K);
  CHECK(GgmlActivationFormat("IQ4_XS") == ActivationFormat::kQ8_K);
  CHECK(GgmlActivationFormat("nf4") == ActivationFormat::kF32);  // a qtk scheme
}

TEST_CASE("activation rounding: F16 is the conversion there and back, bit for bit", "[eval]") {
  std::vector<float> values;
  for (uint32_t bits = 0; bits < 0xFFFFFFFFu - 40503; bits += 40503) {  // every exponent
    values.push_back(std::bit_cast<float>(bits));
  }
  for (float x : {65504.f, 65519.f, 65520.f, 6.1035156e-05f, 6.1e-05f, 1.0f + 1.0f / 2048}) {
    values.push_back(x);
    values.push_back(-x);
  }
  std::vector<float> rounded = values;
  RoundActivations(ActivationFormat::kF16, rounded);
  for (size_t i = 0; i < values.size(); ++i) {
    const float expected = F16ToF32(F32ToF16(values[i]));
    INFO(values[i]);
    CHECK(std::memcmp(&rounded[i], &expected, sizeof(float)) == 0);
  }
}

TEST_CASE("activation rounding: Q8_0 keeps 127 steps of amax/127 per block of 32", "[eval]") {
  std::vector<float> block(32, 0.0f);
  block[0] = 127.0f;  // d = 1: integers stay, halves go to the even neighbour
  block[1] = 2.5f;
  block[2] = -3.5f;
  block[3] = 0.4f;
  RoundActivations(ActivationFormat::kQ8_0, block);
  CHECK(block[0] == 127.0f);
  CHECK(block[1] == 2.0f);
  CHECK(block[2] == -4.0f);
  CHECK(block[3] == 0.0f);
  std::vector<float> zeros(32, 0.0f);
  RoundActivations(ActivationFormat::kQ8_0, zeros);
  CHECK(zeros == std::vector<float>(32, 0.0f));
}

TEST_CASE("activation rounding: Q8_K scales by the signed extreme of 256 values", "[eval]") {
  std::vector<float> block(256, 0.0f);
  block[0] = -254.0f;  // iscale = −127/(−254) = 0.5: steps of 2
  block[1] = 3.0f;     // 1.5 → 2 (even) → 4
  block[2] = 254.0f;   // 127 → 254
  RoundActivations(ActivationFormat::kQ8_K, block);
  CHECK(block[0] == -254.0f);
  CHECK(block[1] == 4.0f);
  CHECK(block[2] == 254.0f);
}

TEST_CASE("activation rounding: Q4_0 (a KV cache's) is qtk's Q4_0 there and back", "[eval]") {
  std::vector<float> values(256);
  uint32_t state = 7;
  for (float& x : values) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(static_cast<int32_t>(state >> 8) - (1 << 23)) / 1e6f;
  }
  std::vector<uint8_t> bytes(GgmlRowBytes(GgmlType::kQ4_0, 256));
  REQUIRE(QuantizeRows(GgmlType::kQ4_0, values, 256, bytes).ok());
  std::vector<float> expected(256);
  REQUIRE(DequantizeRows(GgmlType::kQ4_0, bytes, 256, expected).ok());
  RoundActivations(ActivationFormat::kQ4_0, values);
  CHECK(std::memcmp(values.data(), expected.data(), 256 * sizeof(float)) == 0);
}

}  // namespace
}  // namespace qtk
