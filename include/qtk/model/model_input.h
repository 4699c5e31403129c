// A model to quantize, seen the way a GGUF file presents it: metadata, tensors with GGUF
// names and shapes, and a way to read each tensor as F32.
//
// A GGUF input is that directly. A Hugging Face checkpoint becomes one through conversion
// (what convert_hf_to_gguf.py would write with --outtype f32), so the quantizer has a
// single input shape to deal with.
//
// Implemented in model_input.cc (which input a source becomes), gguf_input.cc (GGUF files,
// split or not) and hf_input.cc (safetensors tensors, converted or as they are).
#ifndef QTK_MODEL_MODEL_INPUT_H_
#define QTK_MODEL_MODEL_INPUT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"

namespace qtk {

struct InputTensor {
  std::string name;            // GGUF name ("blk.0.attn_q.weight")
  GgmlType type;               // as stored (a converted checkpoint: F32)
  std::vector<int64_t> shape;  // GGUF order: ne[0] is the row length

  int64_t n_elements() const;
  int64_t row_length() const { return shape.empty() ? 1 : shape[0]; }
  int64_t n_rows() const { return row_length() == 0 ? 0 : n_elements() / row_length(); }
  uint64_t n_bytes() const { return GgmlRowBytes(type, n_elements()); }
};

class ModelInput {
 public:
  virtual ~ModelInput() = default;

  // One line for reports: "gguf v3", "hugging face llama checkpoint, 2 safetensors shards".
  virtual std::string Describe() const = 0;
  // The path the user named.
  virtual const std::string& path() const = 0;
  // Total bytes of every file read.
  virtual uint64_t file_bytes() const = 0;
  // Every file the input reads (outputs must never be one of them).
  virtual std::vector<std::string> files() const { return {path()}; }

  virtual const std::vector<GgufKeyValue>& metadata() const = 0;
  virtual const std::vector<InputTensor>& tensors() const = 0;

  // Things a careful converter would log (vocabulary padding, unusual values); may be empty.
  virtual std::vector<std::string> warnings() const { return {}; }

  // Split GGUF inputs: how many files, and which one holds tensor i (for --keep-split).
  virtual size_t n_splits() const { return 1; }
  virtual size_t SplitOf(size_t /*i*/) const { return 0; }

  // True if this is a converted checkpoint (conversions to F32/F16/BF16/Q8_0 then follow
  // convert_hf_to_gguf.py's layout; other types follow llama-quantize's).
  virtual bool is_conversion() const = 0;

  // How many bytes tensor i takes in the input files (a converted BF16 checkpoint: its BF16
  // bytes, not the F32 it is presented as).
  virtual uint64_t stored_n_bytes(size_t i) const { return tensors()[i].n_bytes(); }
  // The sum over every tensor.
  uint64_t stored_tensor_bytes() const;
  // The element type tensor i has in the input files ("BF16" for a converted BF16 checkpoint).
  virtual std::string stored_type_name(size_t i) const {
    return std::string(GgmlTypeName(tensors()[i].type));
  }

  // Checks that tensor i's bytes can still be read as they were when the input was opened:
  // its file has not shrunk (reading a mapping past the end of a file raises SIGBUS) or been
  // rewritten. QuantizeModel calls it before touching each tensor; ReadF32 checks it itself.
  // Errors: IOError "<path>: changed while being read: ...".
  virtual Status CheckUnchanged(size_t /*i*/) const { return Status::Ok(); }

  // The stored bytes of tensor i in its `type`, or an empty span when the input does not
  // hold it in that form (a converted checkpoint): then use ReadF32.
  virtual std::span<const uint8_t> StoredBytes(size_t i) const = 0;

  // Tensor i as F32 (converted, dequantized, permuted as needed).
  // REQUIRES: dst.size() == tensors()[i].n_elements().
  // Errors: Unsupported for types qtk cannot decode; IOError/Corruption from the files.
  virtual Status ReadF32(size_t i, std::span<float> dst, int n_threads) const = 0;

  // Rows [first_row, first_row + n) of tensor i as F32, n = dst.size() / row_length(): what
  // ReadF32 gives for them, decoded on the calling thread. Thread-safe: the pipeline reads a
  // tensor a cache-sized chunk of rows at a time, on every thread. Does not check the files
  // (call CheckUnchanged(i) before a tensor's first rows).
  // REQUIRES: dst.size() is a multiple of row_length() > 0; first_row + n <= n_rows().
  // Errors: as ReadF32.
  virtual Status ReadRowsF32(size_t i, int64_t first_row, std::span<float> dst) const = 0;

  // Hints that tensor i will be read soon (the page cache starts reading it).
  virtual void Prefetch(size_t /*i*/) const {}

  // Where element `element` of tensor i is in the input's own files, for messages about
  // its value, when that is not plain from the tensor's name and index: a converted
  // checkpoint gives "'model.layers.0.self_attn.q_proj.weight' in
  // model-00001-of-00002.safetensors, row 16, column 6" (q/k rows are permuted on the way).
  // Empty when the name and index say it all.
  virtual std::string DescribeSource(size_t /*i*/, int64_t /*element*/) const { return {}; }

  // Hints that tensor i is done with (lets the page cache drop it).
  virtual void Release(size_t /*i*/) const {}

  // The GGUF file behind an input that is one unsplit GGUF file, else nullptr: for readers
  // that understand more of a GGUF file than its tensors (qtk's generic-scheme layouts).
  virtual const GgufFile* gguf() const { return nullptr; }
};

class ModelSource;

// How a Hugging Face model directory is converted.
struct ModelInputOptions {
  // tokenizer.ggml.pre for a BPE vocabulary whose pre-tokenizer check hash is unknown
  // (convert_hf_to_gguf.py refuses those; --vocab-pre names it instead).
  std::optional<std::string> vocab_pre;
};

// Opens whatever `path` is (a GGUF file, a split GGUF model, a safetensors file, a sharded
// index, or a Hugging Face model directory) with OpenModel (model_source.h), the one
// function that opens a model path, and presents it as ModelInputFrom does.
Result<std::unique_ptr<ModelInput>> OpenModelInput(const std::string& path,
                                                   const ModelInputOptions& options = {});

// The model `source` holds, as a GGUF file presents it: a GGUF file with all its splits; a
// Hugging Face model directory with a config.json converted as convert_hf_to_gguf.py would;
// any other safetensors tensors as they are (MakeSafetensorsInput).
Result<std::unique_ptr<ModelInput>> ModelInputFrom(ModelSource source,
                                                   const ModelInputOptions& options = {});

// Opens a GGUF file as a model input; a split model ("-00001-of-00003.gguf") with all its
// splits.
Result<std::unique_ptr<ModelInput>> OpenGgufInput(const std::string& path);

// Wraps an already-parsed GGUF file (on its own, splits or not).
std::unique_ptr<ModelInput> MakeGgufInput(GgufFile file);
// Wraps an already-parsed GGUF file and, if it is one split of a model, opens the others.
Result<std::unique_ptr<ModelInput>> MakeSplitGgufInput(GgufFile file);

// Wraps safetensors tensors already opened (a file, a sharded checkpoint or a directory) as
// they are, without conversion: names kept, shapes in GGUF order, read as F32; metadata is
// only general.type and general.name. REQUIRES: source.format() != ModelFormat::kGguf.
std::unique_ptr<ModelInput> MakeSafetensorsInput(ModelSource source);

}  // namespace qtk

#endif  // QTK_MODEL_MODEL_INPUT_H_
