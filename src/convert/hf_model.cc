// Opening a Hugging Face model directory: find the config and the weights, list the
// tokenizer files.
#include "qtk/convert/hf_model.h"

#include <array>
#include <filesystem>
#include <string_view>

namespace qtk {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 2> kConfigFiles = {"config.json", "adapter_config.json"};
// In the order transformers (then PEFT) looks for them.
constexpr std::array<std::string_view, 3> kWeightFiles = {
    "model.safetensors", "model.safetensors.index.json", "adapter_model.safetensors"};
constexpr std::array<std::string_view, 7> kTokenizerFiles = {"tokenizer.model",
                                                             "tokenizer.json",
                                                             "tokenizer_config.json",
                                                             "special_tokens_map.json",
                                                             "added_tokens.json",
                                                             "vocab.json",
                                                             "merges.txt"};

bool IsFile(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

// The first of `names` that exists in `directory`, or nullopt.
template <size_t N>
std::optional<fs::path> FirstPresent(const fs::path& directory,
                                     const std::array<std::string_view, N>& names) {
  for (std::string_view name : names) {
    if (IsFile(directory / name)) return directory / name;
  }
  return std::nullopt;
}

}  // namespace

Result<HfModelDirectory> OpenHfModelDirectory(const std::string& path) {
  const fs::path directory(path);
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    return Status::NotFound(path + ": no such directory");
  }
  const std::optional<fs::path> config_path = FirstPresent(directory, kConfigFiles);
  if (!config_path) {
    return Status::NotFound(path + ": not a hugging face model directory: no config.json");
  }
  const std::optional<fs::path> weights_path = FirstPresent(directory, kWeightFiles);
  if (!weights_path) {
    return Status::NotFound(path +
                            ": no safetensors weights (model.safetensors or "
                            "model.safetensors.index.json); pytorch_model.bin is not read");
  }
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> config_source,
                       MapFile(config_path->string()));
  QTK_ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(std::move(config_source)));
  QTK_ASSIGN_OR_RETURN(SafetensorsCheckpoint weights,
                       OpenSafetensorsCheckpoint(weights_path->string()));
  HfModelDirectory model{path, std::move(config), std::move(weights), {}};
  for (std::string_view name : kTokenizerFiles) {
    if (IsFile(directory / name)) model.tokenizer_files.emplace_back(name);
  }
  return model;
}

}  // namespace qtk
