// The scale searches and rounding helpers shared by the quantizer families (internal):
// the K-quants, the importance paths of Q4_0 / Q4_1 / Q5_0 / Q5_1, and IQ4_NL / IQ4_XS.
//
// Each function picks a scale (and, for the affine ones, a minimum) for a small group of
// values and the integer levels that go with it, the way ggml-quants.c's helpers of the same
// purpose do. Bit-identity with llama.cpp depends on every detail here: single-precision
// arithmetic in the reference's operation order (this file is built with -ffp-contract=off),
// round-half-to-even through NearestInt, and the same integer truncations when a level is
// stored in an 8-bit slot. Comments name the ggml helper each function mirrors.
//
// Group sizes are at most kMaxGroupSize; scratch lives on the stack.
#ifndef QTK_QUANT_QUANT_SEARCH_H_
#define QTK_QUANT_QUANT_SEARCH_H_

#include <bit>
#include <cmath>
#include <cstdint>

namespace qtk {

// Elements in a super-block of the K-quants and IQ4_XS (ggml's QK_K).
inline constexpr int kSuperBlockSize = 256;
// The largest group any search here handles (legacy blocks and Q4_K/Q5_K sub-blocks: 32).
inline constexpr int kMaxGroupSize = 32;
// Below this absolute maximum a group counts as all zero (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Rounds to the nearest integer, ties to even, by adding 1.5 * 2^23 and reading the low
// mantissa bits (ggml's nearest_int). Exact for |value| <= 4194303; larger values (which the
// reference never asserts against in release builds) give the same wrapped result as ggml.
inline int NearestInt(float value) {
  const float shifted = value + 12582912.f;
  const auto bits = std::bit_cast<int32_t>(shifted);
  return (bits & 0x007fffff) - 0x00400000;
}

// The reference's MAX(lo, MIN(hi, value)) for lo <= hi. (Spelled as comparisons: in the
// affine searches that compiles to faster code than std::max/std::min.)
inline int ClampInt(int value, int lo, int hi) { return value < lo ? lo : value > hi ? hi : value; }

// An integer level as the float the reference multiplies it as.
inline float AsFloat(int value) { return static_cast<float>(value); }

// The element of largest magnitude with its sign (the first one on ties, 0 if all are zero,
// NaNs skipped since they never compare greater); *abs_max receives its magnitude. The
// reference finds the start of every symmetric search this way.
inline float SignedAbsMax(int n, const float* x, float* abs_max) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    // Two selects rather than an if: GCC then emits no branch to mispredict.
    const float ax = std::fabs(x[i]);
    const bool larger = ax > amax;
    max = larger ? x[i] : max;
    amax = larger ? ax : amax;
  }
  *abs_max = amax;
  return max;
}

// x[0] * x[0] + ... + x[n-1] * x[n-1], summed in order.
float SumOfSquares(int64_t n, const float* x);

// x[0] + ... + x[n-1], summed in order.
float SumOf(int n, const float* x);

// The importance paths' weights: weights[i] = importance[i] * sqrt(sigma2 + x[i]^2).
void ImportanceWeights(int n, const float* x, const float* importance, float sigma2,
                       float* weights);

// Symmetric levels in [-nmax, nmax) for x[0..n), stored as level + nmax (so in [0, 2 nmax):
// ggml's int8_t and the legacy formats' uint8_t hold the same values), chosen to maximize
// the weighted projection over 19 candidate scales (ggml's make_qx_quants, rmse_type 1).
// An all-zero group gets levels 0, not nmax. `weights` may be nullptr, meaning x[i]^2.
// Returns the scale (0 for an all-zero group).
// REQUIRES: 0 < n <= kMaxGroupSize, 0 < nmax <= 64.
float MakeSymmetricQuants(int n, int nmax, const float* x, uint8_t* levels, const float* weights);

// Symmetric levels in [-nmax, nmax) refined by coordinate descent on x[i]^2-weighted error
// (ggml's make_q3_quants with do_rmse). Levels are stored as level + nmax, except that an
// all-zero group gets levels 0. Returns the scale.
// REQUIRES: 0 < n <= kMaxGroupSize, 0 < nmax <= 64.
float MakeSymmetricQuantsRefined(int n, int nmax, const float* x, uint8_t* levels);

// Affine levels in [0, nmax] with x ~ scale * level - *negated_min, searching nstep + 1
// candidate scales around nmax / (max - min) and fitting scale and min by weighted least
// squares (ggml's make_qkx2_quants). `use_mad`: absolute instead of squared error.
// Returns the scale; *negated_min receives -min (>= 0).
// REQUIRES: 0 < n <= kMaxGroupSize, weights non-null.
float MakeAffineQuants(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                       float* negated_min, float rmin, float rdelta, int nstep, bool use_mad);

// The importance-aware variant of MakeAffineQuants (ggml's make_qkx3_quants): the same search
// with guards against candidate levels that are out of range, inf or nan.
// REQUIRES: 0 < n <= kMaxGroupSize, weights non-null.
float MakeAffineQuantsWeighted(int n, int nmax, const float* x, const float* weights,
                               uint8_t* levels, float* negated_min, float rmin, float rdelta,
                               int nstep, bool use_mad);

// Non-negative levels in [0, nmax] for non-negative x (sub-block scales or mins), choosing
// among 9 candidate scales by weighted squared error, then refining by coordinate descent
// (ggml's make_qp_quants). Levels are stored in uint8_t exactly as the reference stores them
// (a negative level wraps). Returns the scale (0 for an all-zero group).
// REQUIRES: 0 < n <= kMaxGroupSize, weights non-null.
float MakePositiveQuants(int n, int nmax, const float* x, uint8_t* levels, const float* weights);

}  // namespace qtk

#endif  // QTK_QUANT_QUANT_SEARCH_H_
