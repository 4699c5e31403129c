// Safetensors checkpoints as ModelInputs.
//
// A Hugging Face model directory with a registered architecture becomes what
// convert_hf_to_gguf.py --outtype f32 writes: GGUF names, q/k rows permuted, the converter's
// metadata and tokenizer, tensors in its order. ReadF32 decodes each tensor's dtype and
// applies the permutation row by row, straight from the mapping (no second copy).
// A bare safetensors file (or an adapter directory) keeps its tensor names: qtk quantizes the
// tensors, but no converter metadata exists for it.
#include "model/hf_input.h"

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "base/parallel.h"
#include "base/string_util.h"
#include "qtk/base/shape.h"
#include "qtk/convert/architecture.h"
#include "qtk/convert/sentencepiece.h"
#include "qtk/model/model_input.h"
#include "qtk/model/model_source.h"
#include "qtk/quant/dtype_convert.h"

namespace qtk {
namespace {

// One tensor of the input: where its bytes are and how they become the GGUF tensor.
struct TensorSource {
  // The stored tensors: one, or the experts stacked along the outermost dimension (expert 0
  // first); none for a tensor the converter computes.
  std::vector<const ModelTensor*> parts;
  TensorTransform transform = TensorTransform::kNone;
  int64_t permute_heads = 0;
  std::vector<float> values;  // a computed tensor's data
};

class SafetensorsInput final : public ModelInput {
 public:
  SafetensorsInput(ModelSource source, std::string description, bool is_conversion)
      : source_(std::move(source)),
        description_(std::move(description)),
        is_conversion_(is_conversion) {
    std::error_code error;
    for (const std::string& file : source_.files()) {
      file_bytes_ += std::filesystem::file_size(file, error);
    }
  }

  void Add(InputTensor tensor, TensorSource from) {
    tensors_.push_back(std::move(tensor));
    sources_.push_back(std::move(from));
  }
  void SetMetadata(std::vector<GgufKeyValue> metadata) { metadata_ = std::move(metadata); }
  void AddWarnings(const std::vector<std::string>& warnings) {
    warnings_.insert(warnings_.end(), warnings.begin(), warnings.end());
  }

  // The files behind the input (owned here, so tensor pointers into it stay valid).
  const ModelSource& source() const { return source_; }

  std::string Describe() const override { return description_; }
  const std::string& path() const override { return source_.path(); }
  uint64_t file_bytes() const override { return file_bytes_; }
  std::vector<std::string> files() const override { return source_.files(); }
  const std::vector<GgufKeyValue>& metadata() const override { return metadata_; }
  const std::vector<InputTensor>& tensors() const override { return tensors_; }
  bool is_conversion() const override { return is_conversion_; }
  std::vector<std::string> warnings() const override { return warnings_; }
  std::span<const uint8_t> StoredBytes(size_t /*i*/) const override { return {}; }
  uint64_t stored_n_bytes(size_t i) const override {
    uint64_t n = sources_[i].values.size() * sizeof(float);
    for (const ModelTensor* part : sources_[i].parts) n += part->n_bytes;
    return n;
  }
  std::string stored_type_name(size_t i) const override {
    const auto& parts = sources_[i].parts;
    return parts.empty() ? "F32" : std::string(parts.front()->dtype.name());
  }

  // Each tensor's own shard: every shard is checked before any of its bytes are read.
  Status CheckUnchanged(size_t i) const override {
    for (const ModelTensor* part : sources_[i].parts) {
      QTK_RETURN_IF_ERROR(source_.CheckUnchanged(*part));
    }
    return Status::Ok();
  }

  std::string DescribeSource(size_t i, int64_t element) const override {
    const TensorSource& from = sources_[i];
    if (from.parts.empty()) return "computed by the converter";
    const InputTensor& tensor = tensors_[i];
    const int64_t row_length = std::max<int64_t>(tensor.row_length(), 1);
    int64_t row = element / row_length;
    const int64_t rows_per_part =
        std::max<int64_t>(tensor.n_rows() / static_cast<int64_t>(from.parts.size()), 1);
    const size_t part_index =
        std::min<size_t>(static_cast<size_t>(row / rows_per_part), from.parts.size() - 1);
    const ModelTensor& part = *from.parts[part_index];
    row -= static_cast<int64_t>(part_index) * rows_per_part;
    const std::string file = std::filesystem::path(source_.files()[part.file]).filename().string();
    if (!is_conversion_) return source_.files().size() > 1 ? "in " + file : std::string();
    if (from.transform != TensorTransform::kNone) {
      row = RopePermuteSourceRow(row, tensor.n_rows(), from.permute_heads);
    }
    return "'" + Printable(part.name) + "' in " + Printable(file) + ", row " + std::to_string(row) +
           ", column " + std::to_string(element % row_length);
  }

  // Rows split over the threads; the error of the first failing range, whichever thread
  // meets it first.
  Status ReadF32(size_t i, std::span<float> dst, int n_threads) const override {
    QTK_RETURN_IF_ERROR(CheckUnchanged(i));
    const int64_t row_length = tensors_[i].row_length();
    const int64_t n_rows = tensors_[i].n_rows();
    std::mutex mutex;
    int64_t failed_at = n_rows;
    Status failure;
    ParallelFor(n_threads, n_rows, [&](int64_t begin, int64_t end) {
      Status status = ReadRowsF32(i, begin,
                                  dst.subspan(static_cast<size_t>(begin * row_length),
                                              static_cast<size_t>((end - begin) * row_length)));
      if (status.ok()) return;
      const std::lock_guard<std::mutex> lock(mutex);
      if (begin < failed_at) {
        failed_at = begin;
        failure = std::move(status);
      }
    });
    return failure;
  }

  Status ReadRowsF32(size_t i, int64_t first_row, std::span<float> dst) const override {
    if (dst.empty()) return Status::Ok();
    const TensorSource& from = sources_[i];
    const InputTensor& out = tensors_[i];
    const int64_t row_length = out.row_length();
    if (from.parts.empty()) {  // computed: the values themselves
      const auto begin = static_cast<size_t>(first_row * row_length);
      if (begin > from.values.size() || dst.size() > from.values.size() - begin) {
        return Status::InvalidArgument(path() + ": tensor '" + out.name + "': rows out of range");
      }
      std::copy_n(from.values.begin() + static_cast<std::ptrdiff_t>(begin), dst.size(),
                  dst.begin());
      return Status::Ok();
    }
    // Stacked experts: each part holds n_rows / parts rows; read part by part.
    const auto n_parts = static_cast<int64_t>(from.parts.size());
    const int64_t rows_per_part = out.n_rows() / n_parts;
    const auto n_rows = static_cast<int64_t>(dst.size()) / row_length;
    for (int64_t row = 0; row < n_rows;) {
      const int64_t absolute = first_row + row;
      const int64_t part = absolute / rows_per_part;
      const int64_t within = absolute % rows_per_part;
      const int64_t count = std::min(n_rows - row, rows_per_part - within);
      QTK_RETURN_IF_ERROR(ReadPartRows(*from.parts[static_cast<size_t>(part)], from, rows_per_part,
                                       within,
                                       dst.subspan(static_cast<size_t>(row * row_length),
                                                   static_cast<size_t>(count * row_length)),
                                       row_length));
      row += count;
    }
    return Status::Ok();
  }

  void Prefetch(size_t i) const override {
    for (const ModelTensor* part : sources_[i].parts) source_.AdviseSequential(*part);
  }

  void Release(size_t i) const override {
    for (const ModelTensor* part : sources_[i].parts) source_.AdviseDone(*part);
  }

 private:
  // Rows [first_row, first_row + dst rows) of one stored tensor of `n_rows` rows.
  Status ReadPartRows(const ModelTensor& tensor, const TensorSource& from, int64_t n_rows,
                      int64_t first_row, std::span<float> dst, int64_t row_length) const {
    const uint64_t row_bytes = tensor.dtype.RowBytes(row_length);
    const std::span<const uint8_t> bytes = source_.TensorData(tensor);
    const auto count = static_cast<int64_t>(dst.size()) / row_length;
    Status status;
    if (from.transform == TensorTransform::kNone) {
      status = DecodeToF32(tensor.dtype,
                           bytes.subspan(static_cast<uint64_t>(first_row) * row_bytes,
                                         static_cast<uint64_t>(count) * row_bytes),
                           dst, 1);
    } else {
      status = CheckRotaryHeads(n_rows, from.permute_heads);
      for (int64_t row = 0; status.ok() && row < count; ++row) {
        const int64_t source_row =
            RopePermuteSourceRow(first_row + row, n_rows, from.permute_heads);
        status = DecodeToF32(
            tensor.dtype, bytes.subspan(static_cast<uint64_t>(source_row) * row_bytes, row_bytes),
            dst.subspan(static_cast<size_t>(row * row_length), static_cast<size_t>(row_length)), 1);
      }
    }
    if (!status.ok()) return status.WithPrefix(path() + ": tensor '" + tensor.name + "'");
    return Status::Ok();
  }

  static Status CheckRotaryHeads(int64_t n_rows, int64_t n_head) {
    if (n_head > 0 && n_rows % (2 * n_head) == 0) return Status::Ok();
    return Status::Corruption(std::to_string(n_rows) + " rows do not split into " +
                              std::to_string(n_head) + " rotary heads");
  }

  ModelSource source_;
  std::string description_;
  bool is_conversion_;
  uint64_t file_bytes_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<InputTensor> tensors_;
  std::vector<TensorSource> sources_;
  std::vector<std::string> warnings_;
};

std::string FirstMatrixDtype(const ModelSource& source) {
  for (const ModelTensor& tensor : source.tensors()) {
    if (tensor.shape.size() >= 2) return std::string(tensor.dtype.name());
  }
  return "F32";
}

std::string Describe(const ModelSource& source, const std::string& what) {
  const size_t n_files = source.files().size();
  return what + ", " + std::to_string(n_files) + " safetensors " +
         (n_files == 1 ? "file" : "shards") + ", " + FirstMatrixDtype(source) + ", " +
         std::to_string(source.tensors().size()) + " tensors";
}

Result<std::optional<std::string>> ReadOptionalText(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<std::string>();
  QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path.string()));
  const auto bytes = source->bytes();
  return std::optional<std::string>(std::string(bytes.begin(), bytes.end()));
}

// The tokenizer metadata of a model directory: tokenizer.model (SentencePiece) when the row
// takes one, else tokenizer.json (byte-level BPE).
Result<ModelMetadata> TokenizerMetadata(const HfModelConfig& config,
                                        const std::filesystem::path& dir,
                                        const ModelInputOptions& options) {
  std::optional<SentencePieceModel> sentencepiece;
  const std::filesystem::path model_path = dir / "tokenizer.model";
  std::error_code error;
  if (config.architecture->vocab == VocabKind::kSentencePieceElseGpt2 &&
      std::filesystem::exists(model_path, error)) {
    QTK_ASSIGN_OR_RETURN(sentencepiece, ReadSentencePieceModel(model_path.string()));
  }
  QTK_ASSIGN_OR_RETURN(const std::optional<std::string> tokenizer_config,
                       ReadOptionalText(dir / "tokenizer_config.json"));
  QTK_ASSIGN_OR_RETURN(const std::optional<std::string> added_tokens,
                       ReadOptionalText(dir / "added_tokens.json"));
  QTK_ASSIGN_OR_RETURN(const std::optional<std::string> tokenizer_json,
                       ReadOptionalText(dir / "tokenizer.json"));
  QTK_ASSIGN_OR_RETURN(const std::optional<std::string> chat_template,
                       ReadOptionalText(dir / "chat_template.jinja"));
  if (!sentencepiece && !tokenizer_json) {
    return Status::Unsupported(dir.string() +
                               ": no tokenizer.model or tokenizer.json: qtk converts "
                               "SentencePiece and byte-level BPE vocabularies");
  }
  VocabSources sources;
  sources.tokenizer_config_path = (dir / "tokenizer_config.json").string();
  sources.added_tokens_path = (dir / "added_tokens.json").string();
  sources.tokenizer_json_path = (dir / "tokenizer.json").string();
  if (tokenizer_config) sources.tokenizer_config_json = *tokenizer_config;
  if (added_tokens) sources.added_tokens_json = *added_tokens;
  if (tokenizer_json) sources.tokenizer_json = *tokenizer_json;
  if (chat_template) sources.chat_template_jinja = *chat_template;
  return BuildTokenizerMetadata(config, sentencepiece ? &*sentencepiece : nullptr, sources,
                                options.vocab_pre);
}

}  // namespace

Result<std::unique_ptr<ModelInput>> ConvertHfDirectory(ModelSource source,
                                                       const ModelInputOptions& options) {
  const HfModelDirectory* hf_directory = source.hf_directory();
  if (hf_directory == nullptr) return Status::InvalidArgument(source.path() + ": not a directory");
  const HfModelDirectory& directory = *hf_directory;
  const std::filesystem::path dir(directory.path);
  QTK_ASSIGN_OR_RETURN(HfModelConfig config,
                       ParseHfModelConfig(directory.config.text(), (dir / "config.json").string()));
  std::vector<HfTensor> hf_tensors;
  for (const ModelTensor& tensor : source.tensors()) {
    hf_tensors.push_back({tensor.name, ToOutermostFirst(tensor.shape),
                          std::filesystem::path(source.files()[tensor.file]).filename().string()});
  }
  QTK_ASSIGN_OR_RETURN(ConversionPlan plan,
                       PlanTensors(config, std::move(hf_tensors), ConvertOutType::kF32));
  QTK_ASSIGN_OR_RETURN(ModelMetadata tokenizer, TokenizerMetadata(config, dir, options));
  QTK_ASSIGN_OR_RETURN(std::optional<std::string> generation_config,
                       ReadOptionalText(dir / "generation_config.json"));
  const std::vector<std::string> tokenizer_warnings = tokenizer.warnings;
  std::string dir_name = std::filesystem::path(directory.path).lexically_normal().filename();
  if (dir_name.empty()) dir_name = std::filesystem::path(directory.path).parent_path().filename();
  ModelMetadataOptions metadata_options{.model_dir_name = dir_name,
                                        .out_type = ConvertOutType::kF32,
                                        .total_parameters = plan.total_parameters,
                                        .shared_parameters = plan.shared_parameters,
                                        .expert_parameters = plan.expert_parameters,
                                        .expert_count = plan.expert_count};
  if (generation_config) {
    metadata_options.generation_config_json = *generation_config;
    metadata_options.generation_config_path = (dir / "generation_config.json").string();
  }
  QTK_ASSIGN_OR_RETURN(ModelMetadata metadata,
                       BuildModelMetadata(config, metadata_options, std::move(tokenizer.metadata)));
  const std::string description = Describe(source, "hugging face " + config.hf_architecture);
  auto input = std::make_unique<SafetensorsInput>(std::move(source), description, true);
  const ModelSource& kept = input->source();
  for (ConvertedTensor& converted : plan.tensors) {
    TensorSource from{.parts = {},
                      .transform = converted.transform,
                      .permute_heads = converted.permute_heads,
                      .values = std::move(converted.values)};
    const std::vector<std::string> names = converted.stacked.empty() && !converted.hf_name.empty()
                                               ? std::vector<std::string>{converted.hf_name}
                                               : converted.stacked;
    for (const std::string& name : names) {
      const ModelTensor* tensor = kept.FindTensor(name);
      if (tensor == nullptr) {
        return Status::NotFound(kept.path() + ": tensor '" + name + "' vanished");
      }
      from.parts.push_back(tensor);
    }
    input->Add({converted.gguf_name, GgmlType::kF32, converted.shape}, std::move(from));
  }
  input->SetMetadata(std::move(metadata.metadata));
  input->AddWarnings(plan.warnings);
  input->AddWarnings(tokenizer_warnings);
  input->AddWarnings(metadata.warnings);
  return std::unique_ptr<ModelInput>(std::move(input));
}

std::unique_ptr<ModelInput> MakeSafetensorsInput(ModelSource source) {
  const std::string description = Describe(source, "safetensors tensors");
  const std::string name = std::filesystem::path(source.path()).stem().string();
  auto input = std::make_unique<SafetensorsInput>(std::move(source), description, false);
  for (const ModelTensor& tensor : input->source().tensors()) {
    input->Add({tensor.name, GgmlType::kF32, tensor.shape}, {.parts = {&tensor},
                                                             .transform = TensorTransform::kNone,
                                                             .permute_heads = 0,
                                                             .values = {}});
  }
  input->SetMetadata(
      {{"general.type", GgufValue::String("model")}, {"general.name", GgufValue::String(name)}});
  return input;
}

}  // namespace qtk
