// Checking qtk's quantizers against llama.cpp's reference outputs in ../shared/testdata.
#ifndef QTK_TESTS_REFERENCE_SUPPORT_H_
#define QTK_TESTS_REFERENCE_SUPPORT_H_

#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "qtk/format/ggml_type.h"

namespace qtk::testing {

struct ManifestTensor {
  std::string name;
  GgmlType type;
  std::vector<int64_t> shape;
  std::string sha256;
};

// The tensors manifest.json lists for `file` (in `directory`), in manifest order.
std::vector<ManifestTensor> ReadManifest(const std::filesystem::path& directory,
                                         const std::string& file);

// Supplies per-column importance for a tensor (empty span: none).
using ImportanceLookup = std::function<std::vector<float>(const std::string& tensor_name)>;

// Quantizes each tensor of `reference_file` from `f32_file` (the same tensor names, F32) to the
// reference's type and returns one line per tensor whose SHA-256 differs ("" means all match).
std::string DiffAgainstReference(const std::filesystem::path& f32_file,
                                 const std::filesystem::path& directory,
                                 const std::string& reference_file,
                                 const ImportanceLookup& importance = nullptr);

}  // namespace qtk::testing

#endif  // QTK_TESTS_REFERENCE_SUPPORT_H_
