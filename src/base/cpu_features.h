// Run-time CPU feature checks for the optional SIMD paths (internal).
//
// Every SIMD path in qtk has a scalar twin that is the reference: the SIMD version must give
// exactly the same bytes, and is used only when the running CPU has the instructions. The
// SIMD functions are compiled with __attribute__((target(...))), so the rest of the library
// stays baseline x86-64 and runs anywhere.
#ifndef QTK_BASE_CPU_FEATURES_H_
#define QTK_BASE_CPU_FEATURES_H_

#if defined(__x86_64__) && defined(__GNUC__)
#define QTK_HAVE_X86_SIMD 1
#include <cpuid.h>
#else
#define QTK_HAVE_X86_SIMD 0
#endif

namespace qtk {

// True if the running CPU (and OS) support AVX2.
inline bool CpuHasAvx2() {
#if QTK_HAVE_X86_SIMD
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// True if the running CPU supports AVX2 and the F16C half-precision conversions.
inline bool CpuHasAvx2F16c() {
#if QTK_HAVE_X86_SIMD
#if defined(__clang__)
  // clang 14's __builtin_cpu_supports does not know "f16c": ask cpuid (leaf 1, ecx).
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  return __builtin_cpu_supports("avx2") && f16c;
#else
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#endif
#else
  return false;
#endif
}

}  // namespace qtk

#endif  // QTK_BASE_CPU_FEATURES_H_
