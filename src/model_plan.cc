// PlanModel: every output's tensor types, metadata, tensor order and exact layout.
#include <algorithm>
#include <filesystem>
#include <set>

#include "qtk/quantize.h"
#include "qtk/quantize_model.h"
#include "string_util.h"

namespace qtk {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION

// Counts above this (no real model has a million layers or heads) are clamped: the mixes
// compute 7 * n_layers and the like in int, which a hostile block_count would overflow.
constexpr uint64_t kMaxModelCount = uint64_t{1} << 20;

int MetadataInt(const std::vector<GgufKeyValue>& metadata, const std::string& key) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) {
      return static_cast<int>(std::min(kv.value.AsUint().value_or(0), kMaxModelCount));
    }
  }
  return 0;
}

std::string Architecture(const std::vector<GgufKeyValue>& metadata) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == "general.architecture" && kv.value.AsString()) return *kv.value.AsString();
  }
  return "";
}

ModelFacts FactsOf(const ModelInput& input) {
  const auto& metadata = input.metadata();
  const std::string arch = Architecture(metadata);
  std::vector<std::string> names;
  for (const InputTensor& tensor : input.tensors()) names.push_back(tensor.name);
  return MakeModelFacts({arch, MetadataInt(metadata, arch + ".block_count"),
                         MetadataInt(metadata, arch + ".attention.head_count"),
                         MetadataInt(metadata, arch + ".attention.head_count_kv"),
                         MetadataInt(metadata, arch + ".expert_count")},
                        names);
}

void RemoveKey(std::vector<GgufKeyValue>& metadata, std::string_view key) {
  std::erase_if(metadata, [key](const GgufKeyValue& kv) { return kv.key == key; });
}

// Sets `key`, replacing any previous value and moving it to the end (gguf_set_val's way).
void SetAtEnd(std::vector<GgufKeyValue>& metadata, const std::string& key, GgufValue value) {
  RemoveKey(metadata, key);
  metadata.push_back({key, std::move(value)});
}

// convert_hf_to_gguf.py writes these types itself; the layout is then the converter's.
bool IsConverterFileType(FileType type) {
  return type == FileType::kAllF32 || type == FileType::kMostlyF16 ||
         type == FileType::kMostlyBF16 || type == FileType::kMostlyQ8_0;
}

std::vector<GgufKeyValue> OutputMetadata(const ModelInput& input, FileType file_type,
                                         bool converter_layout,
                                         const std::vector<GgufKeyValue>& overrides) {
  std::vector<GgufKeyValue> metadata = input.metadata();
  const GgufValue file_type_value = GgufValue::Uint32(static_cast<uint32_t>(file_type));
  if (converter_layout) {
    for (GgufKeyValue& kv : metadata) {
      if (kv.key == "general.file_type") kv.value = file_type_value;
    }
  } else {
    for (std::string_view key : {"split.no", "split.count", "split.tensors.count"}) {
      RemoveKey(metadata, key);
    }
    SetAtEnd(metadata, "general.quantization_version", GgufValue::Uint32(kQuantizationVersion));
    SetAtEnd(metadata, "general.file_type", file_type_value);
  }
  for (const GgufKeyValue& kv : overrides) SetAtEnd(metadata, kv.key, kv.value);
  return metadata;
}

Status CheckProducible(const PlannedTensor& tensor, const QuantizeModelOptions& options,
                       const std::string& input_path) {
  if (!tensor.quantize) return Status::Ok();
  const std::string subject = "tensor '" + Printable(tensor.name) + "'";
  if (IsQuantized(tensor.input_type) && !options.allow_requantize) {
    return Status::InvalidArgument(input_path + ": " + subject + " is already " +
                                   std::string(GgmlTypeName(tensor.input_type)) +
                                   "; requantizing loses quality, pass --allow-requantize to do "
                                   "it anyway");
  }
  return Status::Ok();
}

Result<OutputPlan> PlanOutput(const ModelInput& input, const ModelFacts& facts,
                              const OutputSpec& spec, const QuantizeModelOptions& options) {
  OutputPlan plan;
  plan.spec = spec;
  PlanOptions plan_options = options.plan;
  plan_options.file_type = spec.file_type;
  plan_options.has_importance = static_cast<bool>(options.importance);
  const bool converter_layout = input.is_conversion() && IsConverterFileType(spec.file_type);

  const auto& tensors = input.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const InputTensor& tensor = tensors[i];
    const TensorDecision decision =
        DecideTensorType({tensor.name, tensor.type, tensor.shape}, facts, plan_options);
    PlannedTensor planned{i,
                          tensor.name,
                          tensor.shape,
                          tensor.type,
                          decision.type,
                          decision.quantize,
                          decision.note,
                          tensor.n_bytes(),
                          GgmlRowBytes(decision.type, tensor.n_elements())};
    if (decision.requires_importance && !options.importance) {
      return Status::InvalidArgument(
          std::string(Info(spec.file_type).name) + ": tensor '" + Printable(tensor.name) +
          "' gets " + std::string(GgmlTypeName(decision.type)) +
          ", which needs an importance matrix (--imatrix FILE, made by llama-imatrix)");
    }
    QTK_RETURN_IF_ERROR(CheckProducible(planned, options, input.path()));
    if (!decision.note.empty() && decision.note.find("columns") != std::string::npos) {
      plan.warnings.push_back("tensor '" + Printable(tensor.name) + "': " + decision.note);
    }
    plan.tensors.push_back(std::move(planned));
  }
  if (!converter_layout) {
    std::stable_sort(plan.tensors.begin(), plan.tensors.end(),
                     [](const PlannedTensor& a, const PlannedTensor& b) {
                       return LlamaQuantizeOrder(a.name, b.name);
                     });
  }
  plan.metadata =
      OutputMetadata(input, spec.file_type, converter_layout, options.metadata_overrides);
  std::vector<GgufTensorInfo> infos;
  for (const PlannedTensor& tensor : plan.tensors) {
    infos.push_back({tensor.name, tensor.type, tensor.shape, 0, 0});
  }
  QTK_ASSIGN_OR_RETURN(plan.layout, LayOutGguf(plan.metadata, std::move(infos)));
  return plan;
}

// Refuses an output that is (through any link or "..") one of the input's files.
Status CheckNotAnInput(const ModelInput& input, const std::string& output) {
  std::error_code error;
  for (const std::string& file : input.files()) {
    if (std::filesystem::equivalent(file, output, error)) {
      return Status::InvalidArgument(output + ": is the input file " + file +
                                     "; refusing to overwrite the input");
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckKernelsExist(const OutputPlan& plan) {
  for (const PlannedTensor& tensor : plan.tensors) {
    if (!tensor.quantize) continue;
    const std::string subject = plan.spec.path + ": tensor '" + Printable(tensor.name) + "'";
    if (!CanDequantize(tensor.input_type)) {
      return Status::Unsupported(subject + ": qtk cannot read " +
                                 std::string(GgmlTypeName(tensor.input_type)) + " as float");
    }
    if (!CanQuantize(tensor.type)) {
      return Status::Unsupported(subject + ": qtk cannot produce " +
                                 std::string(GgmlTypeName(tensor.type)) + " yet");
    }
  }
  return Status::Ok();
}

uint64_t OutputPlan::n_elements() const {
  uint64_t n = 0;
  for (const PlannedTensor& tensor : tensors) {
    uint64_t elements = 1;
    for (int64_t d : tensor.shape) elements *= static_cast<uint64_t>(d);
    n += elements;
  }
  return n;
}

bool LlamaQuantizeOrder(std::string_view a, std::string_view b) {
  const int layer_a = LayerOf(a).value_or(-1);
  const int layer_b = LayerOf(b).value_or(-1);
  if (layer_a != layer_b) return layer_a < layer_b;
  return a < b;
}

Result<std::vector<OutputPlan>> PlanModel(const ModelInput& input,
                                          const std::vector<OutputSpec>& outputs,
                                          const QuantizeModelOptions& options) {
  const ModelFacts facts = FactsOf(input);
  std::set<std::string> paths;
  std::vector<OutputPlan> plans;
  for (const OutputSpec& spec : outputs) {
    if (!paths.insert(spec.path).second) {
      return Status::InvalidArgument(spec.path + ": named twice as an output");
    }
    QTK_RETURN_IF_ERROR(CheckNotAnInput(input, spec.path));
    QTK_ASSIGN_OR_RETURN(OutputPlan plan, PlanOutput(input, facts, spec, options));
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace qtk
