// The AVX2 / F16C fast paths give exactly the bytes of their scalar references: the Q8_0 and
// Q4_0 quantizers on the reference tensors and on random blocks full of edge cases, the F16
// and BF16 to F32 conversions on every 16-bit input.
#include <bit>
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>

#include "base/cpu_features.h"
#include "base/float_convert_paths.h"
#include "legacy_test_support.h"
#include "qtk/base/float_convert.h"
#include "qtk/format/gguf.h"
#include "quant/quant_legacy.h"
#include "test_support.h"

namespace qtk {
namespace {

#if QTK_HAVE_X86_SIMD

struct FastPath {
  const char* name;
  int block_bytes;
  testing::RowQuantizer reference;
  testing::RowQuantizer fast;
};

constexpr FastPath kFastPaths[] = {
    {"Q8_0", 34, QuantizeRowQ8_0Ref, QuantizeRowQ8_0Avx2},
    {"Q4_0", 18, QuantizeRowQ4_0Ref, QuantizeRowQ4_0Avx2},
};

// The index of the first differing block, or -1.
int64_t FirstDifferentBlock(const FastPath& path, std::span<const float> x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> expected(static_cast<size_t>(n / 32 * path.block_bytes));
  std::vector<uint8_t> actual(expected.size(), 0xAB);
  path.reference(x.data(), expected.data(), n);
  path.fast(x.data(), actual.data(), n);
  for (size_t b = 0; b < expected.size() / static_cast<size_t>(path.block_bytes); ++b) {
    const size_t offset = b * static_cast<size_t>(path.block_bytes);
    if (std::memcmp(expected.data() + offset, actual.data() + offset,
                    static_cast<size_t>(path.block_bytes)) != 0) {
      return static_cast<int64_t>(b);
    }
  }
  return -1;
}

#define QTK_REQUIRE_AVX2()                                            \
  if (!CpuHasAvx2()) {                                                \
    WARN("skipped: this CPU has no AVX2, only the scalar path runs"); \
    return;                                                           \
  }

TEST_CASE("AVX2 Q8_0 and Q4_0 match the scalar reference on real tensors", "[legacy][testdata]") {
  QTK_REQUIRE_AVX2();
  QTK_REQUIRE_TESTDATA(testdata);
  for (std::string model : {"synth-a", "stories260K"}) {
    const auto dir = testdata / "reference" / "llama.cpp" / model;
    auto source = ReadGgufFile((dir / (model + "-convert-f32.gguf")).string());
    REQUIRE(source.ok());
    for (const GgufTensorInfo& info : source->tensors()) {
      if (info.n_elements() % 32 != 0) continue;
      const auto bytes = source->TensorData(info);
      std::span<const float> x(reinterpret_cast<const float*>(bytes.data()),
                               static_cast<size_t>(info.n_elements()));
      for (const FastPath& path : kFastPaths) {
        INFO(model << " " << info.name << " " << path.name);
        CHECK(FirstDifferentBlock(path, x) == -1);
      }
    }
    // And the AVX2 paths alone reproduce llama-quantize's files.
    for (const FastPath& path : kFastPaths) {
      if (model != "synth-a") break;
      int n_compared = 0;
      const std::string file = "synth-a-pure-" + std::string(path.name) + ".gguf";
      CHECK(testing::DiffRowQuantizer(dir / "synth-a-convert-f32.gguf", dir, file,
                                      *GgmlTypeFromName(path.name), path.fast, &n_compared) == "");
      CHECK(n_compared == 15);
    }
  }
}

// One block of a randomly chosen kind, most of them edge cases for the scale or the codes.
void FillEdgeBlock(std::mt19937& rng, float* x) {
  std::uniform_int_distribution<int> kind_of(0, 11);
  std::uniform_int_distribution<int> position(0, 31);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const float scale = std::ldexp(1.0f, std::uniform_int_distribution<int>(-30, 30)(rng));
  switch (kind_of(rng)) {
    case 0:  // plain data
      for (int j = 0; j < 32; ++j) x[j] = normal(rng) * scale;
      break;
    case 1:  // ties for Q8_0: d = 1, halves everywhere
      for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(position(rng) * 8 - 127) * 0.5f;
      x[position(rng)] = (rng() & 1) ? 127.0f : -127.0f;
      break;
    case 2:  // ties for Q4_0: d = +-1, halves everywhere
      for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(position(rng) % 16 - 8) + 0.5f;
      x[position(rng)] = (rng() & 1) ? 8.0f : -8.0f;
      break;
    case 3:  // ties near a random scale
      for (int j = 0; j < 32; ++j) x[j] = (static_cast<float>(position(rng) - 16) + 0.5f) * scale;
      break;
    case 4:  // zeros of both signs, maybe one value
      for (int j = 0; j < 32; ++j) x[j] = (rng() & 1) ? 0.0f : -0.0f;
      if (rng() & 1) x[position(rng)] = normal(rng) * scale;
      break;
    case 5:  // constant
      for (int j = 0; j < 32; ++j) x[j] = scale;
      break;
    case 6:  // equal largest magnitudes of both signs at random places
      for (int j = 0; j < 32; ++j) x[j] = uniform(rng) * scale;
      x[position(rng)] = 2 * scale;
      x[position(rng)] = -2 * scale;
      break;
    case 7:  // subnormals: 1 / d overflows, the scalar fallback
      for (int j = 0; j < 32; ++j) {
        x[j] = std::bit_cast<float>(static_cast<uint32_t>(rng() & 0x807FFFFFu));
      }
      break;
    case 8:  // tiny normals, around where 1 / d starts to overflow
      for (int j = 0; j < 32; ++j) x[j] = uniform(rng) * std::ldexp(1.0f, -120 - position(rng) / 4);
      break;
    case 9:  // huge values, up to FLT_MAX
      for (int j = 0; j < 32; ++j) x[j] = uniform(rng) * FLT_MAX;
      if (rng() & 1) x[position(rng)] = (rng() & 1) ? FLT_MAX : -FLT_MAX;
      break;
    case 10:  // random bit patterns that are finite
      for (int j = 0; j < 32; ++j) {
        do {
          x[j] = std::bit_cast<float>(static_cast<uint32_t>(rng()));
        } while (!std::isfinite(x[j]));
      }
      break;
    default:  // uniform, with the same largest value repeated
      for (int j = 0; j < 32; ++j) x[j] = uniform(rng) * scale;
      for (int k = 0; k < 3; ++k) x[position(rng)] = -scale;
      break;
  }
}

TEST_CASE("AVX2 Q8_0 and Q4_0 match the scalar reference on edge blocks", "[legacy]") {
  QTK_REQUIRE_AVX2();
  std::mt19937 rng(20240611);
  std::vector<float> x(32 * 40000);
  for (size_t b = 0; b < x.size() / 32; ++b) FillEdgeBlock(rng, x.data() + 32 * b);
  for (const FastPath& path : kFastPaths) {
    INFO(path.name);
    const int64_t bad = FirstDifferentBlock(path, x);
    if (bad >= 0) {
      for (int j = 0; j < 32; ++j) UNSCOPED_INFO(x[static_cast<size_t>(bad * 32 + j)]);
    }
    CHECK(bad == -1);
  }
}

// Every 16-bit input, at every start alignment and with every tail length.
template <typename Fast, typename Scalar>
void CheckConversionExhaustively(Fast fast, Scalar scalar) {
  std::vector<uint16_t> src(0x10000 + 16);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint16_t>(i);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t trim = 0; trim < 9; ++trim) {
      std::span<const uint16_t> in(src.data() + offset, src.size() - offset - trim);
      std::vector<float> expected(in.size()), actual(in.size(), 1234.0f);
      scalar(in, expected);
      fast(in, actual);
      INFO("offset " << offset << ", trim " << trim);
      REQUIRE(std::memcmp(expected.data(), actual.data(), in.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("F16C F16 -> F32 matches the scalar conversion on every input", "[legacy][float]") {
  if (!CpuHasAvx2F16c()) {
    WARN("skipped: this CPU has no AVX2 + F16C");
    return;
  }
  CheckConversionExhaustively(ConvertF16ToF32F16c, ConvertF16ToF32Scalar);
  CheckConversionExhaustively(ConvertF16ToF32, ConvertF16ToF32Scalar);  // the dispatcher
  // A signalling NaN keeps its payload (vcvtph2ps alone would set the quiet bit).
  const std::vector<uint16_t> nan = {0x7C01, 0x7C01, 0x7C01, 0x7C01,
                                     0x7C01, 0x7C01, 0x7C01, 0xFC01};
  std::vector<float> out(nan.size());
  ConvertF16ToF32F16c(nan, out);
  CHECK(std::bit_cast<uint32_t>(out[0]) == 0x7F802000u);
  CHECK(std::bit_cast<uint32_t>(out[7]) == 0xFF802000u);
}

TEST_CASE("AVX2 BF16 -> F32 matches the scalar conversion on every input", "[legacy][float]") {
  QTK_REQUIRE_AVX2();
  CheckConversionExhaustively(ConvertBF16ToF32Avx2, ConvertBF16ToF32Scalar);
  CheckConversionExhaustively(ConvertBF16ToF32, ConvertBF16ToF32Scalar);
}

#endif  // QTK_HAVE_X86_SIMD

TEST_CASE("the scalar conversions agree with the per-element functions", "[legacy][float]") {
  std::vector<uint16_t> src(0x10000);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint16_t>(i);
  std::vector<float> f16(src.size()), bf16(src.size());
  ConvertF16ToF32Scalar(src, f16);
  ConvertBF16ToF32Scalar(src, bf16);
  for (size_t i = 0; i < src.size(); ++i) {
    REQUIRE(std::bit_cast<uint32_t>(f16[i]) == std::bit_cast<uint32_t>(F16ToF32(src[i])));
    REQUIRE(std::bit_cast<uint32_t>(bf16[i]) == static_cast<uint32_t>(src[i]) << 16);
  }
}

}  // namespace
}  // namespace qtk
