// AVX2 twins of the Q8_0 and Q4_0 reference quantizers (quant_legacy.cc).
//
// They must write exactly the reference bytes. Per block, the scale is found with vector
// max (exact: max does not round) and then computed in scalar code with the reference's own
// operations (d = amax / 127 or max / -8, id = 1 / d, F32ToF16). The codes use only
// correctly rounded vector multiplies and adds, which give the same floats as the scalar
// ones, plus exact truncation:
//   Q8_0: roundf(v) = trunc(v) + (|v - trunc(v)| >= 0.5 ? sign(v) : 0), exact for all v.
//   Q4_0: min(15, trunc(v * id + 8.5f)).
// When 1 / d overflows (a block of values around 1e-37 or smaller) the reference converts
// infinities and NaNs to bytes through x86's truncating conversion; such a block is handed
// to the scalar code rather than imitated here.
#include "quant/quant_legacy.h"

#if QTK_HAVE_X86_SIMD

#include <immintrin.h>

#include <cmath>

#include "quant/quant_bytes.h"

namespace qtk {
namespace {

#define QTK_AVX2 __attribute__((target("avx2")))

QTK_AVX2 inline __m256 Abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// The largest of the 8 lanes.
QTK_AVX2 inline float HorizontalMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// roundf, lane by lane, to int32: half away from zero.
QTK_AVX2 inline __m256i RoundHalfAwayToInt(__m256 v) {
  const __m256 truncated = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 fraction = _mm256_sub_ps(v, truncated);  // exact
  const __m256 sign_one =
      _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
  const __m256 round_up = _mm256_cmp_ps(Abs(fraction), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 rounded = _mm256_add_ps(truncated, _mm256_and_ps(round_up, sign_one));
  return _mm256_cvttps_epi32(rounded);
}

// 32 int32 lanes (each in int8 range) to 32 bytes, in order.
QTK_AVX2 inline void StoreInt8x32(uint8_t* y, __m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);      // a0-3 b0-3 | a4-7 b4-7
  const __m256i cd = _mm256_packs_epi32(c, d);      // c0-3 d0-3 | c4-7 d4-7
  const __m256i abcd = _mm256_packs_epi16(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 ...
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), _mm256_permutevar8x32_epi32(abcd, order));
}

// 16 int32 lanes (each in 0..255) to 16 bytes, in order.
QTK_AVX2 inline void StoreUint8x16(uint8_t* y, __m256i a, __m256i b) {
  const __m256i ab = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);  // a0-7 b0-7
  const __m128i bytes =
      _mm_packus_epi16(_mm256_castsi256_si128(ab), _mm256_extracti128_si256(ab, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(y), bytes);
}

}  // namespace

QTK_AVX2 void QuantizeRowQ8_0Avx2(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kLegacyBlockSize;
       ++b, x += kLegacyBlockSize, y += sizeof(BlockQ8_0)) {
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
    const __m256 m =
        _mm256_max_ps(_mm256_max_ps(Abs(v[0]), Abs(v[1])), _mm256_max_ps(Abs(v[2]), Abs(v[3])));
    const float amax = HorizontalMax(m);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (std::isinf(id)) {
      QuantizeRowQ8_0Ref(x, y, kLegacyBlockSize);
      continue;
    }
    StoreF16Le(y, d);
    const __m256 scale = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = RoundHalfAwayToInt(_mm256_mul_ps(v[k], scale));
    StoreInt8x32(y + 2, q[0], q[1], q[2], q[3]);
  }
}

QTK_AVX2 void QuantizeRowQ4_0Avx2(const float* x, uint8_t* y, int64_t n) {
  for (int64_t b = 0; b < n / kLegacyBlockSize;
       ++b, x += kLegacyBlockSize, y += sizeof(BlockQ4_0)) {
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
    const __m256 m =
        _mm256_max_ps(_mm256_max_ps(Abs(v[0]), Abs(v[1])), _mm256_max_ps(Abs(v[2]), Abs(v[3])));
    const float amax = HorizontalMax(m);
    // The reference keeps the first element of largest magnitude, sign included, and +0
    // when every element is zero (so an all-zero block gets d = -0).
    float max = 0.0f;
    if (amax > 0.0f) {
      const __m256 target = _mm256_set1_ps(amax);
      uint32_t hits = 0;
      for (int k = 0; k < 4; ++k) {
        const int mask = _mm256_movemask_ps(_mm256_cmp_ps(Abs(v[k]), target, _CMP_EQ_OQ));
        hits |= static_cast<uint32_t>(mask) << (8 * k);
      }
      max = x[__builtin_ctz(hits)];
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (std::isinf(id)) {
      QuantizeRowQ4_0Ref(x, y, kLegacyBlockSize);
      continue;
    }
    StoreF16Le(y, d);
    const __m256 scale = _mm256_set1_ps(id);
    const __m256 offset = _mm256_set1_ps(8.5f);
    const __m256i top = _mm256_set1_epi32(15);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 shifted = _mm256_add_ps(_mm256_mul_ps(v[k], scale), offset);
      q[k] = _mm256_min_epi32(_mm256_cvttps_epi32(shifted), top);
    }
    // Element j in the low nibble, element j + 16 in the high one.
    const __m256i lo = _mm256_or_si256(q[0], _mm256_slli_epi32(q[2], 4));
    const __m256i hi = _mm256_or_si256(q[1], _mm256_slli_epi32(q[3], 4));
    StoreUint8x16(y + 2, lo, hi);
  }
}

#undef QTK_AVX2

}  // namespace qtk

#endif  // QTK_HAVE_X86_SIMD
