// A GGUF file as a ModelInput: tensors are read in place through the mapping.
#include <cstring>

#include "qtk/model_input.h"
#include "qtk/quantize.h"

namespace qtk {

int64_t InputTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

uint64_t ModelInput::stored_tensor_bytes() const {
  uint64_t n = 0;
  for (size_t i = 0; i < tensors().size(); ++i) n += stored_n_bytes(i);
  return n;
}

namespace {

class GgufInput final : public ModelInput {
 public:
  explicit GgufInput(GgufFile file) : file_(std::move(file)), path_(file_.path()) {
    for (const GgufTensorInfo& info : file_.tensors()) {
      tensors_.push_back({info.name, info.type, info.shape});
    }
  }

  std::string Describe() const override {
    return "gguf v" + std::to_string(file_.version()) + ", " +
           std::to_string(tensors_.size()) + " tensors";
  }
  const std::string& path() const override { return path_; }
  uint64_t file_bytes() const override { return file_.source()->size(); }
  const std::vector<GgufKeyValue>& metadata() const override { return file_.metadata(); }
  const std::vector<InputTensor>& tensors() const override { return tensors_; }
  bool is_conversion() const override { return false; }

  Status CheckUnchanged(size_t /*i*/) const override { return file_.source()->CheckUnchanged(); }

  std::span<const uint8_t> StoredBytes(size_t i) const override {
    return file_.TensorData(file_.tensors()[i]);
  }

  Status ReadF32(size_t i, std::span<float> dst, int n_threads) const override {
    QTK_RETURN_IF_ERROR(CheckUnchanged(i));
    const GgufTensorInfo& info = file_.tensors()[i];
    const std::span<const uint8_t> bytes = file_.TensorData(info);
    file_.source()->AdviseSequential(file_.data_offset() + info.offset, info.n_bytes);
    if (info.n_elements() == 0) return Status::Ok();
    Status status = DequantizeRows(info.type, bytes, info.row_length(), dst, n_threads);
    if (!status.ok()) return status.WithPrefix(path_ + ": tensor '" + info.name + "'");
    return Status::Ok();
  }

  void Release(size_t i) const override {
    const GgufTensorInfo& info = file_.tensors()[i];
    file_.source()->AdviseDone(file_.data_offset() + info.offset, info.n_bytes);
  }

 private:
  GgufFile file_;
  std::string path_;
  std::vector<InputTensor> tensors_;
};

}  // namespace

std::unique_ptr<ModelInput> MakeGgufInput(GgufFile file) {
  return std::make_unique<GgufInput>(std::move(file));
}

Result<std::unique_ptr<ModelInput>> OpenGgufInput(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(GgufFile file, ReadGgufFile(path));
  return MakeGgufInput(std::move(file));
}

}  // namespace qtk
