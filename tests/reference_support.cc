#include "reference_support.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "qtk/base/sha256.h"
#include "qtk/format/gguf.h"
#include "qtk/quant/quantize.h"
#include "test_support.h"

namespace qtk::testing {

std::vector<ManifestTensor> ReadManifest(const std::filesystem::path& directory,
                                         const std::string& file) {
  const auto json = nlohmann::ordered_json::parse(ReadFileText(directory / "manifest.json"));
  std::vector<ManifestTensor> tensors;
  for (const auto& [name, entry] : json.at(file).items()) {
    auto type = GgmlTypeFromName(entry.at("type").get<std::string>());
    if (!type) throw std::runtime_error("unknown type in manifest: " + entry.dump());
    tensors.push_back({name, *type, entry.at("shape").get<std::vector<int64_t>>(),
                       entry.at("sha256").get<std::string>()});
  }
  return tensors;
}

std::string DiffAgainstReference(const std::filesystem::path& f32_file,
                                 const std::filesystem::path& directory,
                                 const std::string& reference_file,
                                 const ImportanceLookup& importance) {
  Result<GgufFile> source = ReadGgufFile(f32_file.string());
  if (!source.ok()) return source.status().message() + "\n";
  std::string diff;
  for (const ManifestTensor& expected : ReadManifest(directory, reference_file)) {
    const GgufTensorInfo* info = source->FindTensor(expected.name);
    if (info == nullptr || info->type != GgmlType::kF32) {
      diff += expected.name + ": no F32 tensor in " + f32_file.filename().string() + "\n";
      continue;
    }
    auto data = source->TensorData(*info);
    std::span<const float> values(reinterpret_cast<const float*>(data.data()),
                                  data.size() / sizeof(float));
    std::vector<uint8_t> out(static_cast<size_t>(info->n_rows()) *
                             GgmlRowBytes(expected.type, info->row_length()));
    std::vector<float> weights;
    if (importance) weights = importance(expected.name);
    QuantizeOptions options;
    options.n_threads = 2;
    options.importance = weights;
    Status status = QuantizeRows(expected.type, values, info->row_length(), out, options);
    if (!status.ok()) {
      diff += expected.name + ": " + status.message() + "\n";
      continue;
    }
    const std::string actual = Sha256Hex(out);
    if (actual != expected.sha256) {
      diff += expected.name + " (" + std::string(GgmlTypeName(expected.type)) + "): sha256 " +
              actual + ", expected " + expected.sha256 + "\n";
    }
  }
  return diff;
}

}  // namespace qtk::testing
