// ggml's activation formats (ggml-quants.c: quantize_row_q8_0/q8_1/q8_K; fp16/bf16
// conversion), quantized and decoded in one step.
#include "eval/activation_rounding.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <vector>

#include "qtk/base/float_convert.h"
#include "qtk/format/ggml_type.h"
#include "qtk/quant/quantize.h"

namespace qtk {
namespace {

// Round half to even for |x| < 2^22, as ggml's nearest_int: adding 1.5·2^23 leaves the
// integer in the low mantissa bits under the default rounding mode.
float NearestInt(float x) {
  constexpr float kMagic = 12582912.f;
  return (x + kMagic) - kMagic;
}

// x rounded to the nearest F16 value (ties to even) and back: in the F16 normal range by
// cutting the 13 low mantissa bits; elsewhere (subnormal, overflow, NaN) by conversion.
float RoundThroughF16(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude >= 0x38800000u && magnitude < 0x477FF000u) {  // [2^-14, 65520)
    bits += 0xFFFu + ((bits >> 13) & 1u);
    return std::bit_cast<float>(bits & 0xFFFFE000u);
  }
  return F16ToF32(F32ToF16(x));
}

// Q8_0 and Q8_1: d = amax/127 (kept as F16), q = round(x · 127/amax), x̂ = d·q.
void RoundQ8Block32(std::span<float> block) {
  float amax = 0;
  for (float x : block) amax = std::max(amax, std::fabs(x));
  const float d = amax / 127.f;
  const float id = amax != 0 ? 127.f / amax : 0.0f;
  const float stored_d = F16ToF32(F32ToF16(d));
  for (float& x : block) x = stored_d * NearestInt(x * id);
}

// Q8_K: the value of largest magnitude sets iscale = −127/max, q = nearest(iscale·x)
// capped at 127, x̂ = q / iscale.
void RoundQ8KBlock(std::span<float> block) {
  float amax = 0;
  float max = 0;
  for (float x : block) {
    if (std::fabs(x) > amax) {
      amax = std::fabs(x);
      max = x;
    }
  }
  if (amax == 0) {
    std::fill(block.begin(), block.end(), 0.0f);
    return;
  }
  const float iscale = -127.f / max;
  const float d = 1 / iscale;
  for (float& x : block) x = d * std::min(127.0f, NearestInt(iscale * x));
}

// Q4_0 (a KV cache's; ggml's from_float for Q4_0 is quantize_row_q4_0_ref): qtk's own Q4_0
// kernel, bit-identical to it, there and back, over the whole 32-blocks of the row.
void RoundQ4Blocks(std::span<float> row) {
  const size_t n = row.size() / 32 * 32;
  if (n == 0) return;
  const std::span<float> blocks = row.first(n);
  const auto length = static_cast<int64_t>(n);
  std::vector<uint8_t> bytes(GgmlRowBytes(GgmlType::kQ4_0, length));
  QuantizeOptions options;
  options.check_finite = false;  // values are rounded as they are, NaN included, as ggml does
  const Status quantized = QuantizeRows(GgmlType::kQ4_0, blocks, length, bytes, options);
  const Status decoded = DequantizeRows(GgmlType::kQ4_0, bytes, length, blocks);
  assert(quantized.ok() && decoded.ok());  // sizes are right by construction
  (void)quantized;
  (void)decoded;
}

}  // namespace

ActivationFormat GgmlActivationFormat(std::string_view type) {
  if (type == "F16") return ActivationFormat::kF16;
  if (type == "BF16") return ActivationFormat::kBF16;
  for (std::string_view q8_0 : {"Q4_0", "Q5_0", "Q8_0", "IQ4_NL", "MXFP4"}) {
    if (type == q8_0) return ActivationFormat::kQ8_0;
  }
  if (type == "Q4_1" || type == "Q5_1") return ActivationFormat::kQ8_1;
  for (std::string_view q8_k :
       {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
        "IQ1_S", "IQ1_M", "IQ4_XS", "TQ1_0", "TQ2_0"}) {
    if (type == q8_k) return ActivationFormat::kQ8_K;
  }
  return ActivationFormat::kF32;
}

void RoundActivations(ActivationFormat format, std::span<float> row) {
  switch (format) {
    case ActivationFormat::kF32:
      return;
    case ActivationFormat::kF16:
      for (float& x : row) x = RoundThroughF16(x);
      return;
    case ActivationFormat::kBF16:
      for (float& x : row) x = BF16ToF32(F32ToBF16(x));
      return;
    case ActivationFormat::kQ8_0:
    case ActivationFormat::kQ8_1:
      for (size_t i = 0; i + 32 <= row.size(); i += 32) RoundQ8Block32(row.subspan(i, 32));
      return;
    case ActivationFormat::kQ4_0:
      RoundQ4Blocks(row);
      return;
    case ActivationFormat::kQ8_K:
      for (size_t i = 0; i + 256 <= row.size(); i += 256) RoundQ8KBlock(row.subspan(i, 256));
      return;
  }
}

}  // namespace qtk
