#include "report/inspect_common.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace qtk {

std::string MetadataTypeName(const GgufValue& value) {
  if (!value.is_array()) return std::string(GgufValueTypeName(value.type()));
  return "arr[" + std::string(GgufValueTypeName(value.element_type())) + "]";
}

double ShortestDecimal(float value) {
  if (!std::isfinite(value)) return static_cast<double>(value);
  char buffer[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", digits, static_cast<double>(value));
    if (std::strtof(buffer, nullptr) == value) break;
  }
  return std::strtod(buffer, nullptr);
}

namespace {

std::string ScalarText(GgufValueType type, std::span<const uint8_t> raw) {
  if (type == GgufValueType::kFloat32) {
    float v;
    std::memcpy(&v, raw.data(), sizeof(v));
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.9g", ShortestDecimal(v));
    return buffer;
  }
  return GgufValue::ScalarFromRaw(type, raw).ToDisplayString();
}

}  // namespace

std::string MetadataDisplayText(const GgufValue& value, size_t max_items) {
  if (value.type() == GgufValueType::kString) return value.ToDisplayString();
  if (!value.is_array()) return ScalarText(value.type(), value.raw());
  const size_t n = value.array_size();
  std::string out = n > max_items ? std::to_string(n) + " items: [" : "[";
  for (size_t i = 0; i < n && i < max_items; ++i) {
    if (i > 0) out += ", ";
    if (value.element_type() == GgufValueType::kString) {
      out += GgufValue::String(value.strings()[i]).ToDisplayString();
    } else {
      const size_t size = GgufScalarSize(value.element_type());
      out += ScalarText(value.element_type(), value.raw().subspan(i * size, size));
    }
  }
  return out + (n > max_items ? ", ...]" : "]");
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += " x ";
    out += std::to_string(shape[i]);
  }
  return out;
}

std::string DisplayFileName(const ModelSource& model, size_t file) {
  namespace fs = std::filesystem;
  const fs::path path(model.files()[file]);
  const fs::path base = model.format() == ModelFormat::kHfDirectory
                            ? fs::path(model.path())
                            : fs::path(model.path()).parent_path();
  if (model.format() != ModelFormat::kGguf && model.format() != ModelFormat::kSafetensors &&
      path.parent_path() == base) {
    return path.filename().string();
  }
  return path.string();
}

std::string FormatDescription(const ModelSource& model) {
  std::string out(ModelFormatName(model.format()));
  if (const GgufFile* gguf = model.gguf()) {
    return out + " v" + std::to_string(gguf->version()) + ", alignment " +
           std::to_string(gguf->alignment());
  }
  const SafetensorsCheckpoint* checkpoint = model.safetensors();
  const size_t n_files = model.files().size();
  const std::string shards = std::to_string(n_files) + (n_files == 1 ? " file" : " shards");
  if (const HfModelDirectory* directory = model.hf_directory()) {
    const std::string architecture = directory->config.architecture();
    if (!architecture.empty()) out += ": " + architecture + ",";
    return out + " safetensors, " + shards;
  }
  if (checkpoint != nullptr && checkpoint->index()) out += ": " + shards;
  return out;
}

}  // namespace qtk
