// Scheme names (parse and print), the ggml types some schemes are, and the GGUF layout plan.
#include "qtk/scheme/scheme.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <string>
#include <vector>

#include "scheme/scheme_layout.h"

namespace qtk {
namespace {

constexpr std::string_view kSchemeGrammar =
    "int<bits>-<tensor|channel|g<size>>[-asym][-f32][-search], nf4[-b<size>][-dq] or "
    "fp4[-b<size>][-dq]";
constexpr int64_t kMaxGroupSize = int64_t{1} << 30;

// The group size at which symmetric F16 schemes are ggml block formats.
constexpr int64_t kGgmlBlock = 32;

std::vector<std::string> SplitDashes(std::string_view name) {
  std::vector<std::string> parts(1);
  for (char c : name) {
    if (c == '-') {
      parts.emplace_back();
    } else {
      parts.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return parts;
}

// A positive decimal number filling all of `digits`.
std::optional<int64_t> ParseCount(std::string_view digits) {
  int64_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, error] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || error != std::errc() || ptr != end || value <= 0) return std::nullopt;
  return value;
}

class SchemeParser {
 public:
  explicit SchemeParser(std::string_view name) : name_(name), parts_(SplitDashes(name)) {}

  Result<Scheme> Parse() {
    const std::string& head = parts_[0];
    if (head == "nf4" || head == "fp4") return ParseFourBit();
    if (head.starts_with("int")) return ParseAffine();
    return Fail("unknown scheme, expected " + std::string(kSchemeGrammar));
  }

 private:
  Status Fail(const std::string& problem) const {
    return Status::InvalidArgument("scheme '" + std::string(name_) + "': " + problem);
  }

  Result<Scheme> ParseAffine() {
    Scheme scheme;
    scheme.kind = SchemeKind::kAffine;
    AffineSpec& spec = scheme.affine;
    const std::optional<int64_t> bits = ParseCount(std::string_view(parts_[0]).substr(3));
    if (!bits) return Fail("'" + parts_[0] + "' is not int<bits>");
    if (*bits < 2 || *bits > 8) return Fail("bits is " + std::to_string(*bits) + ", must be 2..8");
    spec.bits = static_cast<int>(*bits);
    if (parts_.size() < 2) return Fail("missing granularity (tensor, channel or g<size>)");
    QTK_RETURN_IF_ERROR(ParseGranularity(parts_[1], spec));
    bool seen_sign = false, seen_scale_type = false, seen_search = false;
    for (size_t i = 2; i < parts_.size(); ++i) {
      const std::string& part = parts_[i];
      if ((part == "sym" || part == "asym") && !seen_sign) {
        spec.symmetric = part == "sym";
        seen_sign = true;
      } else if ((part == "f16" || part == "f32") && !seen_scale_type) {
        spec.scale_type = part == "f16" ? GgmlType::kF16 : GgmlType::kF32;
        seen_scale_type = true;
      } else if (part == "search" && !seen_search) {
        spec.search_scale = true;
        seen_search = true;
      } else {
        return Fail("unexpected or repeated '" + part + "', expected " +
                    std::string(kSchemeGrammar));
      }
    }
    return scheme;
  }

  Status ParseGranularity(const std::string& part, AffineSpec& spec) const {
    if (part == "tensor") {
      spec.granularity = AffineGranularity::kPerTensor;
    } else if (part == "channel") {
      spec.granularity = AffineGranularity::kPerChannel;
    } else if (part.starts_with("g")) {
      const std::optional<int64_t> size = ParseCount(std::string_view(part).substr(1));
      if (!size || *size > kMaxGroupSize) {
        return Fail("group size '" + part.substr(1) + "' must be a number in 1.." +
                    std::to_string(kMaxGroupSize));
      }
      spec.granularity = AffineGranularity::kGroup;
      spec.group_size = *size;
    } else {
      return Fail("granularity '" + part + "' is not tensor, channel or g<size>");
    }
    return Status::Ok();
  }

  Result<Scheme> ParseFourBit() {
    Scheme scheme;
    scheme.kind = SchemeKind::kFourBit;
    FourBitSpec& spec = scheme.four_bit;
    spec.code = parts_[0] == "nf4" ? FourBitCode::kNf4 : FourBitCode::kFp4;
    bool seen_block = false, seen_dq = false;
    for (size_t i = 1; i < parts_.size(); ++i) {
      const std::string& part = parts_[i];
      if (part == "dq" && !seen_dq) {
        spec.double_quant = true;
        seen_dq = true;
      } else if (part.starts_with("b") && !seen_block) {
        const std::optional<int64_t> size = ParseCount(std::string_view(part).substr(1));
        if (!size || *size % 2 != 0 || *size > kMaxGroupSize) {
          return Fail("block size '" + part.substr(1) + "' must be an even number in 2.." +
                      std::to_string(kMaxGroupSize));
        }
        spec.block_size = *size;
        seen_block = true;
      } else {
        return Fail("unexpected or repeated '" + part + "', expected " +
                    std::string(kSchemeGrammar));
      }
    }
    return scheme;
  }

  std::string_view name_;
  std::vector<std::string> parts_;
};

Status CheckShape(std::span<const int64_t> shape, int64_t& n_elements) {
  if (shape.empty() || shape.size() > kGgufMaxDims) {
    return Status::InvalidArgument("shape has " + std::to_string(shape.size()) +
                                   " dimensions, must be 1.." + std::to_string(kGgufMaxDims));
  }
  n_elements = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 1) {
      return Status::InvalidArgument("dimension " + std::to_string(i) + " is " +
                                     std::to_string(shape[i]) + ", must be >= 1");
    }
    if (n_elements > std::numeric_limits<int64_t>::max() / shape[i]) {
      return Status::InvalidArgument("element count overflows int64");
    }
    n_elements *= shape[i];
  }
  return Status::Ok();
}

// `shape` with ne[0] replaced by `row`.
std::vector<int64_t> WithRowLength(std::span<const int64_t> shape, int64_t row) {
  std::vector<int64_t> result(shape.begin(), shape.end());
  result[0] = row;
  return result;
}

void LayOutAffine(const AffineSpec& spec, std::span<const int64_t> shape, SchemeLayout& layout) {
  layout.tensors.push_back(
      {"", GgmlType::kI8, WithRowLength(shape, AffineRowBytes(spec, layout.row_length))});
  std::vector<int64_t> scale_shape =
      spec.granularity == AffineGranularity::kPerTensor
          ? std::vector<int64_t>{1}
          : WithRowLength(shape, AffineGroupsPerRow(spec, layout.row_length));
  layout.tensors.push_back({kScaleSuffix, spec.scale_type, scale_shape});
  if (!spec.symmetric) layout.tensors.push_back({kZeroSuffix, spec.scale_type, scale_shape});
}

void LayOutFourBit(const FourBitSpec& spec, SchemeLayout& layout) {
  const int64_t n_blocks = FourBitBlockCount(spec, layout.n_elements);
  layout.tensors.push_back({"", GgmlType::kI8, {FourBitCodeBytes(layout.n_elements)}});
  if (!spec.double_quant) {
    layout.tensors.push_back({kAbsmaxSuffix, GgmlType::kF32, {n_blocks}});
    return;
  }
  layout.tensors.push_back({kAbsmaxSuffix, GgmlType::kI8, {n_blocks}});
  layout.tensors.push_back({kDqScaleSuffix, GgmlType::kF32, {DoubleQuantBlockCount(n_blocks)}});
  layout.tensors.push_back({kDqOffsetSuffix, GgmlType::kF32, {1}});
}

template <size_t kN>
GgufValue FloatArray(const std::array<float, kN>& values) {
  return GgufValue::ArrayOf<float>(GgufValueType::kFloat32, std::span<const float>(values));
}

}  // namespace

Result<Scheme> ParseScheme(std::string_view name) { return SchemeParser(name).Parse(); }

std::string SchemeName(const Scheme& scheme) {
  if (scheme.kind == SchemeKind::kFourBit) {
    const FourBitSpec& spec = scheme.four_bit;
    std::string name = spec.code == FourBitCode::kNf4 ? "nf4" : "fp4";
    if (spec.block_size != kFourBitDefaultBlockSize) name += "-b" + std::to_string(spec.block_size);
    if (spec.double_quant) name += "-dq";
    return name;
  }
  const AffineSpec& spec = scheme.affine;
  std::string name = "int" + std::to_string(spec.bits) + "-";
  switch (spec.granularity) {
    case AffineGranularity::kPerTensor:
      name += "tensor";
      break;
    case AffineGranularity::kPerChannel:
      name += "channel";
      break;
    case AffineGranularity::kGroup:
      name += "g" + std::to_string(spec.group_size);
      break;
  }
  if (!spec.symmetric) name += "-asym";
  if (spec.scale_type == GgmlType::kF32) name += "-f32";
  if (spec.search_scale) name += "-search";
  return name;
}

std::optional<GgmlType> SchemeGgmlType(const Scheme& scheme, int64_t row_length) {
  if (scheme.kind != SchemeKind::kAffine) return std::nullopt;
  const AffineSpec& spec = scheme.affine;
  if (!spec.symmetric || spec.granularity != AffineGranularity::kGroup ||
      spec.group_size != kGgmlBlock || spec.scale_type != GgmlType::kF16 ||
      row_length % kGgmlBlock != 0) {
    return std::nullopt;
  }
  // Q8_0: d = amax/127 in F16, codes roundf(x/d) in [-127, 127], x = q·d: the same formula.
  if (spec.bits == 8) return GgmlType::kQ8_0;
  // Q4_0 decodes (nibble − 8)·d: symmetric INT4 codes in [−7, 7] stored as q + 8.
  if (spec.bits == 4) return GgmlType::kQ4_0;
  return std::nullopt;
}

Result<SchemeLayout> LayOutScheme(const Scheme& scheme, std::span<const int64_t> shape) {
  SchemeLayout layout;
  QTK_RETURN_IF_ERROR(CheckShape(shape, layout.n_elements));
  if (scheme.kind == SchemeKind::kAffine) {
    QTK_RETURN_IF_ERROR(ValidateAffineSpec(scheme.affine));
  } else {
    QTK_RETURN_IF_ERROR(ValidateFourBitSpec(scheme.four_bit));
  }
  layout.row_length = shape[0];
  layout.n_rows = layout.n_elements / layout.row_length;
  layout.ggml_type = SchemeGgmlType(scheme, layout.row_length);
  if (layout.ggml_type) {
    layout.tensors.push_back(
        {"", *layout.ggml_type, std::vector<int64_t>(shape.begin(), shape.end())});
  } else if (scheme.kind == SchemeKind::kAffine) {
    LayOutAffine(scheme.affine, shape, layout);
  } else {
    LayOutFourBit(scheme.four_bit, layout);
  }
  return layout;
}

Result<SchemePlan> PlanScheme(std::string_view tensor_name, std::span<const int64_t> shape,
                              const Scheme& scheme) {
  Result<SchemeLayout> layout = LayOutScheme(scheme, shape);
  if (!layout.ok()) return layout.status().WithPrefix("tensor '" + std::string(tensor_name) + "'");
  SchemePlan plan;
  for (const LayoutTensor& tensor : layout->tensors) {
    std::string name = std::string(tensor_name) + std::string(tensor.suffix);
    if (name.size() > kGgufMaxNameBytes) {
      return Status::InvalidArgument("tensor '" + std::string(tensor_name) + "': name '" + name +
                                     "' is " + std::to_string(name.size()) + " bytes, max is " +
                                     std::to_string(kGgufMaxNameBytes));
    }
    plan.tensors.push_back({std::move(name), tensor.type, tensor.shape});
  }
  if (layout->ggml_type) return plan;
  plan.metadata.push_back(
      {SchemeKey(tensor_name, kSchemeKey), GgufValue::String(SchemeName(scheme))});
  plan.metadata.push_back({SchemeKey(tensor_name, kShapeKey),
                           GgufValue::ArrayOf<int64_t>(GgufValueType::kInt64, shape)});
  if (scheme.kind == SchemeKind::kFourBit) {
    plan.metadata.push_back(
        {SchemeKey(tensor_name, kCodeKey), FloatArray(FourBitTable(scheme.four_bit.code))});
    if (scheme.four_bit.double_quant) {
      plan.metadata.push_back({SchemeKey(tensor_name, kDqCodeKey), FloatArray(DynamicMapTable())});
    }
  }
  return plan;
}

}  // namespace qtk
