// Kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (not implemented yet).
#include "quant_kernels.h"

namespace qtk {

std::span<const QuantKernel> LegacyKernels() { return {}; }

}  // namespace qtk
