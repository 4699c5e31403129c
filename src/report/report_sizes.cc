// The size part of a report: every target planned exactly as `qtk quantize` plans it, and
// its bytes broken down by tensor class and by type.
#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "qtk/base/shape.h"
#include "qtk/report/report.h"

namespace qtk {
namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

uint64_t ElementsOf(const std::vector<int64_t>& shape) {
  return static_cast<uint64_t>(ElementCount(shape));
}

void AddTo(ByteGroup& group, const PlannedTensor& tensor) {
  ++group.n_tensors;
  group.n_weights += ElementsOf(tensor.shape);
  group.n_bytes += tensor.output_bytes;
}

// Sums a plan into its class and type groups.
void Break(const OutputPlan& plan, TargetSize& size) {
  std::vector<ByteGroup> classes(kTensorClassCount);
  std::vector<std::set<std::string>> class_types(kTensorClassCount);
  std::map<std::string, ByteGroup> types;
  for (const PlannedTensor& tensor : plan.tensors) {
    const auto c = static_cast<size_t>(ClassOf(tensor.name));
    const std::string type = tensor.TypeName();
    AddTo(classes[c], tensor);
    class_types[c].insert(type);
    ByteGroup& by_type = types[type];
    by_type.name = type;
    AddTo(by_type, tensor);
    size.tensor_bytes += tensor.output_bytes;
    size.n_weights += ElementsOf(tensor.shape);
  }
  for (size_t c = 0; c < classes.size(); ++c) {
    if (classes[c].n_tensors == 0) continue;
    classes[c].name = std::string(TensorClassKey(static_cast<TensorClass>(c)));
    classes[c].types.assign(class_types[c].begin(), class_types[c].end());
    size.classes.push_back(std::move(classes[c]));
  }
  for (auto& [name, group] : types) size.types.push_back(std::move(group));
}

// PlanModel needs an output path per target; none is written, so any distinct name does.
OutputSpec SpecFor(const ReportTarget& target, size_t index) {
  return OutputSpec{"qtk-report-target-" + std::to_string(index) + ".gguf", target.file_type,
                    target.scheme};
}

}  // namespace

double NominalBits(GgmlType type) {
  switch (type) {
    case GgmlType::kF64:
    case GgmlType::kI64:
      return 64;
    case GgmlType::kF32:
    case GgmlType::kI32:
      return 32;
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kI16:
      return 16;
    case GgmlType::kQ8_0:
    case GgmlType::kQ8_1:
    case GgmlType::kQ8_K:
    case GgmlType::kI8:
      return 8;
    case GgmlType::kQ6_K:
      return 6;
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ5_K:
      return 5;
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ4_K:
    case GgmlType::kIQ4_NL:
    case GgmlType::kIQ4_XS:
    case GgmlType::kMXFP4:
    case GgmlType::kNVFP4:
      return 4;
    case GgmlType::kQ3_K:
    case GgmlType::kIQ3_XXS:
    case GgmlType::kIQ3_S:
      return 3;
    case GgmlType::kQ2_K:
    case GgmlType::kIQ2_XXS:
    case GgmlType::kIQ2_XS:
    case GgmlType::kIQ2_S:
    case GgmlType::kTQ2_0:
      return 2;
    case GgmlType::kTQ1_0:
      return 1.58;  // log2(3): one ternary digit
    case GgmlType::kIQ1_S:
    case GgmlType::kIQ1_M:
    case GgmlType::kQ1_0:
      return 1;
  }
  return 0;
}

double NominalBits(const ReportTarget& target) {
  if (!target.scheme) return NominalBits(Info(target.file_type).default_type);
  if (target.scheme->kind == SchemeKind::kAffine) return target.scheme->affine.bits;
  return 4;
}

TensorClass ClassOf(std::string_view name) {
  if (Contains(name, "norm")) return TensorClass::kNorm;
  const TensorRole role = RoleOf(name);
  if (role == TensorRole::kTokenEmbedding) return TensorClass::kTokenEmbedding;
  if (role == TensorRole::kOutput) return TensorClass::kOutput;
  if (Contains(name, "attn")) return TensorClass::kAttention;
  if (Contains(name, "ffn")) return TensorClass::kFeedForward;
  return TensorClass::kOther;
}

namespace {

// Each class's two names, in TensorClass's order: the one table both functions read.
struct TensorClassNames {
  std::string_view name;  // for people
  std::string_view key;   // for JSON and CSV
};
constexpr std::array<TensorClassNames, kTensorClassCount> kTensorClassNames = {{
    {"token embedding", "token_embedding"},
    {"attention", "attention"},
    {"feed-forward", "feed_forward"},
    {"output", "output"},
    {"norms", "norms"},
    {"other", "other"},
}};

}  // namespace

std::string_view TensorClassName(TensorClass tensor_class) {
  return kTensorClassNames[static_cast<size_t>(tensor_class)].name;
}

std::string_view TensorClassKey(TensorClass tensor_class) {
  return kTensorClassNames[static_cast<size_t>(tensor_class)].key;
}

double TargetSize::bits_per_weight() const {
  if (n_weights == 0) return 0;
  return static_cast<double>(tensor_bytes) * 8.0 / static_cast<double>(n_weights);
}

double TargetSize::ideal_bytes() const {
  return static_cast<double>(n_weights) * nominal_bits / 8.0;
}

double SizeReport::ratio_to_f16(size_t i) const {
  if (f16_file_bytes == 0) return 0;
  return static_cast<double>(targets[i].file_bytes) / static_cast<double>(f16_file_bytes);
}

double SizeReport::ratio_to_input(size_t i) const {
  if (input_file_bytes == 0) return 0;
  return static_cast<double>(targets[i].file_bytes) / static_cast<double>(input_file_bytes);
}

Result<SizeReport> ReportSizes(const ModelInput& input, const std::vector<ReportTarget>& targets,
                               const PlanOptions& plan) {
  SizeReport report;
  report.input_file_bytes = input.file_bytes();
  report.n_tensors = input.tensors().size();
  report.input_tensor_bytes = input.stored_tensor_bytes();
  for (const InputTensor& tensor : input.tensors()) {
    report.n_weights += static_cast<uint64_t>(tensor.n_elements());
  }
  OutputPlanOptions options;
  options.plan = plan;
  options.allow_requantize = true;  // a report may look at requantizing; it writes nothing
  std::vector<OutputSpec> specs;
  for (size_t i = 0; i < targets.size(); ++i) specs.push_back(SpecFor(targets[i], i));
  // The F16 reference, planned even when F16 is not a target.
  specs.push_back(SpecFor({"F16", FileType::kMostlyF16, std::nullopt}, targets.size()));
  QTK_ASSIGN_OR_RETURN(std::vector<OutputPlan> plans, PlanModel(input, specs, options));
  report.f16_file_bytes = plans.back().layout.file_bytes();
  plans.pop_back();
  for (size_t i = 0; i < targets.size(); ++i) {
    TargetSize size;
    size.target = targets[i];
    size.file_bytes = plans[i].layout.file_bytes();
    size.nominal_bits = NominalBits(targets[i]);
    size.warnings = plans[i].warnings;
    Break(plans[i], size);
    report.targets.push_back(std::move(size));
  }
  report.plans = std::move(plans);
  return report;
}

}  // namespace qtk
