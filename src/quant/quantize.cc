// Row quantization entry points: kernel lookup, checks and threading.
#include "qtk/quant/quantize.h"

#include <cmath>
#include <string>

#include "base/parallel.h"
#include "base/value_scan.h"
#include "quant/quant_checks.h"
#include "quant/quant_kernels.h"

namespace qtk {

const QuantKernel* FindQuantKernel(GgmlType type) {
  for (auto family : {FloatKernels(), LegacyKernels(), KQuantKernels(), IqKernels()}) {
    for (const QuantKernel& kernel : family) {
      if (kernel.type == type) return &kernel;
    }
  }
  return nullptr;
}

bool CanQuantize(GgmlType type) {
  const QuantKernel* kernel = FindQuantKernel(type);
  return kernel != nullptr && kernel->quantize_row != nullptr;
}

bool CanDequantize(GgmlType type) {
  const QuantKernel* kernel = FindQuantKernel(type);
  return kernel != nullptr && kernel->dequantize_row != nullptr;
}

bool RequiresImportance(GgmlType type) {
  switch (type) {
    case GgmlType::kIQ2_XXS:
    case GgmlType::kIQ2_XS:
    case GgmlType::kIQ2_S:
    case GgmlType::kIQ1_S:
    case GgmlType::kIQ1_M:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> FindNonFinite(std::span<const float> values) {
  return ScanValues(values).first_non_finite;  // vectorized; exact
}

namespace {

Status CheckShape(GgmlType type, size_t n_values, int64_t row_length, size_t n_bytes) {
  const std::string name(GgmlTypeName(type));
  QTK_RETURN_IF_ERROR(CheckWholeRows(n_values, row_length));
  if (row_length % GgmlBlockSize(type) != 0) {
    return Status::InvalidArgument("row length " + std::to_string(row_length) +
                                   " is not a multiple of " + name + "'s block size " +
                                   std::to_string(GgmlBlockSize(type)));
  }
  const auto n_rows = static_cast<int64_t>(n_values) / row_length;
  const uint64_t expected = static_cast<uint64_t>(n_rows) * GgmlRowBytes(type, row_length);
  if (n_bytes != expected) {
    return Status::InvalidArgument(name + " data is " + std::to_string(n_bytes) +
                                   " bytes, expected " + std::to_string(expected));
  }
  return Status::Ok();
}

}  // namespace

Status QuantizeRows(GgmlType type, std::span<const float> src, int64_t row_length,
                    std::span<uint8_t> dst, const QuantizeOptions& options) {
  const QuantKernel* kernel = FindQuantKernel(type);
  if (kernel == nullptr || kernel->quantize_row == nullptr) {
    return Status::Unsupported("qtk cannot quantize to " + std::string(GgmlTypeName(type)));
  }
  QTK_RETURN_IF_ERROR(CheckShape(type, src.size(), row_length, dst.size()));
  if (RequiresImportance(type) && options.importance.empty()) {
    return Status::InvalidArgument(std::string(GgmlTypeName(type)) +
                                   " needs an importance matrix (--imatrix)");
  }
  if (!options.importance.empty() && options.importance.size() != static_cast<size_t>(row_length)) {
    return Status::InvalidArgument("importance has " + std::to_string(options.importance.size()) +
                                   " weights, the row has " + std::to_string(row_length));
  }
  if (options.check_finite) QTK_RETURN_IF_ERROR(CheckFinite(src, row_length));
  const int64_t n_rows = static_cast<int64_t>(src.size()) / row_length;
  const uint64_t row_bytes = GgmlRowBytes(type, row_length);
  const float* importance = options.importance.empty() ? nullptr : options.importance.data();
  ParallelFor(options.n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      kernel->quantize_row(src.data() + row * row_length,
                           dst.data() + static_cast<uint64_t>(row) * row_bytes, row_length,
                           importance);
    }
  });
  return Status::Ok();
}

Status DequantizeRows(GgmlType type, std::span<const uint8_t> src, int64_t row_length,
                      std::span<float> dst, int n_threads) {
  const QuantKernel* kernel = FindQuantKernel(type);
  if (kernel == nullptr || kernel->dequantize_row == nullptr) {
    return Status::Unsupported("qtk cannot decode " + std::string(GgmlTypeName(type)));
  }
  QTK_RETURN_IF_ERROR(CheckShape(type, dst.size(), row_length, src.size()));
  const int64_t n_rows = static_cast<int64_t>(dst.size()) / row_length;
  const uint64_t row_bytes = GgmlRowBytes(type, row_length);
  ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      kernel->dequantize_row(src.data() + static_cast<uint64_t>(row) * row_bytes,
                             dst.data() + row * row_length, row_length);
    }
  });
  return Status::Ok();
}

}  // namespace qtk
