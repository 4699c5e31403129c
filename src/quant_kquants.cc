// Kernels for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (not implemented yet).
#include "quant_kernels.h"

namespace qtk {

std::span<const QuantKernel> KQuantKernels() { return {}; }

}  // namespace qtk
