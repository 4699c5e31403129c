// Scheme bytes: quantizing into the planned tensors, decoding them back from a GGUF file,
// and measuring a scheme's error in memory.
#include <cstring>
#include <string>
#include <vector>

#include "qtk/base/float_convert.h"
#include "qtk/quant/quantize.h"
#include "qtk/scheme/scheme.h"
#include "quant/quant_checks.h"
#include "scheme/scheme_layout.h"

namespace qtk {
namespace {

using TensorBytes = std::vector<uint8_t>;

// ggml's Q8_0 and Q4_0 blocks: an F16 scale, then the 32 codes.
constexpr int64_t kGgmlBlock = 32;

TensorBytes FloatBytes(std::span<const float> values, GgmlType type) {
  TensorBytes bytes(values.size() * (type == GgmlType::kF16 ? 2 : 4));
  if (type == GgmlType::kF16) {
    for (size_t i = 0; i < values.size(); ++i) {
      const uint16_t half = F32ToF16(values[i]);
      std::memcpy(bytes.data() + 2 * i, &half, 2);
    }
  } else if (!values.empty()) {
    std::memcpy(bytes.data(), values.data(), bytes.size());
  }
  return bytes;
}

// REQUIRES: bytes.size() is a multiple of the element size of `type` (F16 or F32).
std::vector<float> FloatsFrom(std::span<const uint8_t> bytes, GgmlType type) {
  if (type == GgmlType::kF16) {
    std::vector<uint16_t> halves(bytes.size() / 2);
    if (!halves.empty()) std::memcpy(halves.data(), bytes.data(), halves.size() * 2);
    std::vector<float> values(halves.size());
    ConvertF16ToF32(halves, values);
    return values;
  }
  std::vector<float> values(bytes.size() / 4);
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * 4);
  return values;
}

void PutHalf(uint8_t* out, float value) {
  const uint16_t half = F32ToF16(value);
  std::memcpy(out, &half, 2);
}

// Rows of Q8_0 (or Q4_0) blocks from symmetric group-32 affine output with F16 scales.
TensorBytes PackGgmlBlocks(GgmlType type, const AffineSpec& spec, const AffineQuantized& q,
                           const SchemeLayout& layout) {
  const int64_t row_codes = AffineRowBytes(spec, layout.row_length);
  const int64_t blocks_per_row = layout.row_length / kGgmlBlock;
  const auto block_bytes = static_cast<size_t>(GgmlTypeSize(type));
  TensorBytes bytes(static_cast<size_t>(layout.n_rows * blocks_per_row) * block_bytes);
  for (int64_t row = 0; row < layout.n_rows; ++row) {
    const std::span<const uint8_t> codes(q.codes.data() + row * row_codes,
                                         static_cast<size_t>(row_codes));
    for (int64_t b = 0; b < blocks_per_row; ++b) {
      const auto index = static_cast<size_t>(row * blocks_per_row + b);
      uint8_t* block = bytes.data() + index * block_bytes;
      PutHalf(block, q.scales[index]);
      if (type == GgmlType::kQ8_0) {
        std::memcpy(block + 2, codes.data() + b * kGgmlBlock, kGgmlBlock);
        continue;
      }
      // Q4_0: element j in the low nibble of byte j, element j + 16 in its high nibble.
      for (int64_t j = 0; j < kGgmlBlock / 2; ++j) {
        const int low = AffineCodeAt(spec, codes, b * kGgmlBlock + j) + 8;
        const int high = AffineCodeAt(spec, codes, b * kGgmlBlock + j + kGgmlBlock / 2) + 8;
        block[2 + j] = static_cast<uint8_t>(low | (high << 4));
      }
    }
  }
  return bytes;
}

Result<std::vector<TensorBytes>> QuantizeAffineScheme(const AffineSpec& spec,
                                                      const SchemeLayout& layout,
                                                      std::span<const float> values,
                                                      int n_threads) {
  QTK_ASSIGN_OR_RETURN(AffineQuantized q,
                       QuantizeAffine(spec, values, layout.row_length, n_threads));
  std::vector<TensorBytes> tensors;
  if (layout.ggml_type) {
    tensors.push_back(PackGgmlBlocks(*layout.ggml_type, spec, q, layout));
    return tensors;
  }
  tensors.push_back(std::move(q.codes));
  tensors.push_back(FloatBytes(q.scales, spec.scale_type));
  if (!spec.symmetric) tensors.push_back(FloatBytes(q.zero_points, spec.scale_type));
  return tensors;
}

Result<std::vector<TensorBytes>> QuantizeFourBitScheme(const FourBitSpec& spec,
                                                       const SchemeLayout& layout,
                                                       std::span<const float> values,
                                                       int n_threads) {
  QTK_RETURN_IF_ERROR(CheckFinite(values, layout.row_length, n_threads));  // names row and column
  QTK_ASSIGN_OR_RETURN(FourBitQuantized q, QuantizeFourBit(spec, values, n_threads));
  std::vector<TensorBytes> tensors;
  tensors.push_back(std::move(q.codes));
  if (!spec.double_quant) {
    tensors.push_back(FloatBytes(q.absmax, GgmlType::kF32));
    return tensors;
  }
  tensors.push_back(std::move(q.absmax_codes));
  tensors.push_back(FloatBytes(q.absmax_scales, GgmlType::kF32));
  const float offset[1] = {q.absmax_offset};
  tensors.push_back(FloatBytes(offset, GgmlType::kF32));
  return tensors;
}

std::string ShapeText(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Reads qtk.quant.* keys and companion tensors of one tensor, checking each against the
// scheme it names. Every message starts with the file's path.
class GgufSchemeReader {
 public:
  GgufSchemeReader(const GgufFile& file, std::string_view tensor) : file_(file), tensor_(tensor) {}

  Status Fail(Status::Code code, const std::string& subject, const std::string& problem) const {
    const std::string message = file_.path() + ": " + subject + ": " + problem;
    return code == Status::Code::kNotFound ? Status::NotFound(message)
                                           : Status::Corruption(message);
  }

  Result<Scheme> ReadScheme(const GgufValue& value) const {
    const std::string key = SchemeKey(tensor_, kSchemeKey);
    const std::string* text = value.AsString();
    if (text == nullptr) {
      return Fail(Status::Code::kCorruption, "key '" + key + "'",
                  "type is " + std::string(GgufValueTypeName(value.type())) + ", expected str");
    }
    Result<Scheme> scheme = ParseScheme(*text);
    if (!scheme.ok())
      return Fail(Status::Code::kCorruption, "key '" + key + "'", scheme.status().message());
    return scheme;
  }

  Result<std::vector<int64_t>> ReadShape() const {
    const std::string key = SchemeKey(tensor_, kShapeKey);
    const GgufValue* value = file_.FindValue(key);
    if (value == nullptr) return Fail(Status::Code::kNotFound, "key '" + key + "'", "missing");
    if (!value->is_array() || value->element_type() != GgufValueType::kInt64) {
      return Fail(Status::Code::kCorruption, "key '" + key + "'", "expected an array of i64");
    }
    std::vector<int64_t> shape(value->array_size());
    for (size_t i = 0; i < shape.size(); ++i) shape[i] = value->Element<int64_t>(i);
    return shape;
  }

  // The values of an f32 array key of exactly kN elements.
  template <size_t kN>
  Result<std::array<float, kN>> ReadTable(std::string_view what) const {
    const std::string key = SchemeKey(tensor_, what);
    const GgufValue* value = file_.FindValue(key);
    if (value == nullptr) return Fail(Status::Code::kNotFound, "key '" + key + "'", "missing");
    if (!value->is_array() || value->element_type() != GgufValueType::kFloat32 ||
        value->array_size() != kN) {
      return Fail(Status::Code::kCorruption, "key '" + key + "'",
                  "expected an array of " + std::to_string(kN) + " f32");
    }
    std::array<float, kN> table{};
    for (size_t i = 0; i < kN; ++i) table[i] = value->Element<float>(i);
    return table;
  }

  // The bytes of each tensor in `layout`, after checking its type and shape.
  Result<std::vector<std::span<const uint8_t>>> ReadTensors(const Scheme& scheme,
                                                            const SchemeLayout& layout) const {
    std::vector<std::span<const uint8_t>> data;
    for (const LayoutTensor& expected : layout.tensors) {
      const std::string name = std::string(tensor_) + std::string(expected.suffix);
      const std::string subject = "tensor '" + name + "'";
      const std::string needs = "scheme '" + SchemeName(scheme) + "' needs ";
      const GgufTensorInfo* info = file_.FindTensor(name);
      if (info == nullptr)
        return Fail(Status::Code::kNotFound, subject, "missing, " + needs + "it");
      if (info->type != expected.type) {
        return Fail(Status::Code::kCorruption, subject,
                    "type is " + std::string(GgmlTypeName(info->type)) + ", " + needs +
                        std::string(GgmlTypeName(expected.type)));
      }
      if (info->shape != expected.shape) {
        return Fail(
            Status::Code::kCorruption, subject,
            "shape is " + ShapeText(info->shape) + ", " + needs + ShapeText(expected.shape));
      }
      data.push_back(file_.TensorData(*info));
    }
    return data;
  }

 private:
  const GgufFile& file_;
  std::string_view tensor_;
};

Status DecodeAffine(const AffineSpec& spec, const SchemeLayout& layout,
                    const std::vector<std::span<const uint8_t>>& data, std::span<float> out,
                    int n_threads) {
  const std::vector<float> scales = FloatsFrom(data[1], spec.scale_type);
  const std::vector<float> zeros =
      spec.symmetric ? std::vector<float>() : FloatsFrom(data[2], spec.scale_type);
  return DequantizeAffine(spec, data[0], scales, zeros, layout.row_length, out, n_threads);
}

Status DecodeFourBit(const GgufSchemeReader& reader, const FourBitSpec& spec,
                     const std::vector<std::span<const uint8_t>>& data, std::span<float> out,
                     int n_threads) {
  QTK_ASSIGN_OR_RETURN(auto table, reader.ReadTable<16>(kCodeKey));
  std::vector<float> absmax;
  if (spec.double_quant) {
    QTK_ASSIGN_OR_RETURN(auto map, reader.ReadTable<256>(kDqCodeKey));
    absmax.resize(data[1].size());
    const std::vector<float> offset = FloatsFrom(data[3], GgmlType::kF32);
    QTK_RETURN_IF_ERROR(
        DecodeDoubleQuant(map, data[1], FloatsFrom(data[2], GgmlType::kF32), offset[0], absmax));
  } else {
    absmax = FloatsFrom(data[1], GgmlType::kF32);
  }
  return DequantizeFourBit(table, spec.block_size, data[0], absmax, out, n_threads);
}

}  // namespace

Result<std::vector<std::vector<uint8_t>>> QuantizeScheme(const Scheme& scheme,
                                                         std::span<const int64_t> shape,
                                                         std::span<const float> values,
                                                         int n_threads) {
  QTK_ASSIGN_OR_RETURN(SchemeLayout layout, LayOutScheme(scheme, shape));
  if (values.size() != static_cast<size_t>(layout.n_elements)) {
    return Status::InvalidArgument(std::to_string(values.size()) + " values, shape " +
                                   ShapeText(shape) + " has " + std::to_string(layout.n_elements));
  }
  if (scheme.kind == SchemeKind::kAffine) {
    return QuantizeAffineScheme(scheme.affine, layout, values, n_threads);
  }
  return QuantizeFourBitScheme(scheme.four_bit, layout, values, n_threads);
}

bool SchemeIsRowLocal(const Scheme& scheme, int64_t row_length) {
  if (row_length <= 0) return false;
  if (scheme.kind == SchemeKind::kAffine) {
    return scheme.affine.granularity != AffineGranularity::kPerTensor;
  }
  const FourBitSpec& spec = scheme.four_bit;
  return !spec.double_quant && spec.block_size > 0 && row_length % spec.block_size == 0;
}

Result<std::vector<float>> DequantizeFromGguf(const GgufFile& file, std::string_view tensor_name,
                                              int n_threads) {
  const GgufSchemeReader reader(file, tensor_name);
  const GgufValue* scheme_value = file.FindValue(SchemeKey(tensor_name, kSchemeKey));
  if (scheme_value == nullptr) {
    const GgufTensorInfo* info = file.FindTensor(tensor_name);
    if (info == nullptr) {
      return reader.Fail(Status::Code::kNotFound, "tensor '" + std::string(tensor_name) + "'",
                         "no such tensor");
    }
    std::vector<float> out(static_cast<size_t>(info->n_elements()));
    const Status status =
        DequantizeRows(info->type, file.TensorData(*info), info->row_length(), out, n_threads);
    if (!status.ok()) return status.WithPrefix(file.path() + ": tensor '" + info->name + "'");
    return out;
  }
  QTK_ASSIGN_OR_RETURN(Scheme scheme, reader.ReadScheme(*scheme_value));
  QTK_ASSIGN_OR_RETURN(std::vector<int64_t> shape, reader.ReadShape());
  Result<SchemeLayout> layout = LayOutScheme(scheme, shape);
  if (!layout.ok()) {
    return reader.Fail(Status::Code::kCorruption, "key '" + SchemeKey(tensor_name, kShapeKey) + "'",
                       layout.status().message());
  }
  QTK_ASSIGN_OR_RETURN(auto data, reader.ReadTensors(scheme, *layout));
  std::vector<float> out(static_cast<size_t>(layout->n_elements));
  Status status;
  if (layout->ggml_type) {
    status = DequantizeRows(*layout->ggml_type, data[0], layout->row_length, out, n_threads);
  } else if (scheme.kind == SchemeKind::kAffine) {
    status = DecodeAffine(scheme.affine, *layout, data, out, n_threads);
  } else {
    status = DecodeFourBit(reader, scheme.four_bit, data, out, n_threads);
  }
  if (!status.ok())
    return status.WithPrefix(file.path() + ": tensor '" + std::string(tensor_name) + "'");
  return out;
}

std::vector<std::string> SchemeCompanionNames(const GgufFile& file) {
  std::vector<std::string> names;
  for (const GgufKeyValue& kv : file.metadata()) {
    const std::string_view key = kv.key;
    if (!key.starts_with(kKeyPrefix) || !key.ends_with(kSchemeKey)) continue;
    const std::string_view tensor =
        key.substr(kKeyPrefix.size(), key.size() - kKeyPrefix.size() - kSchemeKey.size());
    const GgufSchemeReader reader(file, tensor);
    Result<Scheme> scheme = reader.ReadScheme(kv.value);
    Result<std::vector<int64_t>> shape = reader.ReadShape();
    if (!scheme.ok() || !shape.ok()) continue;
    Result<SchemeLayout> layout = LayOutScheme(*scheme, *shape);
    if (!layout.ok()) continue;
    for (const LayoutTensor& companion : layout->tensors) {
      if (companion.suffix.empty()) continue;
      names.push_back(std::string(tensor) + std::string(companion.suffix));
    }
  }
  return names;
}

Result<ErrorStats> MeasureScheme(const Scheme& scheme, std::span<const int64_t> shape,
                                 std::span<const float> values, int n_threads) {
  QTK_ASSIGN_OR_RETURN(SchemeLayout layout, LayOutScheme(scheme, shape));
  if (values.size() != static_cast<size_t>(layout.n_elements)) {
    return Status::InvalidArgument(std::to_string(values.size()) + " values, shape " +
                                   ShapeText(shape) + " has " + std::to_string(layout.n_elements));
  }
  std::vector<float> decoded(values.size());
  if (scheme.kind == SchemeKind::kAffine) {
    const AffineSpec& spec = scheme.affine;
    QTK_ASSIGN_OR_RETURN(AffineQuantized q,
                         QuantizeAffine(spec, values, layout.row_length, n_threads));
    QTK_RETURN_IF_ERROR(DequantizeAffine(spec, q.codes, q.scales, q.zero_points, layout.row_length,
                                         decoded, n_threads));
  } else {
    const FourBitSpec& spec = scheme.four_bit;
    QTK_RETURN_IF_ERROR(CheckFinite(values, layout.row_length, n_threads));
    QTK_ASSIGN_OR_RETURN(FourBitQuantized q, QuantizeFourBit(spec, values, n_threads));
    std::vector<float> absmax = q.absmax;
    if (spec.double_quant) {
      absmax.resize(q.absmax_codes.size());
      QTK_RETURN_IF_ERROR(DecodeDoubleQuant(DynamicMapTable(), q.absmax_codes, q.absmax_scales,
                                            q.absmax_offset, absmax));
    }
    QTK_RETURN_IF_ERROR(DequantizeFourBit(FourBitTable(spec.code), spec.block_size, q.codes, absmax,
                                          decoded, n_threads));
  }
  return MeasureError(values, decoded, n_threads);
}

}  // namespace qtk
