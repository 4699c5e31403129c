// Bulk float conversions. F16 -> F32 and BF16 -> F32 have AVX2 paths (F16C for F16), used
// when the running CPU has them; the scalar loops are the reference they must match. The
// byte versions read little-endian halves at any address: safetensors data offsets are often
// odd, and the SIMD loads do not care.
#include "qtk/base/float_convert.h"

#include <cassert>
#include <cstring>

#include "base/float_convert_paths.h"

#if QTK_HAVE_X86_SIMD
#include <immintrin.h>
#endif

namespace qtk {

void ConvertF16ToF32Scalar(std::span<const uint16_t> src, std::span<float> dst) {
  assert(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i] = F16ToF32(src[i]);
}

void ConvertBF16ToF32Scalar(std::span<const uint16_t> src, std::span<float> dst) {
  assert(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i] = BF16ToF32(src[i]);
}

namespace {

// Half i of little-endian bytes at any alignment.
inline uint16_t LoadHalf(const uint8_t* src, size_t i) {
  return static_cast<uint16_t>(src[2 * i] | (src[2 * i + 1] << 8));
}

// Views 16-bit values as their bytes: the SIMD paths exist only on x86, which is
// little-endian, so the two agree there.
std::span<const uint8_t> AsBytes(std::span<const uint16_t> src) {
  return {reinterpret_cast<const uint8_t*>(src.data()), src.size_bytes()};
}

}  // namespace

void ConvertF16BytesToF32Scalar(std::span<const uint8_t> src, std::span<float> dst) {
  assert(src.size() == 2 * dst.size());
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = F16ToF32(LoadHalf(src.data(), i));
}

void ConvertBF16BytesToF32Scalar(std::span<const uint8_t> src, std::span<float> dst) {
  assert(src.size() == 2 * dst.size());
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = BF16ToF32(LoadHalf(src.data(), i));
}

#if QTK_HAVE_X86_SIMD

__attribute__((target("avx2,f16c"))) void ConvertF16BytesToF32F16c(std::span<const uint8_t> src,
                                                                   std::span<float> dst) {
  assert(src.size() == 2 * dst.size());
  const __m128i magnitude_mask = _mm_set1_epi16(0x7FFF);
  const __m128i infinity = _mm_set1_epi16(0x7C00);
  size_t i = 0;
  for (; i + 8 <= dst.size(); i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src.data() + 2 * i));
    // A NaN has a magnitude above infinity's; compared as int16, which 0x7FFF fits.
    const __m128i nan = _mm_cmpgt_epi16(_mm_and_si128(h, magnitude_mask), infinity);
    if (_mm_testz_si128(nan, nan)) {
      _mm256_storeu_ps(dst.data() + i, _mm256_cvtph_ps(h));
    } else {
      for (size_t k = i; k < i + 8; ++k) dst[k] = F16ToF32(LoadHalf(src.data(), k));
    }
  }
  for (; i < dst.size(); ++i) dst[i] = F16ToF32(LoadHalf(src.data(), i));
}

__attribute__((target("avx2"))) void ConvertBF16BytesToF32Avx2(std::span<const uint8_t> src,
                                                               std::span<float> dst) {
  assert(src.size() == 2 * dst.size());
  size_t i = 0;
  for (; i + 8 <= dst.size(); i += 8) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src.data() + 2 * i));
    const __m256i bits = _mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst.data() + i), bits);
  }
  for (; i < dst.size(); ++i) dst[i] = BF16ToF32(LoadHalf(src.data(), i));
}

void ConvertF16ToF32F16c(std::span<const uint16_t> src, std::span<float> dst) {
  ConvertF16BytesToF32F16c(AsBytes(src), dst);
}

void ConvertBF16ToF32Avx2(std::span<const uint16_t> src, std::span<float> dst) {
  ConvertBF16BytesToF32Avx2(AsBytes(src), dst);
}

#endif  // QTK_HAVE_X86_SIMD

void ConvertF16BytesToF32(std::span<const uint8_t> src, std::span<float> dst) {
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2F16c()) return ConvertF16BytesToF32F16c(src, dst);
#endif
  ConvertF16BytesToF32Scalar(src, dst);
}

void ConvertBF16BytesToF32(std::span<const uint8_t> src, std::span<float> dst) {
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2()) return ConvertBF16BytesToF32Avx2(src, dst);
#endif
  ConvertBF16BytesToF32Scalar(src, dst);
}

void ConvertF16ToF32(std::span<const uint16_t> src, std::span<float> dst) {
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2F16c()) return ConvertF16ToF32F16c(src, dst);
#endif
  ConvertF16ToF32Scalar(src, dst);
}

void ConvertBF16ToF32(std::span<const uint16_t> src, std::span<float> dst) {
#if QTK_HAVE_X86_SIMD
  if (CpuHasAvx2()) return ConvertBF16ToF32Avx2(src, dst);
#endif
  ConvertBF16ToF32Scalar(src, dst);
}

void ConvertF32ToF16(std::span<const float> src, std::span<uint16_t> dst) {
  assert(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i] = F32ToF16(src[i]);
}

void ConvertF32ToBF16(std::span<const float> src, std::span<uint16_t> dst) {
  assert(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i] = F32ToBF16(src[i]);
}

}  // namespace qtk
