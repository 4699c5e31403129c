// Kernels for IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4 (not implemented yet).
#include "quant_kernels.h"

namespace qtk {

std::span<const QuantKernel> IqKernels() { return {}; }

}  // namespace qtk
