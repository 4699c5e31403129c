// WeightSource over a GGUF file (qtk's generic layouts included) or a ModelInput.
#include "qtk/report/weight_source.h"

#include <cstring>
#include <filesystem>
#include <set>

#include "qtk/base/byte_source.h"
#include "qtk/base/shape.h"
#include "qtk/scheme/scheme.h"
#include "scheme/scheme_layout.h"

namespace qtk {
namespace {

class GgufWeights final : public WeightSource {
 public:
  // Reads `input`'s GGUF file, which it keeps alive. REQUIRES: input->gguf() != nullptr.
  explicit GgufWeights(std::unique_ptr<ModelInput> input)
      : input_(std::move(input)), file_(*input_->gguf()) {
    Index();
  }

  const std::string& path() const override { return file_.path(); }
  std::string Describe() const override {
    std::string text = "gguf v" + std::to_string(file_.version()) + ", " +
                       std::to_string(weights_.size()) + " tensors";
    if (weights_.size() != file_.tensors().size()) {
      text += " (" + std::to_string(file_.tensors().size()) + " with qtk scheme companions)";
    }
    return text;
  }
  uint64_t file_bytes() const override { return file_.source()->bytes().size(); }
  const std::vector<WeightInfo>& weights() const override { return weights_; }

  Result<std::vector<float>> ReadF32(size_t i, int n_threads) const override {
    return DequantizeFromGguf(file_, weights_[i].name, n_threads);
  }

 private:
  // One weight per tensor that is not a companion; a generic-scheme tensor takes its
  // logical shape and scheme name from its qtk.quant.* keys and its companions' bytes.
  void Index() {
    const std::vector<std::string> companion_list = SchemeCompanionNames(file_);
    const std::set<std::string> companions(companion_list.begin(), companion_list.end());
    for (const GgufTensorInfo& info : file_.tensors()) {
      if (companions.contains(info.name)) continue;
      WeightInfo weight{info.name, std::string(GgmlTypeName(info.type)), info.shape, info.n_bytes};
      const GgufValue* scheme = file_.FindValue(SchemeKey(info.name, kSchemeKey));
      if (scheme != nullptr && scheme->AsString()) {
        weight.type = *scheme->AsString();
        const GgufValue* shape = file_.FindValue(SchemeKey(info.name, kShapeKey));
        if (shape != nullptr && shape->is_array() &&
            shape->element_type() == GgufValueType::kInt64) {
          weight.shape.resize(shape->array_size());
          for (size_t d = 0; d < weight.shape.size(); ++d) {
            weight.shape[d] = shape->Element<int64_t>(d);
          }
        }
        const std::string prefix = info.name + ".";
        for (const GgufTensorInfo& other : file_.tensors()) {
          if (companions.contains(other.name) && other.name.starts_with(prefix)) {
            weight.n_bytes += other.n_bytes;
          }
        }
      }
      weights_.push_back(std::move(weight));
    }
  }

  std::unique_ptr<ModelInput> input_;
  const GgufFile& file_;
  std::vector<WeightInfo> weights_;
};

// A ModelInput seen as weights; owns the input or borrows it.
class InputWeights final : public WeightSource {
 public:
  InputWeights(const ModelInput& input, std::unique_ptr<ModelInput> owned)
      : owned_(std::move(owned)), input_(input) {
    for (const InputTensor& tensor : input_.tensors()) {
      weights_.push_back(
          {tensor.name, std::string(GgmlTypeName(tensor.type)), tensor.shape, tensor.n_bytes()});
    }
  }

  const std::string& path() const override { return input_.path(); }
  std::string Describe() const override { return input_.Describe(); }
  uint64_t file_bytes() const override { return input_.file_bytes(); }
  const std::vector<WeightInfo>& weights() const override { return weights_; }

  Result<std::vector<float>> ReadF32(size_t i, int n_threads) const override {
    std::vector<float> values(static_cast<size_t>(input_.tensors()[i].n_elements()));
    QTK_RETURN_IF_ERROR(input_.ReadF32(i, values, n_threads));
    return values;
  }
  void Release(size_t i) const override { input_.Release(i); }

 private:
  std::unique_ptr<ModelInput> owned_;
  const ModelInput& input_;
  std::vector<WeightInfo> weights_;
};

}  // namespace

int64_t WeightInfo::n_elements() const { return ElementCount(shape); }

std::unique_ptr<WeightSource> WeightsOf(std::unique_ptr<ModelInput> input) {
  if (input->gguf() != nullptr) return std::make_unique<GgufWeights>(std::move(input));
  const ModelInput& view = *input;
  return std::make_unique<InputWeights>(view, std::move(input));
}

std::unique_ptr<WeightSource> WeightSourceOf(const ModelInput& input) {
  return std::make_unique<InputWeights>(input, nullptr);
}

}  // namespace qtk
