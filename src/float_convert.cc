#include "qtk/float_convert.h"

#include <cassert>

namespace qtk {

void ConvertF16ToF32(std::span<const uint16_t> src, std::span<float> dst) {
  assert(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i] = F16ToF32(src[i]);
}

void ConvertBF16ToF32(std::span<const uint16_t> src, std::span<float> dst) {
  assert(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i] = BF16ToF32(src[i]);
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
