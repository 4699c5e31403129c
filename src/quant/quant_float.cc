// Plain float "kernels": F32 (a copy), F16 and BF16 (round to nearest even).
#include <array>
#include <cstring>

#include "quant/quant_bytes.h"
#include "quant/quant_kernels.h"

namespace qtk {
namespace {

void QuantizeRowF32(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}
void DequantizeRowF32(const uint8_t* y, float* x, int64_t n) {
  std::memcpy(x, y, static_cast<size_t>(n) * sizeof(float));
}

void QuantizeRowF16(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t i = 0; i < n; ++i) StoreU16Le(y + 2 * i, F32ToF16(x[i]));
}
void DequantizeRowF16(const uint8_t* y, float* x, int64_t n) {
  ConvertF16BytesToF32({y, static_cast<size_t>(n) * 2}, {x, static_cast<size_t>(n)});
}

void QuantizeRowBF16(const float* x, uint8_t* y, int64_t n, const float* /*importance*/) {
  for (int64_t i = 0; i < n; ++i) StoreU16Le(y + 2 * i, F32ToBF16(x[i]));
}
void DequantizeRowBF16(const uint8_t* y, float* x, int64_t n) {
  ConvertBF16BytesToF32({y, static_cast<size_t>(n) * 2}, {x, static_cast<size_t>(n)});
}

constexpr std::array<QuantKernel, 3> kFloatKernels = {{
    {GgmlType::kF32, QuantizeRowF32, DequantizeRowF32},
    {GgmlType::kF16, QuantizeRowF16, DequantizeRowF16},
    {GgmlType::kBF16, QuantizeRowBF16, DequantizeRowBF16},
}};

}  // namespace

std::span<const QuantKernel> FloatKernels() { return kFloatKernels; }

}  // namespace qtk
