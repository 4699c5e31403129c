// The kernel table for IQ4_NL, IQ4_XS, TQ1_0, TQ2_0 and MXFP4.
//
// Block layouts in brief (all little-endian; the files named below hold the full spec):
//   IQ4_NL  32 elements, 18 bytes: f16 d | 16 bytes of 4-bit indices into a
//           non-linear 16-value table (quant_iq4.cc)
//   IQ4_XS  256 elements, 136 bytes: f16 d | u16 scales_h | 4 bytes scales_l |
//           128 bytes of indices; eight 32-element sub-blocks with 6-bit scales (quant_iq4.cc)
//   TQ1_0   256 elements, 54 bytes: 48 bytes of five trits each | 4 bytes of four trits
//           each | f16 d (quant_ternary.cc)
//   TQ2_0   256 elements, 66 bytes: 64 bytes of four 2-bit values each | f16 d
//           (quant_ternary.cc)
//   MXFP4   32 elements, 17 bytes: E8M0 exponent byte | 16 bytes of E2M1 nibbles
//           (quant_mxfp4.cc)
#include <array>

#include "quant/quant_iq_rows.h"
#include "quant/quant_kernels.h"

namespace qtk {
namespace {

constexpr std::array<QuantKernel, 5> kIqKernels = {{
    {GgmlType::kIQ4_NL, QuantizeRowIq4Nl, DequantizeRowIq4Nl},
    {GgmlType::kIQ4_XS, QuantizeRowIq4Xs, DequantizeRowIq4Xs},
    {GgmlType::kTQ1_0, QuantizeRowTq1_0, DequantizeRowTq1_0},
    {GgmlType::kTQ2_0, QuantizeRowTq2_0, DequantizeRowTq2_0},
    {GgmlType::kMXFP4, QuantizeRowMxfp4, DequantizeRowMxfp4},
}};

}  // namespace

std::span<const QuantKernel> IqKernels() { return kIqKernels; }

}  // namespace qtk
