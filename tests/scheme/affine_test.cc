#include "qtk/scheme/affine.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qtk/base/float_convert.h"

namespace qtk {
namespace {

// Rows with different magnitudes, a heavy tail and an offset, like real weights.
std::vector<float> RandomRows(int64_t n_rows, int64_t row_length, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::student_t_distribution<float> heavy(3.0f);
  std::vector<float> values(static_cast<size_t>(n_rows * row_length));
  for (int64_t row = 0; row < n_rows; ++row) {
    const float scale = std::exp2(static_cast<float>(row % 7) - 5.0f);
    const float offset = row % 3 == 0 ? 0.5f * scale : 0.0f;
    for (int64_t i = 0; i < row_length; ++i) {
      const float v = row % 2 == 0 ? normal(rng) : heavy(rng);
      values[static_cast<size_t>(row * row_length + i)] = offset + scale * v;
    }
  }
  return values;
}

AffineSpec Spec(int bits, bool symmetric, AffineGranularity granularity, int64_t group_size = 0,
                GgmlType scale_type = GgmlType::kF32, bool search = false) {
  AffineSpec spec;
  spec.bits = bits;
  spec.symmetric = symmetric;
  spec.granularity = granularity;
  spec.group_size = group_size;
  spec.scale_type = scale_type;
  spec.search_scale = search;
  return spec;
}

std::string Describe(const AffineSpec& spec) {
  return "bits " + std::to_string(spec.bits) + (spec.symmetric ? " sym" : " asym") +
         " granularity " + std::to_string(static_cast<int>(spec.granularity)) + " group " +
         std::to_string(spec.group_size) + " " + std::string(GgmlTypeName(spec.scale_type)) +
         (spec.search_scale ? " search" : "");
}

// Index of the scale that element i of `row` uses.
size_t ScaleIndex(const AffineSpec& spec, int64_t row, int64_t i, int64_t row_length) {
  switch (spec.granularity) {
    case AffineGranularity::kPerTensor:
      return 0;
    case AffineGranularity::kPerChannel:
      return static_cast<size_t>(row);
    case AffineGranularity::kGroup:
      return static_cast<size_t>(row * AffineGroupsPerRow(spec, row_length) + i / spec.group_size);
  }
  return 0;
}

std::vector<float> Decode(const AffineSpec& spec, const AffineQuantized& q, int64_t row_length,
                          size_t n) {
  std::vector<float> out(n);
  REQUIRE(DequantizeAffine(spec, q.codes, q.scales, q.zero_points, row_length, out).ok());
  return out;
}

// How far the F16 rounding of a scale can have moved it: half an F16 ulp (2^-11 relative for
// normal values, 2^-25 absolute for subnormal ones).
double F16RoundingError(double stored) { return std::max(stored * 0x1p-11, 0x1p-25) * 1.001; }

// Every code in range, and |x − x̂| within half a step; with F16 scales the codes were chosen
// with the unrounded scale, so the decoded grid may also be off by |q − z| times the rounding.
void CheckProperties(const AffineSpec& spec, std::span<const float> x, int64_t row_length) {
  INFO(Describe(spec) << ", row length " << row_length);
  Result<AffineQuantized> q = QuantizeAffine(spec, x, row_length);
  REQUIRE(q.ok());
  const int64_t n_rows = static_cast<int64_t>(x.size()) / row_length;
  REQUIRE(q->scales.size() == static_cast<size_t>(AffineScaleCount(spec, n_rows, row_length)));
  REQUIRE(q->zero_points.size() == (spec.symmetric ? 0 : q->scales.size()));
  const std::vector<float> x_hat = Decode(spec, *q, row_length, x.size());
  const int64_t row_bytes = AffineRowBytes(spec, row_length);
  for (int64_t row = 0; row < n_rows; ++row) {
    const std::span<const uint8_t> codes(q->codes.data() + row * row_bytes,
                                         static_cast<size_t>(row_bytes));
    for (int64_t i = 0; i < row_length; ++i) {
      const int code = AffineCodeAt(spec, codes, i);
      REQUIRE(code >= AffineQmin(spec));
      REQUIRE(code <= AffineQmax(spec));
      const size_t k = ScaleIndex(spec, row, i, row_length);
      const double scale = q->scales[k];
      if (!spec.symmetric) {
        const float zero = q->zero_points[k];
        REQUIRE(zero == std::round(zero));
        REQUIRE(zero >= 0);
        REQUIRE(zero <= static_cast<float>(AffineQmax(spec)));
      }
      const size_t index = static_cast<size_t>(row * row_length + i);
      const double error = std::fabs(static_cast<double>(x[index]) - x_hat[index]);
      const int steps = std::abs(code - (spec.symmetric ? 0 : static_cast<int>(q->zero_points[k])));
      const double rounding =
          spec.scale_type == GgmlType::kF16 ? steps * F16RoundingError(scale) : 0.0;
      REQUIRE(error <= scale * 0.5 * (1 + 1e-5) + rounding + 1e-6 * std::fabs(x[index]));
    }
  }
}

TEST_CASE("affine properties hold for every bit width, sign mode and granularity",
          "[generic][affine]") {
  const int64_t row_length = 100;  // not a multiple of 32 or 64: tail groups
  const std::vector<float> x = RandomRows(9, row_length, 1);
  for (int bits : {2, 3, 4, 5, 8}) {
    for (bool symmetric : {true, false}) {
      for (GgmlType scale_type : {GgmlType::kF32, GgmlType::kF16}) {
        CheckProperties(Spec(bits, symmetric, AffineGranularity::kPerTensor, 0, scale_type), x,
                        row_length);
        CheckProperties(Spec(bits, symmetric, AffineGranularity::kPerChannel, 0, scale_type), x,
                        row_length);
        for (int64_t group : {1, 7, 32, 64, 100, 128}) {
          CheckProperties(Spec(bits, symmetric, AffineGranularity::kGroup, group, scale_type), x,
                          row_length);
        }
      }
    }
  }
}

TEST_CASE("affine tail groups get their own scale", "[generic][affine]") {
  // Rows of 10 in groups of 4: groups of 4, 4 and 2; the tail's absmax is 2, not 100.
  const std::vector<float> x = {1, 2, 3, 4, 50, 60, 70, 100, -1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, -7};
  const AffineSpec spec = Spec(8, true, AffineGranularity::kGroup, 4);
  Result<AffineQuantized> q = QuantizeAffine(spec, x, 10);
  REQUIRE(q.ok());
  REQUIRE(AffineGroupsPerRow(spec, 10) == 3);
  REQUIRE(q->scales.size() == 6);
  CHECK(q->scales[0] == 4.0f / 127);
  CHECK(q->scales[1] == 100.0f / 127);
  CHECK(q->scales[2] == 2.0f / 127);
  CHECK(q->scales[3] == 0);
  CHECK(q->scales[4] == 0);
  CHECK(q->scales[5] == 7.0f / 127);
  CHECK(AffineCodeAt(spec, std::span(q->codes).subspan(10), 9) == -127);
}

TEST_CASE("affine all-zero, constant and single-element inputs", "[generic][affine]") {
  for (bool symmetric : {true, false}) {
    for (int bits : {2, 4, 8}) {
      const AffineSpec spec = Spec(bits, symmetric, AffineGranularity::kPerChannel);
      INFO(Describe(spec));
      const std::vector<float> zeros(33, 0.0f);
      Result<AffineQuantized> q = QuantizeAffine(spec, zeros, 33);
      REQUIRE(q.ok());
      CHECK(q->scales[0] == 0);
      for (float v : Decode(spec, *q, 33, zeros.size())) CHECK(v == 0);

      for (float c : {0.37f, -2.5f, 1e-3f}) {
        const std::vector<float> constant(17, c);
        Result<AffineQuantized> qc = QuantizeAffine(spec, constant, 17);
        REQUIRE(qc.ok());
        // The constant is an end of the range, which maps exactly onto the extreme code.
        for (float v : Decode(spec, *qc, 17, constant.size())) CHECK(v == Approx(c).epsilon(1e-6));
      }
      const std::vector<float> single = {-0.75f};
      Result<AffineQuantized> qs = QuantizeAffine(spec, single, 1);
      REQUIRE(qs.ok());
      CHECK(Decode(spec, *qs, 1, 1)[0] == Approx(-0.75f).epsilon(1e-6));
    }
  }
}

TEST_CASE("affine rejects NaN and infinity naming the first bad element", "[generic][affine]") {
  std::vector<float> x(12, 1.0f);
  const AffineSpec spec = Spec(4, true, AffineGranularity::kGroup, 4);
  x[9] = std::numeric_limits<float>::infinity();
  x[11] = std::numeric_limits<float>::quiet_NaN();
  Result<AffineQuantized> q = QuantizeAffine(spec, x, 4);
  REQUIRE(q.status().code() == Status::Code::kInvalidArgument);
  CHECK(q.status().message() == "element 9 (row 2, column 1) is inf");
  x[9] = 1.0f;
  CHECK(QuantizeAffine(spec, x, 4).status().message() == "element 11 (row 2, column 3) is nan");
  x[11] = -std::numeric_limits<float>::infinity();
  CHECK(QuantizeAffine(spec, x, 6).status().message() == "element 11 (row 1, column 5) is -inf");
}

TEST_CASE("affine argument errors", "[generic][affine]") {
  const std::vector<float> x(8, 1.0f);
  CHECK(QuantizeAffine(Spec(9, true, AffineGranularity::kPerChannel), x, 8).status().message() ==
        "affine bits is 9, must be 2..8");
  CHECK(QuantizeAffine(Spec(1, true, AffineGranularity::kPerChannel), x, 8).status().message() ==
        "affine bits is 1, must be 2..8");
  CHECK(QuantizeAffine(Spec(4, true, AffineGranularity::kGroup, 0), x, 8).status().message() ==
        "affine group size is 0, must be > 0");
  CHECK(QuantizeAffine(Spec(4, true, AffineGranularity::kPerChannel, 0, GgmlType::kQ8_0), x, 8)
            .status()
            .message() == "affine scale type is Q8_0, must be F16 or F32");
  CHECK(QuantizeAffine(Spec(4, true, AffineGranularity::kPerChannel), x, 3).status().message() ==
        "8 values are not whole rows of 3");
  const std::vector<float> huge = {1e7f, -1.0f};
  CHECK(QuantizeAffine(Spec(8, true, AffineGranularity::kPerChannel, 0, GgmlType::kF16), huge, 2)
            .status()
            .message() == "row 0, group 0: scale 78740.2 overflows F16 (max 65504)");
  CHECK(QuantizeAffine(Spec(8, true, AffineGranularity::kPerChannel), huge, 2).ok());
  std::vector<float> out(8);
  const std::vector<uint8_t> codes(7);
  const std::vector<float> scales(1);
  CHECK(DequantizeAffine(Spec(8, true, AffineGranularity::kPerChannel), codes, scales, {}, 8, out)
            .message() == "affine codes are 7 bytes, expected 8");
}

TEST_CASE("affine codes pack MSB first, two's complement when signed", "[generic][affine]") {
  // amax 7 gives s = 1 exactly, so the codes are round(x) (half away from zero).
  const std::vector<float> x = {7, -7, 3, 0, 1.5f, -1.5f};
  Result<AffineQuantized> q4 = QuantizeAffine(Spec(4, true, AffineGranularity::kPerChannel), x, 6);
  REQUIRE(q4.ok());
  CHECK(q4->codes == std::vector<uint8_t>{0x79, 0x30, 0x2E});
  // 2-bit symmetric: codes −1, 0, 1 as 0b11, 0b00, 0b01, four per byte.
  const std::vector<float> y = {1, -1, 0, 1, -1};
  Result<AffineQuantized> q2 = QuantizeAffine(Spec(2, true, AffineGranularity::kPerChannel), y, 5);
  REQUIRE(q2.ok());
  CHECK(q2->codes == std::vector<uint8_t>{0b01110001, 0b11000000});
  // 8-bit asymmetric: [−1, 3] → s = 4/255, z = round(63.75) = 64.
  const std::vector<float> z = {-1, 3, 0};
  Result<AffineQuantized> q8 = QuantizeAffine(Spec(8, false, AffineGranularity::kPerChannel), z, 3);
  REQUIRE(q8.ok());
  CHECK(q8->zero_points[0] == 64);
  CHECK(q8->codes == std::vector<uint8_t>{0, 255, 64});
}

// An independent INT8 per-channel computation, written from the documented formula.
struct ReferenceRow {
  std::vector<int> codes;
  float scale = 0;
  int zero = 0;
};

ReferenceRow ReferenceInt8(std::span<const float> row, bool symmetric) {
  ReferenceRow ref;
  float lo = 0, hi = 0;  // the range always contains zero for asymmetric
  float amax = 0;
  for (float v : row) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    amax = std::max(amax, std::fabs(v));
  }
  ref.scale = symmetric ? amax / 127.0f : (hi - lo) / 255.0f;
  const float inv = ref.scale != 0 ? 1.0f / ref.scale : 0.0f;
  if (!symmetric) ref.zero = static_cast<int>(std::lround(static_cast<double>(-lo * inv)));
  for (float v : row) {
    const long q = std::lround(static_cast<double>(v * inv)) + ref.zero;
    ref.codes.push_back(
        static_cast<int>(symmetric ? std::clamp(q, -127L, 127L) : std::clamp(q, 0L, 255L)));
  }
  return ref;
}

TEST_CASE("INT8 per-channel matches an independent computation", "[generic][affine]") {
  const int64_t row_length = 96;
  const std::vector<float> x = RandomRows(14, row_length, 3);
  for (bool symmetric : {true, false}) {
    for (GgmlType scale_type : {GgmlType::kF32, GgmlType::kF16}) {
      const AffineSpec spec = Spec(8, symmetric, AffineGranularity::kPerChannel, 0, scale_type);
      INFO(Describe(spec));
      Result<AffineQuantized> q = QuantizeAffine(spec, x, row_length);
      REQUIRE(q.ok());
      const std::vector<float> x_hat = Decode(spec, *q, row_length, x.size());
      for (int64_t row = 0; row < 14; ++row) {
        const ReferenceRow ref = ReferenceInt8(
            std::span(x).subspan(static_cast<size_t>(row * row_length), row_length), symmetric);
        const float stored =
            scale_type == GgmlType::kF16 ? F16ToF32(F32ToF16(ref.scale)) : ref.scale;
        REQUIRE(q->scales[static_cast<size_t>(row)] == stored);
        if (!symmetric) REQUIRE(q->zero_points[static_cast<size_t>(row)] == ref.zero);
        for (int64_t i = 0; i < row_length; ++i) {
          const int code = ref.codes[static_cast<size_t>(i)];
          REQUIRE(AffineCodeAt(spec, std::span(q->codes).subspan(row * row_length), i) == code);
          REQUIRE(x_hat[static_cast<size_t>(row * row_length + i)] ==
                  stored * static_cast<float>(code - ref.zero));
        }
      }
    }
  }
}

TEST_CASE("affine output does not depend on the thread count", "[generic][affine]") {
  const int64_t row_length = 200;
  const std::vector<float> x = RandomRows(37, row_length, 5);
  for (bool search : {false, true}) {
    for (AffineGranularity granularity :
         {AffineGranularity::kPerTensor, AffineGranularity::kPerChannel,
          AffineGranularity::kGroup}) {
      const AffineSpec spec = Spec(4, false, granularity, 64, GgmlType::kF16, search);
      INFO(Describe(spec));
      Result<AffineQuantized> one = QuantizeAffine(spec, x, row_length, 1);
      REQUIRE(one.ok());
      for (int threads : {2, 3, 8}) {
        Result<AffineQuantized> many = QuantizeAffine(spec, x, row_length, threads);
        REQUIRE(many.ok());
        CHECK(many->codes == one->codes);
        CHECK(many->scales == one->scales);
        CHECK(many->zero_points == one->zero_points);
      }
    }
  }
}

double SquaredError(std::span<const float> x, std::span<const float> y) {
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += (double{x[i]} - y[i]) * (double{x[i]} - y[i]);
  return sum;
}

TEST_CASE("the scale search never loses to min/max and wins on heavy tails", "[generic][affine]") {
  const int64_t row_length = 256;
  const std::vector<float> x = RandomRows(32, row_length, 11);
  for (bool symmetric : {true, false}) {
    for (int bits : {3, 4, 8}) {
      AffineSpec plain = Spec(bits, symmetric, AffineGranularity::kPerChannel, 0, GgmlType::kF16);
      AffineSpec search = plain;
      search.search_scale = true;
      INFO(Describe(search));
      Result<AffineQuantized> qp = QuantizeAffine(plain, x, row_length);
      Result<AffineQuantized> qs = QuantizeAffine(search, x, row_length);
      REQUIRE(qp.ok());
      REQUIRE(qs.ok());
      const std::vector<float> yp = Decode(plain, *qp, row_length, x.size());
      const std::vector<float> ys = Decode(search, *qs, row_length, x.size());
      double total_plain = 0, total_search = 0;
      for (int64_t row = 0; row < 32; ++row) {
        const auto at = static_cast<size_t>(row * row_length);
        const double ep = SquaredError(std::span(x).subspan(at, row_length),
                                       std::span(yp).subspan(at, row_length));
        const double es = SquaredError(std::span(x).subspan(at, row_length),
                                       std::span(ys).subspan(at, row_length));
        REQUIRE(es <= ep);  // one group per row: the search keeps min/max unless it is beaten
        total_plain += ep;
        total_search += es;
      }
      if (bits <= 4) CHECK(total_search < 0.95 * total_plain);
    }
  }
}

}  // namespace
}  // namespace qtk
