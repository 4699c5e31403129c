// The K-quant kernel table: Q2_K, Q3_K, Q4_K, Q5_K and Q6_K (256-element super-blocks).
//
// Block layouts are described in kquant_blocks.h, the shared scale searches in
// quant_search.h, and each family's quantizer in kquant_q2_q3.cc, kquant_q4_q5.cc and
// kquant_q6.cc. Without importance each kernel reproduces ggml's quantize_row_q*_K_ref; with
// per-column importance, the quantize_q*_K path that llama-quantize takes for --imatrix.
#include <array>

#include "quant/kquant_blocks.h"
#include "quant/quant_kernels.h"

namespace qtk {
namespace {

constexpr std::array<QuantKernel, 5> kKQuantKernels = {{
    {GgmlType::kQ2_K, QuantizeRowQ2K, DequantizeRowQ2K},
    {GgmlType::kQ3_K, QuantizeRowQ3K, DequantizeRowQ3K},
    {GgmlType::kQ4_K, QuantizeRowQ4K, DequantizeRowQ4K},
    {GgmlType::kQ5_K, QuantizeRowQ5K, DequantizeRowQ5K},
    {GgmlType::kQ6_K, QuantizeRowQ6K, DequantizeRowQ6K},
}};

}  // namespace

std::span<const QuantKernel> KQuantKernels() { return kKQuantKernels; }

}  // namespace qtk
