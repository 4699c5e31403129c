// DecodeToF32: every element type a model file can hold, to F32.
#include "qtk/quant/dtype_convert.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "base/parallel.h"
#include "qtk/base/float_convert.h"
#include "qtk/quant/quantize.h"

namespace qtk {

float F8E4M3ToF32(uint8_t value) {
  const float sign = (value & 0x80) != 0 ? -1.0f : 1.0f;
  const int exponent = (value >> 3) & 0x0F;
  const int mantissa = value & 0x07;
  if (exponent == 0x0F && mantissa == 0x07) return std::numeric_limits<float>::quiet_NaN();
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -9);  // 2^-6 * m/8
  return sign * std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
}

float F8E5M2ToF32(uint8_t value) { return F16ToF32(static_cast<uint16_t>(value << 8)); }

namespace {

// Decodes elements [begin, end) of a plain (non-block) type, element by element via memcpy
// so that any alignment works.
template <typename T, typename Convert>
void DecodeRange(const uint8_t* bytes, float* dst, int64_t begin, int64_t end, Convert convert) {
  for (int64_t i = begin; i < end; ++i) {
    T value;
    std::memcpy(&value, bytes + static_cast<size_t>(i) * sizeof(T), sizeof(T));
    dst[i] = convert(value);
  }
}

template <typename T>
void DecodeIntegers(const uint8_t* bytes, float* dst, int64_t begin, int64_t end) {
  DecodeRange<T>(bytes, dst, begin, end, [](T v) { return static_cast<float>(v); });
}

// The safetensors-only types (those with no ggml equivalent, and all plain ones read from a
// safetensors file share these paths).
Status DecodeSafetensors(SafetensorsDtype dtype, const uint8_t* b, float* dst, int64_t begin,
                         int64_t end) {
  switch (dtype) {
    case SafetensorsDtype::kBool:
      DecodeRange<uint8_t>(b, dst, begin, end, [](uint8_t v) { return v != 0 ? 1.0f : 0.0f; });
      return Status::Ok();
    case SafetensorsDtype::kU8:
      DecodeIntegers<uint8_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kI8:
      DecodeIntegers<int8_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kU16:
      DecodeIntegers<uint16_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kI16:
      DecodeIntegers<int16_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kU32:
      DecodeIntegers<uint32_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kI32:
      DecodeIntegers<int32_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kU64:
      DecodeIntegers<uint64_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kI64:
      DecodeIntegers<int64_t>(b, dst, begin, end);
      return Status::Ok();
    case SafetensorsDtype::kF8_E4M3:
      DecodeRange<uint8_t>(b, dst, begin, end, F8E4M3ToF32);
      return Status::Ok();
    case SafetensorsDtype::kF8_E5M2:
      DecodeRange<uint8_t>(b, dst, begin, end, F8E5M2ToF32);
      return Status::Ok();
    case SafetensorsDtype::kF16:
      ConvertF16BytesToF32({b + begin * 2, static_cast<size_t>(end - begin) * 2},
                           {dst + begin, static_cast<size_t>(end - begin)});
      return Status::Ok();
    case SafetensorsDtype::kBF16:
      ConvertBF16BytesToF32({b + begin * 2, static_cast<size_t>(end - begin) * 2},
                            {dst + begin, static_cast<size_t>(end - begin)});
      return Status::Ok();
    case SafetensorsDtype::kF32:
      std::memcpy(dst + begin, b + static_cast<size_t>(begin) * 4,
                  static_cast<size_t>(end - begin) * 4);
      return Status::Ok();
    case SafetensorsDtype::kF64:
      DecodeRange<double>(b, dst, begin, end, [](double v) { return static_cast<float>(v); });
      return Status::Ok();
  }
  return Status::Unsupported("unknown safetensors dtype");
}

}  // namespace

Status DecodeToF32(TensorDtype dtype, std::span<const uint8_t> bytes, std::span<float> dst,
                   int n_threads) {
  const auto n = static_cast<int64_t>(dst.size());
  if (bytes.size() != dtype.RowBytes(n)) {
    return Status::InvalidArgument(std::string(dtype.name()) + " data is " +
                                   std::to_string(bytes.size()) + " bytes, " + std::to_string(n) +
                                   " elements need " + std::to_string(dtype.RowBytes(n)));
  }
  if (n == 0) return Status::Ok();
  // F16/BF16 take the vectorized bulk converters (at any alignment).
  const std::optional<GgmlType> ggml = dtype.ggml();
  if (ggml == GgmlType::kF16 || ggml == GgmlType::kBF16) {
    const auto convert = ggml == GgmlType::kF16 ? ConvertF16BytesToF32 : ConvertBF16BytesToF32;
    ParallelFor(n_threads, n, [&](int64_t begin, int64_t end) {
      convert(bytes.subspan(static_cast<size_t>(begin) * 2, static_cast<size_t>(end - begin) * 2),
              dst.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin)));
    });
    return Status::Ok();
  }
  if (const std::optional<SafetensorsDtype> st = dtype.safetensors()) {
    Status status;
    ParallelFor(n_threads, n, [&](int64_t begin, int64_t end) {
      Status part = DecodeSafetensors(*st, bytes.data(), dst.data(), begin, end);
      if (!part.ok() && begin == 0) status = part;
    });
    return status;
  }
  if (ggml && (*ggml == GgmlType::kF64 || *ggml == GgmlType::kI8 || *ggml == GgmlType::kI16 ||
               *ggml == GgmlType::kI32 || *ggml == GgmlType::kI64 || *ggml == GgmlType::kF16 ||
               *ggml == GgmlType::kBF16 || *ggml == GgmlType::kF32)) {
    const SafetensorsDtype st = *ggml == GgmlType::kF64    ? SafetensorsDtype::kF64
                                : *ggml == GgmlType::kI8   ? SafetensorsDtype::kI8
                                : *ggml == GgmlType::kI16  ? SafetensorsDtype::kI16
                                : *ggml == GgmlType::kI32  ? SafetensorsDtype::kI32
                                : *ggml == GgmlType::kI64  ? SafetensorsDtype::kI64
                                : *ggml == GgmlType::kF16  ? SafetensorsDtype::kF16
                                : *ggml == GgmlType::kBF16 ? SafetensorsDtype::kBF16
                                                           : SafetensorsDtype::kF32;
    return DecodeToF32(TensorDtype::Safetensors(st), bytes, dst, n_threads);
  }
  if (ggml) return DequantizeRows(*ggml, bytes, n, dst, n_threads);
  return Status::Unsupported("qtk cannot decode " + std::string(dtype.name()));
}

}  // namespace qtk
