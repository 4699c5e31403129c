// Plain float "kernels": F32 (a copy), F16 and BF16 (round to nearest even).
#include <array>
#include <cstring>

#include "qtk/float_convert.h"
#include "quant_kernels.h"

namespace qtk {
namespace {

void QuantizeRowF32(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}
void DequantizeRowF32(const uint8_t* y, float* x, int64_t n) {
  std::memcpy(x, y, static_cast<size_t>(n) * sizeof(float));
}

void QuantizeRowF16(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = F32ToF16(x[i]);
    std::memcpy(y + 2 * i, &h, 2);
  }
}
void DequantizeRowF16(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, y + 2 * i, 2);
    x[i] = F16ToF32(h);
  }
}

void QuantizeRowBF16(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t b = F32ToBF16(x[i]);
    std::memcpy(y + 2 * i, &b, 2);
  }
}
void DequantizeRowBF16(const uint8_t* y, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t b;
    std::memcpy(&b, y + 2 * i, 2);
    x[i] = BF16ToF32(b);
  }
}

constexpr std::array<QuantKernel, 3> kFloatKernels = {{
    {GgmlType::kF32, QuantizeRowF32, DequantizeRowF32, false},
    {GgmlType::kF16, QuantizeRowF16, DequantizeRowF16, false},
    {GgmlType::kBF16, QuantizeRowBF16, DequantizeRowBF16, false},
}};

}  // namespace

std::span<const QuantKernel> FloatKernels() { return kFloatKernels; }

}  // namespace qtk
