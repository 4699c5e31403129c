// A model's tensors, whatever holds them: a GGUF file, a safetensors file, a sharded
// safetensors checkpoint (its index file) or a Hugging Face model directory.
//
// OpenModel(path) decides which by looking at the path: a directory is a model directory, a
// *.json file a shard index, a file starting with "GGUF" (or named *.gguf) a GGUF file, any
// other file a safetensors file. Everything is validated on opening; only headers are read
// (the files are mapped, tensor data is touched when TensorData() is read).
//
// Shapes are in GGUF order, as in every public type (base/shape.h): the row length first. For
// a safetensors tensor that is the reverse of the file's own order; `qtk inspect` shows
// shapes outermost first, so a model shows the same shapes before and after conversion.
#ifndef QTK_MODEL_MODEL_SOURCE_H_
#define QTK_MODEL_MODEL_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "qtk/base/byte_source.h"
#include "qtk/base/status.h"
#include "qtk/convert/hf_model.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"
#include "qtk/format/safetensors.h"
#include "qtk/format/tensor_dtype.h"

namespace qtk {

struct ModelTensor {
  std::string name;
  TensorDtype dtype;
  std::vector<int64_t> shape;  // GGUF order: shape[0] is the row length
  size_t file = 0;             // into ModelSource::files()
  uint64_t offset = 0;         // absolute byte offset of the data in that file
  uint64_t n_bytes = 0;

  int64_t n_elements() const;
};

enum class ModelFormat : uint8_t { kGguf, kSafetensors, kSafetensorsSharded, kHfDirectory };

// "gguf", "safetensors", "safetensors-sharded", "hf-directory".
std::string_view ModelFormatName(ModelFormat format);

class ModelSource {
 public:
  ModelFormat format() const { return format_; }
  // What was opened: the file, the index or the directory.
  const std::string& path() const { return path_; }
  // The files holding tensor data (one, or the shards in index order).
  const std::vector<std::string>& files() const { return files_; }

  // File-level metadata. GGUF: its key/values. safetensors: __metadata__ (as strings); for a
  // sharded checkpoint first the index's metadata (total_size as u64), then the first shard's
  // __metadata__. A model directory's config is in hf_directory()->config.
  const std::vector<GgufKeyValue>& metadata() const;

  // Every tensor: GGUF in file order; safetensors shard by shard, in data order.
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  // nullptr if there is no tensor called `name`.
  const ModelTensor* FindTensor(std::string_view name) const;
  // The bytes of one tensor (not necessarily aligned). REQUIRES: `tensor` is one of tensors().
  std::span<const uint8_t> TensorData(const ModelTensor& tensor) const;
  // Checks that the file holding `tensor` still holds the bytes it was opened with, before
  // TensorData is read: a mapped file that shrank would raise SIGBUS (see
  // ByteSource::CheckUnchanged). REQUIRES: `tensor` is one of tensors().
  // Errors: IOError "<file>: changed while being read: ...".
  Status CheckUnchanged(const ModelTensor& tensor) const;
  // Hints for the mapping of `tensor`'s bytes: read soon (read-ahead), or done with (the
  // process gives its pages back; the page cache keeps them). REQUIRES: as TensorData.
  void AdviseSequential(const ModelTensor& tensor) const;
  void AdviseDone(const ModelTensor& tensor) const;

  // The parsed files behind the view; nullptr where the format does not apply.
  const GgufFile* gguf() const { return gguf_ ? &*gguf_ : nullptr; }
  // The parsed GGUF file itself, moved out of a source that is done with.
  // REQUIRES: format() == ModelFormat::kGguf.
  GgufFile TakeGguf() && { return std::move(*gguf_); }
  const SafetensorsCheckpoint* safetensors() const;
  const HfModelDirectory* hf_directory() const { return directory_ ? &*directory_ : nullptr; }

 private:
  friend class ModelSourceBuilder;

  ModelFormat format_ = ModelFormat::kGguf;
  std::string path_;
  std::vector<std::string> files_;
  std::vector<std::shared_ptr<const ByteSource>> sources_;  // parallel to files_
  std::vector<GgufKeyValue> metadata_;                      // safetensors formats only
  std::vector<ModelTensor> tensors_;
  std::unordered_map<std::string, size_t> by_name_;
  std::optional<GgufFile> gguf_;
  std::optional<SafetensorsCheckpoint> checkpoint_;
  std::optional<HfModelDirectory> directory_;
};

// Opens and validates whatever `path` holds (see the top of this file).
// Errors: NotFound if the path does not exist; the readers' errors; Corruption for a file
// that is neither GGUF nor safetensors.
Result<ModelSource> OpenModel(const std::string& path);

// Views of already parsed files.
ModelSource ModelSourceFromGguf(GgufFile file);
ModelSource ModelSourceFromSafetensors(SafetensorsCheckpoint checkpoint);
ModelSource ModelSourceFromHfDirectory(HfModelDirectory directory);

}  // namespace qtk

#endif  // QTK_MODEL_MODEL_SOURCE_H_
