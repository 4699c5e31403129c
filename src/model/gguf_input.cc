// A GGUF file as a ModelInput: tensors are read in place through the mapping.
#include <cstring>

#include "format/gguf_split.h"
#include "qtk/base/shape.h"
#include "qtk/model/model_input.h"
#include "qtk/quant/quantize.h"

namespace qtk {

int64_t InputTensor::n_elements() const { return ElementCount(shape); }

uint64_t ModelInput::stored_tensor_bytes() const {
  uint64_t n = 0;
  for (size_t i = 0; i < tensors().size(); ++i) n += stored_n_bytes(i);
  return n;
}

namespace {

// One GGUF file, or the shards of a split model (gguf-split's "-00001-of-00003.gguf" files),
// read as one model. Tensors are read in place through the mappings.
class GgufInput final : public ModelInput {
 public:
  explicit GgufInput(std::vector<GgufFile> files) : files_(std::move(files)) {
    path_ = files_.front().path();
    for (size_t f = 0; f < files_.size(); ++f) {
      const auto& infos = files_[f].tensors();
      for (size_t t = 0; t < infos.size(); ++t) {
        tensors_.push_back({infos[t].name, infos[t].type, infos[t].shape});
        where_.push_back({f, t});
      }
    }
  }

  std::string Describe() const override {
    std::string text = "gguf v" + std::to_string(files_.front().version()) + ", ";
    if (files_.size() > 1) text += std::to_string(files_.size()) + " splits, ";
    return text + std::to_string(tensors_.size()) + " tensors";
  }
  const std::string& path() const override { return path_; }
  uint64_t file_bytes() const override {
    uint64_t n = 0;
    for (const GgufFile& file : files_) n += file.source()->size();
    return n;
  }
  std::vector<std::string> files() const override {
    std::vector<std::string> paths;
    for (const GgufFile& file : files_) paths.push_back(file.path());
    return paths;
  }
  const std::vector<GgufKeyValue>& metadata() const override { return files_[0].metadata(); }
  const std::vector<InputTensor>& tensors() const override { return tensors_; }
  bool is_conversion() const override { return false; }
  size_t n_splits() const override { return files_.size(); }
  const GgufFile* gguf() const override { return files_.size() == 1 ? &files_[0] : nullptr; }
  size_t SplitOf(size_t i) const override { return where_[i].file; }
  Status CheckUnchanged(size_t i) const override { return File(i).source()->CheckUnchanged(); }

  std::span<const uint8_t> StoredBytes(size_t i) const override {
    return File(i).TensorData(Info(i));
  }

  Status ReadF32(size_t i, std::span<float> dst, int n_threads) const override {
    QTK_RETURN_IF_ERROR(CheckUnchanged(i));
    const GgufFile& file = File(i);
    const GgufTensorInfo& info = Info(i);
    const std::span<const uint8_t> bytes = file.TensorData(info);
    file.source()->AdviseSequential(file.data_offset() + info.offset, info.n_bytes);
    if (info.n_elements() == 0) return Status::Ok();
    Status status = DequantizeRows(info.type, bytes, info.row_length(), dst, n_threads);
    if (!status.ok()) return status.WithPrefix(file.path() + ": tensor '" + info.name + "'");
    return Status::Ok();
  }

  Status ReadRowsF32(size_t i, int64_t first_row, std::span<float> dst) const override {
    if (dst.empty()) return Status::Ok();
    const GgufFile& file = File(i);
    const GgufTensorInfo& info = Info(i);
    const int64_t row_length = info.row_length();
    const uint64_t row_bytes = GgmlRowBytes(info.type, row_length);
    const uint64_t n_rows = dst.size() / static_cast<uint64_t>(row_length);
    const std::span<const uint8_t> bytes = file.TensorData(info).subspan(
        static_cast<uint64_t>(first_row) * row_bytes, n_rows * row_bytes);
    Status status = DequantizeRows(info.type, bytes, row_length, dst, 1);
    if (!status.ok()) return status.WithPrefix(file.path() + ": tensor '" + info.name + "'");
    return Status::Ok();
  }

  void Prefetch(size_t i) const override {
    const GgufTensorInfo& info = Info(i);
    File(i).source()->AdviseSequential(File(i).data_offset() + info.offset, info.n_bytes);
  }

  void Release(size_t i) const override {
    const GgufTensorInfo& info = Info(i);
    File(i).source()->AdviseDone(File(i).data_offset() + info.offset, info.n_bytes);
  }

 private:
  struct Where {
    size_t file;
    size_t tensor;
  };
  const GgufFile& File(size_t i) const { return files_[where_[i].file]; }
  const GgufTensorInfo& Info(size_t i) const { return File(i).tensors()[where_[i].tensor]; }

  std::vector<GgufFile> files_;
  std::string path_;
  std::vector<InputTensor> tensors_;
  std::vector<Where> where_;
};

}  // namespace

std::unique_ptr<ModelInput> MakeGgufInput(GgufFile file) {
  std::vector<GgufFile> files;
  files.push_back(std::move(file));
  return std::make_unique<GgufInput>(std::move(files));
}

Result<std::unique_ptr<ModelInput>> MakeSplitGgufInput(GgufFile first) {
  QTK_ASSIGN_OR_RETURN(std::vector<GgufFile> files, OpenGgufSplits(std::move(first)));
  return std::unique_ptr<ModelInput>(std::make_unique<GgufInput>(std::move(files)));
}

Result<std::unique_ptr<ModelInput>> OpenGgufInput(const std::string& path) {
  QTK_ASSIGN_OR_RETURN(GgufFile file, ReadGgufFile(path));
  return MakeSplitGgufInput(std::move(file));
}

}  // namespace qtk
