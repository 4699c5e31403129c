// How convert_hf_to_gguf.py names a model: gguf-py's Metadata heuristics (internal).
//
// general.name, general.basename, general.finetune, general.version, general.organization and
// general.size_label come from the model id ("org/Name-7B-Instruct-v0.2"), taken from
// config.json's _name_or_path when it holds at most one '/', else from the model directory's
// name; a missing size label is computed from the parameter count ("1.7M", "260K").
// Words are classified with ASCII rules: Python's Unicode-aware str.isalpha()/islower()/title()
// give the same answers for ASCII names, which is what model ids are in practice.
#ifndef QTK_CONVERT_HF_NAMING_H_
#define QTK_CONVERT_HF_NAMING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qtk {

// Metadata.get_model_id_components.
struct ModelIdComponents {
  std::optional<std::string> full_name;  // the id without the organization
  std::optional<std::string> organization;
  std::optional<std::string> basename;
  std::optional<std::string> finetune;
  std::optional<std::string> version;
  std::optional<std::string> size_label;
};

// `total_params` < 0 means a LoRA adapter, 0 unknown (the script's convention).
ModelIdComponents GetModelIdComponents(std::string_view model_id, int64_t total_params);

// Metadata.id_to_title: "synth-a" -> "Synth A", "stories260K" -> "stories260K".
std::string IdToTitle(std::string_view id);

// gguf.size_label for a dense model: "1.7M", "260K", "6.7B".
std::string SizeLabel(uint64_t total_params);

// GGUFWriter.get_total_parameter_count's split of a model's parameters.
struct ParameterCount {
  uint64_t total = 0;
  uint64_t shared = 0;       // every tensor not named "*_exps.*"
  uint64_t expert = 0;       // one expert's share of the stacked expert tensors
  int64_t expert_count = 0;  // 0 for a dense model
};

// gguf.size_label: "<experts>x<shared + one expert>" for a mixture of experts ("4x10M"),
// SizeLabel(total) otherwise.
std::string SizeLabel(const ParameterCount& count);

// The general.* naming fields the script writes, in its order.
struct ModelNaming {
  std::string name;
  std::optional<std::string> version;
  std::optional<std::string> organization;
  std::optional<std::string> finetune;
  std::optional<std::string> basename;
  std::optional<std::string> size_label;
};

// Metadata.apply_metadata_heuristic for config.json's _name_or_path (nullopt if absent)
// and the model directory's name, then the computed size label if none was found.
ModelNaming NameModel(std::optional<std::string_view> name_or_path, std::string_view directory_name,
                      const ParameterCount& count);

}  // namespace qtk

#endif  // QTK_CONVERT_HF_NAMING_H_
