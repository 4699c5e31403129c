// GgufValue: construction, typed access and display.
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "base/string_util.h"
#include "qtk/format/gguf.h"

namespace qtk {

static_assert(std::endian::native == std::endian::little, "qtk reads and writes little-endian");

std::string_view GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "u8";
    case GgufValueType::kInt8:
      return "i8";
    case GgufValueType::kUint16:
      return "u16";
    case GgufValueType::kInt16:
      return "i16";
    case GgufValueType::kUint32:
      return "u32";
    case GgufValueType::kInt32:
      return "i32";
    case GgufValueType::kFloat32:
      return "f32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "str";
    case GgufValueType::kArray:
      return "arr";
    case GgufValueType::kUint64:
      return "u64";
    case GgufValueType::kInt64:
      return "i64";
    case GgufValueType::kFloat64:
      return "f64";
  }
  return "?";
}

size_t GgufScalarSize(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

GgufValue GgufValue::String(std::string v) {
  GgufValue value;
  value.type_ = GgufValueType::kString;
  value.raw_.clear();
  value.strings_.push_back(std::move(v));
  return value;
}

GgufValue GgufValue::ScalarArray(GgufValueType element_type, std::vector<uint8_t> raw) {
  GgufValue value;
  value.type_ = GgufValueType::kArray;
  value.element_type_ = element_type;
  value.raw_ = std::move(raw);
  return value;
}

GgufValue GgufValue::ScalarFromRaw(GgufValueType type, std::span<const uint8_t> raw) {
  GgufValue value;
  value.type_ = type;
  value.raw_.assign(raw.begin(), raw.end());
  return value;
}

GgufValue GgufValue::StringArray(std::vector<std::string> strings) {
  GgufValue value;
  value.type_ = GgufValueType::kArray;
  value.element_type_ = GgufValueType::kString;
  value.raw_.clear();
  value.strings_ = std::move(strings);
  return value;
}

size_t GgufValue::array_size() const {
  if (!is_array()) return 0;
  if (element_type_ == GgufValueType::kString) return strings_.size();
  const size_t size = GgufScalarSize(element_type_);
  return size == 0 ? 0 : raw_.size() / size;
}

namespace {

// The value of an integer scalar of `type` stored in `raw`, widened; nullopt if not integer.
struct WideInt {
  bool is_signed;
  uint64_t u;
  int64_t s;
};

std::optional<WideInt> ReadInteger(GgufValueType type, const uint8_t* raw) {
  auto load = [raw](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, raw, sizeof(v));
    return v;
  };
  switch (type) {
    case GgufValueType::kUint8:
      return WideInt{false, load(uint8_t{}), 0};
    case GgufValueType::kUint16:
      return WideInt{false, load(uint16_t{}), 0};
    case GgufValueType::kUint32:
      return WideInt{false, load(uint32_t{}), 0};
    case GgufValueType::kUint64:
      return WideInt{false, load(uint64_t{}), 0};
    case GgufValueType::kInt8:
      return WideInt{true, 0, load(int8_t{})};
    case GgufValueType::kInt16:
      return WideInt{true, 0, load(int16_t{})};
    case GgufValueType::kInt32:
      return WideInt{true, 0, load(int32_t{})};
    case GgufValueType::kInt64:
      return WideInt{true, 0, load(int64_t{})};
    default:
      return std::nullopt;
  }
}

std::string FormatScalar(GgufValueType type, const uint8_t* raw) {
  char buffer[64];
  if (auto integer = ReadInteger(type, raw)) {
    if (integer->is_signed) {
      std::snprintf(buffer, sizeof(buffer), "%" PRId64, integer->s);
    } else {
      std::snprintf(buffer, sizeof(buffer), "%" PRIu64, integer->u);
    }
    return buffer;
  }
  if (type == GgufValueType::kFloat32) {
    float v;
    std::memcpy(&v, raw, sizeof(v));
    std::snprintf(buffer, sizeof(buffer), "%.9g", static_cast<double>(v));
    return buffer;
  }
  if (type == GgufValueType::kFloat64) {
    double v;
    std::memcpy(&v, raw, sizeof(v));
    std::snprintf(buffer, sizeof(buffer), "%.17g", v);
    return buffer;
  }
  if (type == GgufValueType::kBool) return raw[0] != 0 ? "true" : "false";
  return "?";
}

std::string Quote(const std::string& s) { return "\"" + Printable(s, 60) + "\""; }

}  // namespace

std::optional<uint64_t> GgufValue::AsUint() const {
  if (is_array() || type_ == GgufValueType::kString) return std::nullopt;
  auto integer = ReadInteger(type_, raw_.data());
  if (!integer) return std::nullopt;
  if (integer->is_signed) {
    if (integer->s < 0) return std::nullopt;
    return static_cast<uint64_t>(integer->s);
  }
  return integer->u;
}

std::optional<int64_t> GgufValue::AsInt() const {
  if (is_array() || type_ == GgufValueType::kString) return std::nullopt;
  auto integer = ReadInteger(type_, raw_.data());
  if (!integer) return std::nullopt;
  if (integer->is_signed) return integer->s;
  if (integer->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return static_cast<int64_t>(integer->u);
}

std::optional<double> GgufValue::AsDouble() const {
  if (type_ == GgufValueType::kFloat32) {
    float v;
    std::memcpy(&v, raw_.data(), sizeof(v));
    return static_cast<double>(v);
  }
  if (type_ == GgufValueType::kFloat64) {
    double v;
    std::memcpy(&v, raw_.data(), sizeof(v));
    return v;
  }
  return std::nullopt;
}

std::optional<bool> GgufValue::AsBool() const {
  if (type_ != GgufValueType::kBool) return std::nullopt;
  return raw_[0] != 0;
}

const std::string* GgufValue::AsString() const {
  if (type_ != GgufValueType::kString) return nullptr;
  return &strings_[0];
}

std::string GgufValue::ToDisplayString(size_t max_items) const {
  if (type_ == GgufValueType::kString) return Quote(strings_[0]);
  if (!is_array()) return FormatScalar(type_, raw_.data());
  const size_t n = array_size();
  std::string out = "[";
  for (size_t i = 0; i < n && i < max_items; ++i) {
    if (i > 0) out += ", ";
    if (element_type_ == GgufValueType::kString) {
      out += Quote(strings_[i]);
    } else {
      out += FormatScalar(element_type_, raw_.data() + i * GgufScalarSize(element_type_));
    }
  }
  if (n > max_items) out += ", ...";
  out += "]";
  if (n > max_items) out += " (" + std::to_string(n) + " items)";
  return out;
}

bool GgufValue::operator==(const GgufValue& other) const {
  if (type_ != other.type_) return false;
  if (is_array() && element_type_ != other.element_type_) return false;
  return raw_ == other.raw_ && strings_ == other.strings_;
}

}  // namespace qtk
