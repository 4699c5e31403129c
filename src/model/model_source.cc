// ModelSource: one read-only view over the GGUF and safetensors readers.
#include "qtk/model/model_source.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "base/byte_cursor.h"
#include "base/string_util.h"
#include "qtk/base/shape.h"

namespace qtk {

int64_t ModelTensor::n_elements() const { return ElementCount(shape); }

std::string_view ModelFormatName(ModelFormat format) {
  switch (format) {
    case ModelFormat::kGguf:
      return "gguf";
    case ModelFormat::kSafetensors:
      return "safetensors";
    case ModelFormat::kSafetensorsSharded:
      return "safetensors-sharded";
    case ModelFormat::kHfDirectory:
      return "hf-directory";
  }
  return "?";
}

const std::vector<GgufKeyValue>& ModelSource::metadata() const {
  return gguf_ ? gguf_->metadata() : metadata_;
}

const ModelTensor* ModelSource::FindTensor(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> ModelSource::TensorData(const ModelTensor& tensor) const {
  return sources_[tensor.file]->bytes().subspan(tensor.offset, tensor.n_bytes);
}

Status ModelSource::CheckUnchanged(const ModelTensor& tensor) const {
  return sources_[tensor.file]->CheckUnchanged();
}

void ModelSource::AdviseSequential(const ModelTensor& tensor) const {
  sources_[tensor.file]->AdviseSequential(tensor.offset, tensor.n_bytes);
}

void ModelSource::AdviseDone(const ModelTensor& tensor) const {
  sources_[tensor.file]->AdviseDone(tensor.offset, tensor.n_bytes);
}

const SafetensorsCheckpoint* ModelSource::safetensors() const {
  if (directory_) return &directory_->weights;
  return checkpoint_ ? &*checkpoint_ : nullptr;
}

// Friend of ModelSource: fills the common view from a parsed file.
class ModelSourceBuilder {
 public:
  static ModelSource FromGguf(GgufFile file) {
    ModelSource model;
    model.format_ = ModelFormat::kGguf;
    model.path_ = file.path();
    model.files_ = {file.path()};
    model.sources_ = {file.source()};
    model.tensors_.reserve(file.tensors().size());
    for (const GgufTensorInfo& info : file.tensors()) {
      model.tensors_.push_back({info.name, TensorDtype::Ggml(info.type), info.shape, 0,
                                file.data_offset() + info.offset, info.n_bytes});
    }
    model.gguf_ = std::move(file);
    Index(model);
    return model;
  }

  static ModelSource FromCheckpoint(SafetensorsCheckpoint checkpoint) {
    ModelSource model;
    model.format_ =
        checkpoint.index() ? ModelFormat::kSafetensorsSharded : ModelFormat::kSafetensors;
    model.path_ = checkpoint.path();
    model.checkpoint_ = std::move(checkpoint);
    AddCheckpoint(model, *model.checkpoint_);
    return model;
  }

  static ModelSource FromDirectory(HfModelDirectory directory) {
    ModelSource model;
    model.format_ = ModelFormat::kHfDirectory;
    model.path_ = directory.path;
    model.directory_ = std::move(directory);
    AddCheckpoint(model, model.directory_->weights);
    return model;
  }

 private:
  static void AddCheckpoint(ModelSource& model, const SafetensorsCheckpoint& checkpoint) {
    for (const SafetensorsFile& shard : checkpoint.shards()) {
      model.files_.push_back(shard.path());
      model.sources_.push_back(shard.source());
    }
    model.tensors_.reserve(checkpoint.tensors().size());
    for (SafetensorsCheckpoint::TensorRef ref : checkpoint.tensors()) {
      const SafetensorsTensorInfo& info = checkpoint.Info(ref);
      const uint64_t offset = checkpoint.shards()[ref.shard].data_offset() + info.begin;
      model.tensors_.push_back({info.name, TensorDtype::Safetensors(info.dtype),
                                ToGgufOrder(info.shape), ref.shard, offset, info.n_bytes()});
    }
    AddMetadata(model.metadata_, checkpoint);
    Index(model);
  }

  static void AddMetadata(std::vector<GgufKeyValue>& metadata,
                          const SafetensorsCheckpoint& checkpoint) {
    if (checkpoint.index()) {
      const SafetensorsIndex& index = *checkpoint.index();
      if (index.total_size)
        metadata.push_back({"total_size", GgufValue::Uint64(*index.total_size)});
      for (const auto& [key, value] : index.metadata) {
        metadata.push_back({key, GgufValue::String(value)});
      }
    }
    if (checkpoint.shards().empty()) return;
    for (const auto& entry : checkpoint.shards().front().metadata()) {
      const std::string& key = entry.first;
      const std::string& value = entry.second;
      const bool present = std::any_of(metadata.begin(), metadata.end(),
                                       [&](const GgufKeyValue& kv) { return kv.key == key; });
      if (!present) metadata.push_back({key, GgufValue::String(value)});
    }
  }

  static void Index(ModelSource& model) {
    model.by_name_.reserve(model.tensors_.size());
    for (size_t i = 0; i < model.tensors_.size(); ++i) {
      model.by_name_.emplace(model.tensors_[i].name, i);
    }
  }
};

ModelSource ModelSourceFromGguf(GgufFile file) {
  return ModelSourceBuilder::FromGguf(std::move(file));
}
ModelSource ModelSourceFromSafetensors(SafetensorsCheckpoint checkpoint) {
  return ModelSourceBuilder::FromCheckpoint(std::move(checkpoint));
}
ModelSource ModelSourceFromHfDirectory(HfModelDirectory directory) {
  return ModelSourceBuilder::FromDirectory(std::move(directory));
}

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A u64 length then '{': the start of every safetensors file.
bool LooksLikeSafetensors(std::span<const uint8_t> bytes) {
  return bytes.size() >= 9 && bytes[8] == '{';
}

}  // namespace

Result<ModelSource> OpenModel(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) return Status::NotFound(path + ": no such file or directory");
  if (fs::is_directory(status)) {
    QTK_ASSIGN_OR_RETURN(HfModelDirectory directory, OpenHfModelDirectory(path));
    return ModelSourceFromHfDirectory(std::move(directory));
  }
  if (EndsWith(path, ".json")) {
    QTK_ASSIGN_OR_RETURN(SafetensorsCheckpoint checkpoint, OpenSafetensorsCheckpoint(path));
    return ModelSourceFromSafetensors(std::move(checkpoint));
  }
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
  const std::span<const uint8_t> bytes = source->bytes();
  if (EndsWith(path, ".gguf") || HasGgufMagic(bytes)) {
    QTK_ASSIGN_OR_RETURN(GgufFile file, ParseGguf(std::move(source)));
    return ModelSourceFromGguf(std::move(file));
  }
  if (EndsWith(path, ".safetensors") || LooksLikeSafetensors(bytes)) {
    QTK_ASSIGN_OR_RETURN(SafetensorsCheckpoint checkpoint, OpenSafetensorsCheckpoint(path));
    return ModelSourceFromSafetensors(std::move(checkpoint));
  }
  const auto head = bytes.first(std::min<size_t>(bytes.size(), 8));
  return CorruptionAt(
      path, 0, "",
      "not a gguf or safetensors file (starts with '" +
          Printable(std::string_view(reinterpret_cast<const char*>(head.data()), head.size())) +
          "')");
}

}  // namespace qtk
