// PlanModel: every output's tensor types, metadata, tensor order and exact layout.
#include "qtk/plan/output_plan.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/string_util.h"
#include "format/gguf_split.h"
#include "qtk/base/shape.h"
#include "qtk/quant/quantize.h"

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

// A generic-scheme output: general.file_type says Q8_0 or Q4_0 when every quantized tensor is
// that ggml type (llama.cpp runs the file); otherwise the key is dropped, and qtk.quant.scheme
// names the scheme the file was made with.
void MarkSchemeOutput(const Scheme& scheme, OutputPlan& plan) {
  std::optional<GgmlType> common;
  bool uniform = true;
  for (const PlannedTensor& tensor : plan.tensors) {
    if (!tensor.quantize) continue;
    if (tensor.scheme || (common && *common != tensor.type)) uniform = false;
    common = tensor.type;
  }
  std::optional<FileType> file_type;
  if (uniform && common == GgmlType::kQ8_0) file_type = FileType::kMostlyQ8_0;
  if (uniform && common == GgmlType::kQ4_0) file_type = FileType::kMostlyQ4_0;
  if (file_type) {
    SetAtEnd(plan.metadata, "general.file_type",
             GgufValue::Uint32(static_cast<uint32_t>(*file_type)));
  } else {
    RemoveKey(plan.metadata, "general.file_type");
  }
  SetAtEnd(plan.metadata, "qtk.quant.scheme", GgufValue::String(SchemeName(scheme)));
}

Status CheckProducible(const PlannedTensor& tensor, const OutputPlanOptions& options,
                       const std::string& input_path) {
  const std::string subject = "tensor '" + Printable(tensor.name) + "'";
  // safetensors allows any name; GGUF does not (the writer would refuse it after the output
  // was opened).
  if (tensor.name.size() > kGgufMaxNameBytes) {
    return Status::Unsupported(input_path + ": " + subject + ": name is " +
                               std::to_string(tensor.name.size()) + " bytes, GGUF allows " +
                               std::to_string(kGgufMaxNameBytes));
  }
  if (!tensor.quantize) return Status::Ok();
  if (IsQuantized(tensor.input_type) && !options.allow_requantize) {
    return Status::InvalidArgument(input_path + ": " + subject + " is already " +
                                   std::string(GgmlTypeName(tensor.input_type)) +
                                   "; requantizing loses quality, pass --allow-requantize to do "
                                   "it anyway");
  }
  return Status::Ok();
}

// The decision for one tensor of a generic-scheme output: --tensor-type and the token /
// output overrides first (ggml types), then the scheme for every quantizable tensor.
Result<PlannedTensor> PlanSchemeTensor(const InputTensor& tensor, const Scheme& scheme,
                                       const PlanOptions& options, SchemePlan* scheme_plan) {
  PlannedTensor planned;
  planned.type = tensor.type;
  const TensorDesc desc{tensor.name, tensor.type, tensor.shape};
  if (!AllowsQuantization(desc, options)) return planned;
  const TensorRole role = RoleOf(tensor.name);
  std::optional<GgmlType> ggml_type;
  if (options.token_embedding_type && role == TensorRole::kTokenEmbedding) {
    ggml_type = options.token_embedding_type;
  } else if (options.output_tensor_type && role == TensorRole::kOutput) {
    ggml_type = options.output_tensor_type;
  }
  for (const TensorTypeOverride& override : options.tensor_types) {
    if (!ggml_type && std::regex_search(tensor.name, override.regex)) ggml_type = override.type;
  }
  if (!ggml_type) ggml_type = SchemeGgmlType(scheme, tensor.row_length());
  if (ggml_type) {
    planned.type = *ggml_type;
    planned.quantize = *ggml_type != tensor.type;
    if (tensor.row_length() % GgmlBlockSize(*ggml_type) != 0) {
      return Status::InvalidArgument(
          "tensor '" + tensor.name + "': row length " + std::to_string(tensor.row_length()) +
          " is not a multiple of " + std::string(GgmlTypeName(*ggml_type)) + "'s block size");
    }
    return planned;
  }
  QTK_ASSIGN_OR_RETURN(*scheme_plan, PlanScheme(tensor.name, tensor.shape, scheme));
  planned.scheme = scheme;
  planned.type = scheme_plan->tensors.front().type;
  planned.quantize = true;
  planned.n_layout_tensors = scheme_plan->tensors.size();
  return planned;
}

// Lays out one output file: its GGUF tensors (a scheme tensor expands into its codes and
// companions, whose keys join the metadata) and their offsets.
Status LayOut(OutputPlan& plan, const std::vector<SchemePlan>& scheme_plans) {
  std::vector<GgufTensorInfo> infos;
  for (PlannedTensor& tensor : plan.tensors) {
    tensor.first_layout_index = infos.size();
    if (!tensor.scheme) {
      infos.push_back({tensor.name, tensor.type, tensor.shape, 0, 0});
      continue;
    }
    const SchemePlan& scheme_plan = scheme_plans[tensor.input_index];
    for (const SchemeTensor& part : scheme_plan.tensors) {
      infos.push_back({part.name, part.type, part.shape, 0, 0});
    }
    for (const GgufKeyValue& kv : scheme_plan.metadata) plan.metadata.push_back(kv);
  }
  QTK_ASSIGN_OR_RETURN(plan.layout, LayOutGguf(plan.metadata, std::move(infos)));
  for (PlannedTensor& tensor : plan.tensors) {
    tensor.output_bytes = 0;
    for (size_t k = 0; k < tensor.n_layout_tensors; ++k) {
      tensor.output_bytes += plan.layout.tensors[tensor.first_layout_index + k].n_bytes;
    }
  }
  return Status::Ok();
}

// --keep-split: one output file per input split, as llama-quantize writes them: tensors stay
// in their split, in their input order; the first file carries the metadata; every file
// gets split.no, split.count and split.tensors.count.
std::vector<OutputPlan> SplitLikeInput(const ModelInput& input, OutputPlan whole) {
  const size_t n_splits = input.n_splits();
  std::string prefix = whole.spec.path;
  if (prefix.size() > 5 && prefix.substr(prefix.size() - 5) == ".gguf") {
    prefix.resize(prefix.size() - 5);
  }
  std::sort(
      whole.tensors.begin(), whole.tensors.end(),
      [](const PlannedTensor& a, const PlannedTensor& b) { return a.input_index < b.input_index; });
  std::vector<OutputPlan> splits(n_splits);
  for (size_t k = 0; k < n_splits; ++k) {
    OutputPlan& split = splits[k];
    split.spec = whole.spec;
    split.spec.path = SplitPath(prefix, k, n_splits);
    if (k == 0) {
      split.metadata = whole.metadata;
      split.warnings = whole.warnings;
    }
    split.metadata.push_back(
        {std::string(kSplitNoKey), GgufValue::Uint16(static_cast<uint16_t>(k))});
    split.metadata.push_back(
        {std::string(kSplitCountKey), GgufValue::Uint16(static_cast<uint16_t>(n_splits))});
    split.metadata.push_back({std::string(kSplitTensorsCountKey),
                              GgufValue::Int32(static_cast<int32_t>(whole.tensors.size()))});
  }
  for (PlannedTensor& tensor : whole.tensors) {
    splits[input.SplitOf(tensor.input_index)].tensors.push_back(std::move(tensor));
  }
  return splits;
}

Result<std::vector<OutputPlan>> PlanOutput(const ModelInput& input, const ModelFacts& facts,
                                           const OutputSpec& spec,
                                           const OutputPlanOptions& options) {
  OutputPlan plan;
  plan.spec = spec;
  PlanOptions plan_options = options.plan;
  plan_options.file_type = spec.file_type;
  plan_options.has_importance = static_cast<bool>(options.importance);
  const bool converter_layout =
      !spec.scheme && input.is_conversion() && IsConverterFileType(spec.file_type);

  const auto& tensors = input.tensors();
  std::vector<SchemePlan> scheme_plans(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const InputTensor& tensor = tensors[i];
    PlannedTensor planned;
    if (spec.scheme) {
      QTK_ASSIGN_OR_RETURN(planned,
                           PlanSchemeTensor(tensor, *spec.scheme, plan_options, &scheme_plans[i]));
    } else {
      const TensorDecision decision =
          DecideTensorType({tensor.name, tensor.type, tensor.shape}, facts, plan_options);
      if (decision.requires_importance && !options.importance) {
        return Status::InvalidArgument(
            std::string(Info(spec.file_type).name) + ": tensor '" + Printable(tensor.name) +
            "' gets " + std::string(GgmlTypeName(decision.type)) +
            ", which needs an importance matrix (--imatrix FILE, made by llama-imatrix)");
      }
      planned.type = decision.type;
      planned.quantize = decision.quantize;
      planned.note = decision.note;
      if (decision.note.find("columns") != std::string::npos) {
        plan.warnings.push_back("tensor '" + Printable(tensor.name) + "': " + decision.note);
      }
    }
    planned.input_index = i;
    planned.name = tensor.name;
    planned.shape = tensor.shape;
    planned.input_type = tensor.type;
    planned.stored_type = input.stored_type_name(i);
    planned.input_bytes = input.stored_n_bytes(i);
    QTK_RETURN_IF_ERROR(CheckProducible(planned, options, input.path()));
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
  if (spec.scheme) MarkSchemeOutput(*spec.scheme, plan);
  std::vector<OutputPlan> plans;
  if (options.keep_split && input.n_splits() > 1) {
    plans = SplitLikeInput(input, std::move(plan));
  } else {
    plans.push_back(std::move(plan));
  }
  for (OutputPlan& one : plans) QTK_RETURN_IF_ERROR(LayOut(one, scheme_plans));
  return plans;
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
    if (!tensor.scheme && !CanQuantize(tensor.type)) {
      return Status::Unsupported(subject + ": qtk cannot produce " +
                                 std::string(GgmlTypeName(tensor.type)) + " yet");
    }
  }
  return Status::Ok();
}

std::string OutputTypeName(const OutputSpec& spec) {
  return spec.scheme ? SchemeName(*spec.scheme) : std::string(Info(spec.file_type).name);
}

std::string PlannedTensor::TypeName() const {
  return scheme ? SchemeName(*scheme) : std::string(GgmlTypeName(type));
}

uint64_t OutputPlan::n_elements() const {
  uint64_t n = 0;
  for (const PlannedTensor& tensor : tensors) {
    n += static_cast<uint64_t>(ElementCount(tensor.shape));
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
                                          const OutputPlanOptions& options) {
  const ModelFacts facts = FactsOf(input);
  std::set<std::string> paths;
  std::vector<OutputPlan> plans;
  for (const OutputSpec& spec : outputs) {
    if (!paths.insert(spec.path).second) {
      return Status::InvalidArgument(spec.path + ": named twice as an output");
    }
    QTK_RETURN_IF_ERROR(CheckNotAnInput(input, spec.path));
    QTK_ASSIGN_OR_RETURN(std::vector<OutputPlan> files, PlanOutput(input, facts, spec, options));
    for (OutputPlan& file : files) plans.push_back(std::move(file));
  }
  return plans;
}

}  // namespace qtk
