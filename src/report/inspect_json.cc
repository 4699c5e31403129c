// The `qtk inspect --json` document (fields described in docs/inspect.md).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "qtk/base/shape.h"
#include "qtk/report/inspect.h"
#include "report/inspect_common.h"

namespace qtk {
namespace {

using Json = nlohmann::ordered_json;

Json ScalarJson(GgufValueType type, const uint8_t* raw) {
  auto load = [raw](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, raw, sizeof(v));
    return v;
  };
  switch (type) {
    case GgufValueType::kUint8:
      return load(uint8_t{});
    case GgufValueType::kInt8:
      return load(int8_t{});
    case GgufValueType::kUint16:
      return load(uint16_t{});
    case GgufValueType::kInt16:
      return load(int16_t{});
    case GgufValueType::kUint32:
      return load(uint32_t{});
    case GgufValueType::kInt32:
      return load(int32_t{});
    case GgufValueType::kUint64:
      return load(uint64_t{});
    case GgufValueType::kInt64:
      return load(int64_t{});
    case GgufValueType::kFloat32:
      return ShortestDecimal(load(float{}));
    case GgufValueType::kFloat64:
      return load(double{});
    case GgufValueType::kBool:
      return raw[0] != 0;
    default:
      return nullptr;
  }
}

Json MetadataJson(const GgufKeyValue& kv, size_t max_items) {
  const GgufValue& value = kv.value;
  Json entry = {{"key", kv.key}, {"type", MetadataTypeName(value)}};
  if (value.type() == GgufValueType::kString) {
    entry["value"] = *value.AsString();
  } else if (!value.is_array()) {
    entry["value"] = ScalarJson(value.type(), value.raw().data());
  } else {
    const size_t n = value.array_size();
    Json items = Json::array();
    for (size_t i = 0; i < n && i < max_items; ++i) {
      if (value.element_type() == GgufValueType::kString) {
        items.push_back(value.strings()[i]);
      } else {
        const size_t size = GgufScalarSize(value.element_type());
        items.push_back(ScalarJson(value.element_type(), value.raw().data() + i * size));
      }
    }
    entry["count"] = n;
    entry["value"] = std::move(items);
    entry["truncated"] = n > max_items;
  }
  return entry;
}

Json TensorJson(const ModelTensor& tensor) {
  return {{"name", tensor.name},
          {"type", std::string(tensor.dtype.name())},
          {"shape", ToOutermostFirst(tensor.shape)},
          {"bytes", tensor.n_bytes},
          {"parameters", tensor.n_elements()},
          {"file", tensor.file},
          {"offset", tensor.offset}};
}

Json UsageJson(const std::string& type, uint64_t n_tensors, uint64_t n_bytes, uint64_t n_elements,
               uint64_t total_bytes) {
  Json usage = {{"type", type}, {"tensors", n_tensors}, {"bytes", n_bytes}};
  usage["share"] =
      total_bytes == 0 ? 0.0 : static_cast<double>(n_bytes) / static_cast<double>(total_bytes);
  usage["parameters"] = n_elements;
  usage["bits_per_weight"] =
      n_elements == 0 ? 0.0 : 8.0 * static_cast<double>(n_bytes) / static_cast<double>(n_elements);
  return usage;
}

void AddFormat(const ModelSource& model, Json& doc) {
  doc["path"] = model.path();
  doc["format"] = std::string(ModelFormatName(model.format()));
  if (const GgufFile* gguf = model.gguf()) {
    doc["version"] = gguf->version();
    doc["alignment"] = gguf->alignment();
    doc["data_offset"] = gguf->data_offset();
  }
  Json files = Json::array();
  for (size_t i = 0; i < model.files().size(); ++i) files.push_back(DisplayFileName(model, i));
  doc["files"] = std::move(files);
}

void AddDirectory(const ModelSource& model, Json& doc) {
  const HfModelDirectory* directory = model.hf_directory();
  if (directory == nullptr) return;
  doc["architecture"] = directory->config.architecture();
  doc["config_file"] = std::filesystem::path(directory->config.path()).filename().string();
  doc["config"] = Json::parse(directory->config.text(), nullptr, /*allow_exceptions=*/false);
  doc["tokenizer_files"] = directory->tokenizer_files;
}

}  // namespace

std::string FormatInspectJson(const ModelSource& model, const InspectOptions& options) {
  const ModelSummary summary = SummarizeModel(model);
  Json doc = Json::object();
  AddFormat(model, doc);
  AddDirectory(model, doc);
  Json metadata = Json::array();
  for (const GgufKeyValue& kv : model.metadata()) {
    metadata.push_back(MetadataJson(kv, options.max_array_items));
  }
  doc["metadata"] = std::move(metadata);
  Json tensors = Json::array();
  for (const ModelTensor& tensor : model.tensors()) tensors.push_back(TensorJson(tensor));
  doc["tensors"] = std::move(tensors);
  Json types = Json::array();
  for (const TypeUsage& usage : summary.by_type) {
    types.push_back(
        UsageJson(usage.type, usage.n_tensors, usage.n_bytes, usage.n_elements, summary.n_bytes));
  }
  doc["types"] = std::move(types);
  doc["total"] =
      UsageJson("total", summary.n_tensors, summary.n_bytes, summary.n_elements, summary.n_bytes);
  doc["total"].erase("type");
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace qtk
