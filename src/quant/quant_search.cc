// The scale searches shared by the quantizer families (see quant_search.h). Every expression
// keeps the reference's evaluation order: a*b*c is (a*b)*c, integer levels are converted to
// float where the reference converts them, and comparisons are the reference's own (> vs >=,
// nan behaviour).
#include "quant/quant_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qtk {
namespace {

// A symmetric level in [-nmax, nmax): ClampInt's value, spelled as the reference spells it
// with max and min, which GCC vectorizes in SymmetricSums (it leaves ClampInt's comparisons
// scalar there, as it cannot order the bounds -nmax and nmax - 1 itself).
int SymmetricLevel(int nmax, float iscale, float x) {
  return std::max(-nmax, std::min(nmax - 1, NearestInt(iscale * x)));
}

// Weighted sums for the symmetric levels at inverse scale `iscale`. The terms are formed
// first, in a loop the compiler vectorizes, then added in order as the reference adds them.
void SymmetricSums(int n, int nmax, const float* x, const float* weights, float iscale,
                   float* sumlx, float* suml2) {
  float lx_terms[kMaxGroupSize];
  float l2_terms[kMaxGroupSize];
  for (int i = 0; i < n; ++i) {
    const float l = AsFloat(SymmetricLevel(nmax, iscale, x[i]));
    lx_terms[i] = weights[i] * x[i] * l;
    l2_terms[i] = weights[i] * l * l;
  }
  float slx = 0;
  float sl2 = 0;
  for (int i = 0; i < n; ++i) {
    slx += lx_terms[i];
    sl2 += l2_terms[i];
  }
  *sumlx = slx;
  *suml2 = sl2;
}

// The levels at inverse scale `iscale`, offset by nmax.
void SymmetricLevels(int n, int nmax, const float* x, float iscale, uint8_t* levels) {
  for (int i = 0; i < n; ++i) {
    levels[i] = static_cast<uint8_t>(SymmetricLevel(nmax, iscale, x[i]) + nmax);
  }
}

}  // namespace

float SumOfSquares(int64_t n, const float* x) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
  return sum;
}

float SumOf(int n, const float* x) {
  float sum = 0;
  for (int i = 0; i < n; ++i) sum += x[i];
  return sum;
}

void ImportanceWeights(int n, const float* x, const float* importance, float sigma2,
                       float* weights) {
  for (int i = 0; i < n; ++i) weights[i] = importance[i] * std::sqrt(sigma2 + x[i] * x[i]);
}

float MakeSymmetricQuants(int n, int nmax, const float* x, uint8_t* levels, const float* weights) {
  float amax = 0;
  const float max = SignedAbsMax(n, x, &amax);
  if (amax < kGroupMaxEps) {
    std::memset(levels, 0, static_cast<size_t>(n));
    return 0.f;
  }
  float squares[kMaxGroupSize];  // the default weights, the same floats as computed in place
  if (weights == nullptr) {
    for (int i = 0; i < n; ++i) squares[i] = x[i] * x[i];
    weights = squares;
  }
  float sumlx = 0;
  float suml2 = 0;
  const float iscale = AsFloat(-nmax) / max;
  SymmetricSums(n, nmax, x, weights, iscale, &sumlx, &suml2);
  SymmetricLevels(n, nmax, x, iscale, levels);
  float scale = suml2 != 0.f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  // Nudge the inverse scale around -nmax / max; keep whichever maximizes sumlx^2 / suml2.
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float iscale_is = -(AsFloat(nmax) + 0.1f * AsFloat(is)) / max;
    SymmetricSums(n, nmax, x, weights, iscale_is, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      SymmetricLevels(n, nmax, x, iscale_is, levels);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float MakeSymmetricQuantsRefined(int n, int nmax, const float* x, uint8_t* levels) {
  float amax = 0;
  const float max = SignedAbsMax(n, x, &amax);
  if (amax < kGroupMaxEps) {
    std::memset(levels, 0, static_cast<size_t>(n));
    return 0.f;
  }
  const float iscale = AsFloat(-nmax) / max;
  int8_t signed_levels[kMaxGroupSize];  // in [-nmax, nmax) until the end, as in the reference
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampInt(NearestInt(iscale * x[i]), -nmax, nmax - 1);
    signed_levels[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * AsFloat(l);
    suml2 += w * AsFloat(l) * AsFloat(l);
  }
  // Coordinate descent: move one level at a time while sumlx^2 / suml2 grows.
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * AsFloat(signed_levels[i]);
      if (slx > 0) {
        float sl2 = suml2 - w * AsFloat(signed_levels[i]) * AsFloat(signed_levels[i]);
        const int new_l = ClampInt(NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (new_l != signed_levels[i]) {
          slx += w * x[i] * AsFloat(new_l);
          sl2 += w * AsFloat(new_l) * AsFloat(new_l);
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            signed_levels[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (n_changed == 0) break;
  }
  for (int i = 0; i < n; ++i) levels[i] = static_cast<uint8_t>(signed_levels[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

namespace {

// One affine search: the group's statistics, its options and the best fit so far.
class AffineSearch {
 public:
  // `guarded` selects make_qkx3_quants' handling of candidate levels (clip the scaled value
  // before rounding) over make_qkx2_quants' (round, then clamp).
  AffineSearch(int n, int nmax, const float* x, const float* weights, bool use_mad, bool guarded)
      : n_(n), nmax_(nmax), x_(x), weights_(weights), use_mad_(use_mad), guarded_(guarded) {}

  float Run(uint8_t* levels, float* negated_min, float rmin, float rdelta, int nstep) {
    Summarize();
    if (guarded_ ? max_ <= min_ : max_ == min_) {
      std::memset(levels, 0, static_cast<size_t>(n_));
      *negated_min = -min_;
      return 0.f;
    }
    const float iscale = AsFloat(nmax_) / (max_ - min_);
    scale_ = 1 / iscale;
    for (int i = 0; i < n_; ++i) {
      levels[i] = static_cast<uint8_t>(ClampInt(NearestInt(iscale * (x_[i] - min_)), 0, nmax_));
    }
    best_error_ = Error(scale_, min_, levels);
    if (nstep >= 1) {
      for (int is = 0; is <= nstep; ++is) {
        // min_ is the best fit so far, so later candidates are measured from it.
        TryCandidate((rmin + rdelta * AsFloat(is) + AsFloat(nmax_)) / (max_ - min_), levels);
      }
    }
    *negated_min = -min_;
    return scale_;
  }

 private:
  // Range (with the minimum capped at 0), total weight and weighted sum of the group.
  void Summarize() {
    min_ = x_[0];
    max_ = x_[0];
    sum_w_ = weights_[0];
    sum_x_ = sum_w_ * x_[0];
    for (int i = 1; i < n_; ++i) {
      if (x_[i] < min_) min_ = x_[i];
      if (x_[i] > max_) max_ = x_[i];
      const float w = weights_[i];
      sum_w_ += w;
      sum_x_ += w * x_[i];
    }
    if (min_ > 0) min_ = 0;
  }

  // Weighted absolute or squared error of x ~ scale * level + min.
  float Error(float scale, float min, const uint8_t* levels) const {
    float error = 0;
    for (int i = 0; i < n_; ++i) {
      float diff = scale * AsFloat(levels[i]) + min - x_[i];
      diff = use_mad_ ? std::fabs(diff) : diff * diff;
      error += weights_[i] * diff;
    }
    return error;
  }

  int CandidateLevel(float iscale, int i) const {
    if (!guarded_) return ClampInt(NearestInt(iscale * (x_[i] - min_)), 0, nmax_);
    const float v = iscale * (x_[i] - min_);  // may be inf or nan when min_ nears max_
    return v > 0 ? NearestInt(v < AsFloat(nmax_) ? v : AsFloat(nmax_)) : 0;
  }

  // Rounds at `iscale`, fits scale and min by weighted least squares, keeps them if better.
  void TryCandidate(float iscale, uint8_t* levels) {
    uint8_t candidate[kMaxGroupSize];
    float sum_l = 0;
    float sum_l2 = 0;
    float sum_xl = 0;
    for (int i = 0; i < n_; ++i) {
      const int l = CandidateLevel(iscale, i);
      candidate[i] = static_cast<uint8_t>(l);
      const float w = weights_[i];
      sum_l += w * AsFloat(l);
      sum_l2 += w * AsFloat(l) * AsFloat(l);
      sum_xl += w * AsFloat(l) * x_[i];
    }
    const float det = sum_w_ * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) return;
    float this_scale = (sum_w_ * sum_xl - sum_x_ * sum_l) / det;
    float this_min = (sum_l2 * sum_x_ - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    const float error = Error(this_scale, this_min, candidate);
    if (error < best_error_) {
      std::memcpy(levels, candidate, static_cast<size_t>(n_));
      best_error_ = error;
      scale_ = this_scale;
      min_ = this_min;
    }
  }

  const int n_;
  const int nmax_;
  const float* const x_;
  const float* const weights_;
  const bool use_mad_;
  const bool guarded_;
  float min_ = 0;
  float max_ = 0;
  float sum_w_ = 0;
  float sum_x_ = 0;
  float scale_ = 0;
  float best_error_ = 0;
};

}  // namespace

float MakeAffineQuants(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                       float* negated_min, float rmin, float rdelta, int nstep, bool use_mad) {
  return AffineSearch(n, nmax, x, weights, use_mad, /*guarded=*/false)
      .Run(levels, negated_min, rmin, rdelta, nstep);
}

float MakeAffineQuantsWeighted(int n, int nmax, const float* x, const float* weights,
                               uint8_t* levels, float* negated_min, float rmin, float rdelta,
                               int nstep, bool use_mad) {
  return AffineSearch(n, nmax, x, weights, use_mad, /*guarded=*/true)
      .Run(levels, negated_min, rmin, rdelta, nstep);
}

namespace {

// Weighted squared error of x ~ level / iscale with levels capped at nmax.
float PositiveError(int n, int nmax, const float* x, const float* weights, float iscale) {
  const float scale = 1 / iscale;
  float mse = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, NearestInt(iscale * x[i]));
    const float diff = x[i] - scale * AsFloat(l);
    mse += weights[i] * diff * diff;
  }
  return mse;
}

// make_qp_quants' choice among nmax / max and 8 nearby inverse scales.
float ChoosePositiveInverseScale(int n, int nmax, const float* x, const float* weights, float max,
                                 uint8_t* levels) {
  float iscale = AsFloat(nmax) / max;
  // The first error uses the uncapped levels, stored in 8 bits as the reference stores them.
  for (int i = 0; i < n; ++i) levels[i] = static_cast<uint8_t>(NearestInt(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * AsFloat(levels[i]);
    best_mse += weights[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    const float iscale_is = (0.1f * AsFloat(is) + AsFloat(nmax)) / max;
    const float mse = PositiveError(n, nmax, x, weights, iscale_is);
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  return iscale;
}

}  // namespace

float MakePositiveQuants(int n, int nmax, const float* x, uint8_t* levels, const float* weights) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
  if (max < kGroupMaxEps) {
    std::memset(levels, 0, static_cast<size_t>(n));
    return 0.f;
  }
  const float iscale = ChoosePositiveInverseScale(n, nmax, x, weights, max, levels);
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, NearestInt(iscale * x[i]));
    levels[i] = static_cast<uint8_t>(l);
    sumlx += weights[i] * x[i] * AsFloat(l);
    suml2 += weights[i] * AsFloat(l) * AsFloat(l);
  }
  // Coordinate descent: move one level at a time while sumlx^2 / suml2 grows.
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = weights[i];
      float slx = sumlx - w * x[i] * AsFloat(levels[i]);
      float sl2 = suml2 - w * AsFloat(levels[i]) * AsFloat(levels[i]);
      if (slx > 0 && sl2 > 0) {
        const int new_l = std::min(nmax, NearestInt(x[i] * sl2 / slx));
        if (new_l != levels[i]) {
          slx += w * x[i] * AsFloat(new_l);
          sl2 += w * AsFloat(new_l) * AsFloat(new_l);
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            levels[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (n_changed == 0) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

}  // namespace qtk
