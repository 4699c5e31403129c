// `qtk synth`: presets, the tensor list, config.json, the tokenizer, and the streaming
// writer that puts them on disk (weights in synth_weights.cc).
#include "qtk/synth/synth.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/parallel.h"
#include "base/string_util.h"
#include "qtk/base/float_convert.h"
#include "qtk/base/shape.h"
#include "qtk/format/output_file.h"
#include "qtk/format/safetensors_writer.h"

namespace qtk {

std::string_view SynthPresetName(SynthPreset preset) {
  switch (preset) {
    case SynthPreset::kTiny:
      return "tiny";
    case SynthPreset::kSmall:
      return "small";
    case SynthPreset::k1B:
      return "1b";
  }
  return "?";
}

std::optional<SynthPreset> ParseSynthPreset(std::string_view name) {
  for (SynthPreset preset : {SynthPreset::kTiny, SynthPreset::kSmall, SynthPreset::k1B}) {
    if (EqualsIgnoreCase(name, SynthPresetName(preset))) return preset;
  }
  return std::nullopt;
}

std::string_view SynthDtypeName(SynthDtype dtype) {
  switch (dtype) {
    case SynthDtype::kF32:
      return "f32";
    case SynthDtype::kF16:
      return "f16";
    case SynthDtype::kBF16:
      return "bf16";
  }
  return "?";
}

std::optional<SynthDtype> ParseSynthDtype(std::string_view name) {
  for (SynthDtype dtype : {SynthDtype::kF32, SynthDtype::kF16, SynthDtype::kBF16}) {
    if (EqualsIgnoreCase(name, SynthDtypeName(dtype))) return dtype;
  }
  return std::nullopt;
}

SynthShape PresetShape(SynthPreset preset) {
  switch (preset) {
    case SynthPreset::kTiny:
      return {.hidden_size = 256,
              .intermediate_size = 768,
              .n_layer = 2,
              .n_head = 4,
              .n_head_kv = 2,
              .vocab_size = 512,
              .context_length = 2048};
    case SynthPreset::kSmall:
      return {.hidden_size = 512,
              .intermediate_size = 1536,
              .n_layer = 8,
              .n_head = 8,
              .n_head_kv = 4,
              .vocab_size = 8000,
              .context_length = 2048,
              .tie_word_embeddings = false};
    case SynthPreset::k1B:
      return {.hidden_size = 2048,
              .intermediate_size = 8192,
              .n_layer = 16,
              .n_head = 32,
              .n_head_kv = 8,
              .vocab_size = 32000,
              .context_length = 4096,
              .rope_theta = 500000.0};
  }
  return {};
}

std::vector<SynthTensor> SynthTensors(const SynthShape& s) {
  const int64_t head_dim = s.hidden_size / s.n_head;
  const int64_t kv_dim = head_dim * s.n_head_kv;
  std::vector<SynthTensor> tensors;
  tensors.push_back(
      {"model.embed_tokens.weight", {s.vocab_size, s.hidden_size}, SynthTensorKind::kEmbedding});
  for (int64_t layer = 0; layer < s.n_layer; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    const auto linear = [&](const std::string& name, int64_t rows, int64_t columns) {
      tensors.push_back({p + name, {rows, columns}, SynthTensorKind::kLinear});
    };
    linear("self_attn.q_proj.weight", s.hidden_size, s.hidden_size);
    linear("self_attn.k_proj.weight", kv_dim, s.hidden_size);
    linear("self_attn.v_proj.weight", kv_dim, s.hidden_size);
    linear("self_attn.o_proj.weight", s.hidden_size, s.hidden_size);
    linear("mlp.gate_proj.weight", s.intermediate_size, s.hidden_size);
    linear("mlp.up_proj.weight", s.intermediate_size, s.hidden_size);
    linear("mlp.down_proj.weight", s.hidden_size, s.intermediate_size);
    tensors.push_back({p + "input_layernorm.weight", {s.hidden_size}, SynthTensorKind::kNorm});
    tensors.push_back(
        {p + "post_attention_layernorm.weight", {s.hidden_size}, SynthTensorKind::kNorm});
  }
  tensors.push_back({"model.norm.weight", {s.hidden_size}, SynthTensorKind::kNorm});
  if (!s.tie_word_embeddings) {
    tensors.push_back({"lm_head.weight", {s.vocab_size, s.hidden_size}, SynthTensorKind::kOutput});
  }
  return tensors;
}

namespace {

std::string_view TorchDtype(SynthDtype dtype) {
  switch (dtype) {
    case SynthDtype::kF32:
      return "float32";
    case SynthDtype::kF16:
      return "float16";
    case SynthDtype::kBF16:
      return "bfloat16";
  }
  return "?";
}

std::string_view SafetensorsDtypeName(SynthDtype dtype) {
  switch (dtype) {
    case SynthDtype::kF32:
      return "F32";
    case SynthDtype::kF16:
      return "F16";
    case SynthDtype::kBF16:
      return "BF16";
  }
  return "?";
}

}  // namespace

std::string SynthConfigJson(const SynthShape& s, SynthDtype dtype) {
  nlohmann::ordered_json config;
  config["architectures"] = {"LlamaForCausalLM"};
  config["model_type"] = "llama";
  config["hidden_size"] = s.hidden_size;
  config["intermediate_size"] = s.intermediate_size;
  config["num_hidden_layers"] = s.n_layer;
  config["num_attention_heads"] = s.n_head;
  config["num_key_value_heads"] = s.n_head_kv;
  config["vocab_size"] = s.vocab_size;
  config["max_position_embeddings"] = s.context_length;
  config["rms_norm_eps"] = s.rms_norm_eps;
  config["rope_theta"] = s.rope_theta;
  config["hidden_act"] = "silu";
  config["tie_word_embeddings"] = s.tie_word_embeddings;
  config["bos_token_id"] = 1;
  config["eos_token_id"] = 2;
  config["torch_dtype"] = TorchDtype(dtype);
  return config.dump(2) + "\n";
}

SentencePieceModel SynthTokenizer(int64_t vocab_size) {
  SentencePieceModel model;
  model.pieces.push_back({"<unk>", 0.0f, PieceType::kUnknown});
  model.pieces.push_back({"<s>", 0.0f, PieceType::kControl});
  model.pieces.push_back({"</s>", 0.0f, PieceType::kControl});
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    model.pieces.push_back({name, 0.0f, PieceType::kByte});
  }
  // The bare word-start marker U+2581 (so a space before a digit or a sign needs no byte
  // pieces), then word pieces over letters in English frequency order: every string of
  // length 1, then 2, ..., each first with the marker and then without.
  static constexpr std::string_view kLetters = "etaoinshrdlcumwfgypbvkjxqz";
  int64_t rank = 0;
  model.pieces.push_back({"\xE2\x96\x81", -static_cast<float>(rank++), PieceType::kNormal});
  for (size_t length = 1; static_cast<int64_t>(model.pieces.size()) < vocab_size; ++length) {
    std::vector<size_t> digits(length, 0);
    for (bool more = true; more && static_cast<int64_t>(model.pieces.size()) < vocab_size;) {
      std::string word;
      for (size_t d : digits) word += kLetters[d];
      for (const std::string& piece : {"\xE2\x96\x81" + word, word}) {
        if (static_cast<int64_t>(model.pieces.size()) >= vocab_size) break;
        model.pieces.push_back({piece, -static_cast<float>(rank++), PieceType::kNormal});
      }
      more = false;
      for (size_t i = length; i-- > 0;) {  // the next string of this length
        if (++digits[i] < kLetters.size()) {
          more = true;
          break;
        }
        digits[i] = 0;
      }
    }
  }
  model.trainer_spec = {.model_type = 2,
                        .vocab_size = static_cast<int32_t>(vocab_size),
                        .byte_fallback = true,
                        .unk_id = 0,
                        .bos_id = 1,
                        .eos_id = 2,
                        .pad_id = -1};
  model.normalizer_spec = {.name = "identity",
                           .add_dummy_prefix = true,
                           .remove_extra_whitespaces = false,
                           .escape_whitespaces = true};
  return model;
}

namespace {

// Generated bytes per chunk: bounds memory whatever the tensor size.
constexpr int64_t kChunkElements = int64_t{4} << 20;

struct Shard {
  std::string file;
  std::vector<size_t> tensors;  // indices into the tensor list, sorted by name
};

uint64_t TensorBytes(const SynthTensor& tensor, SynthDtype dtype) {
  return SafetensorsDtypeSize(SafetensorsDtypeName(dtype)) *
         static_cast<uint64_t>(ElementCount(tensor.shape));
}

// huggingface_hub's split_torch_state_dict_into_shards: fill shards in state-dict order; a
// tensor that does not fit starts a new one; a tensor bigger than the limit gets its own.
std::vector<Shard> PlanShards(const std::vector<SynthTensor>& tensors, SynthDtype dtype,
                              uint64_t max_shard_bytes) {
  std::vector<Shard> shards;
  uint64_t current_bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t bytes = TensorBytes(tensors[i], dtype);
    if (shards.empty() ||
        (!shards.back().tensors.empty() && current_bytes + bytes > max_shard_bytes)) {
      shards.emplace_back();
      current_bytes = 0;
    }
    shards.back().tensors.push_back(i);
    current_bytes += bytes;
  }
  const size_t n = shards.size();
  for (size_t s = 0; s < n; ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", s + 1, n);
    shards[s].file = n == 1 ? "model.safetensors" : name;
    // The safetensors library stores a file's tensors sorted by name.
    std::sort(shards[s].tensors.begin(), shards[s].tensors.end(),
              [&tensors](size_t a, size_t b) { return tensors[a].name < tensors[b].name; });
  }
  return shards;
}

void ConvertRows(std::span<const float> values, SynthDtype dtype, uint8_t* out) {
  switch (dtype) {
    case SynthDtype::kF32:
      std::memcpy(out, values.data(), values.size_bytes());
      return;
    case SynthDtype::kF16:
      for (size_t i = 0; i < values.size(); ++i) {
        const uint16_t h = F32ToF16(values[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case SynthDtype::kBF16:
      for (size_t i = 0; i < values.size(); ++i) {
        const uint16_t b = F32ToBF16(values[i]);
        std::memcpy(out + 2 * i, &b, 2);
      }
      return;
  }
}

// Generates and writes one tensor chunk by chunk; each chunk's rows are split across threads.
Status WriteTensor(const SynthShape& shape, const SynthTensor& tensor, const SynthOptions& options,
                   SafetensorsWriter& writer) {
  const int64_t row_length = tensor.row_length();
  const int64_t n_rows = tensor.n_rows();
  const int64_t rows_per_chunk =
      std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, row_length));
  const size_t element_bytes = SafetensorsDtypeSize(SafetensorsDtypeName(options.dtype));
  std::vector<float> values;
  std::vector<uint8_t> bytes;
  for (int64_t begin = 0; begin < n_rows; begin += rows_per_chunk) {
    const int64_t end = std::min(n_rows, begin + rows_per_chunk);
    const auto n_values = static_cast<size_t>((end - begin) * row_length);
    values.resize(n_values);
    bytes.resize(n_values * element_bytes);
    ParallelFor(options.n_threads, end - begin, [&](int64_t first, int64_t last) {
      const auto offset = static_cast<size_t>(first * row_length);
      const auto count = static_cast<size_t>((last - first) * row_length);
      const std::span<float> rows(values.data() + offset, count);
      GenerateSynthRows(shape, tensor, options.seed, begin + first, begin + last, rows);
      ConvertRows(rows, options.dtype, bytes.data() + offset * element_bytes);
    });
    QTK_RETURN_IF_ERROR(writer.Write(bytes));
  }
  return Status::Ok();
}

Status WriteShard(const std::filesystem::path& dir, const Shard& shard, const SynthShape& shape,
                  const std::vector<SynthTensor>& tensors, const SynthOptions& options,
                  SynthProgress& progress) {
  std::vector<SafetensorsTensorSpec> specs;
  for (size_t i : shard.tensors) {
    specs.push_back(
        {tensors[i].name, std::string(SafetensorsDtypeName(options.dtype)), tensors[i].shape});
  }
  const std::vector<std::pair<std::string, std::string>> metadata = {
      {"format", "pt"},
      {"qtk.synth.preset", std::string(SynthPresetName(options.preset))},
      {"qtk.synth.seed", std::to_string(options.seed)},
  };
  QTK_ASSIGN_OR_RETURN(
      std::unique_ptr<OutputFile> file,
      OutputFile::Create((dir / shard.file).string(), {.overwrite = options.overwrite}));
  QTK_ASSIGN_OR_RETURN(SafetensorsWriter writer, SafetensorsWriter::Start(*file, specs, metadata));
  for (size_t i : shard.tensors) {
    QTK_RETURN_IF_ERROR(WriteTensor(shape, tensors[i], options, writer));
    ++progress.tensor_index;
    progress.bytes_done += TensorBytes(tensors[i], options.dtype);
    if (options.progress) options.progress(progress);
  }
  return writer.Finish();
}

Status WriteSmallFile(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                      bool overwrite) {
  QTK_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> file,
                       OutputFile::Create(path.string(), {.overwrite = overwrite}));
  QTK_RETURN_IF_ERROR(file->Write(bytes));
  return file->Commit();
}

std::span<const uint8_t> AsBytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

namespace {

// The files of the checkpoint, in writing order.
std::vector<std::string> OutputFileNames(const std::vector<Shard>& shards) {
  std::vector<std::string> names;
  for (const Shard& shard : shards) names.push_back(shard.file);
  if (shards.size() > 1) names.push_back("model.safetensors.index.json");
  names.push_back("tokenizer.model");
  names.push_back("config.json");
  return names;
}

// Refuses before writing gigabytes, not after.
Status CheckNoneExist(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (std::filesystem::exists(dir / name)) {
      return Status::InvalidArgument((dir / name).string() +
                                     ": already exists (use --force to overwrite)");
    }
  }
  return Status::Ok();
}

Status WriteIndex(const std::filesystem::path& dir, const std::vector<Shard>& shards,
                  const std::vector<SynthTensor>& tensors, uint64_t total_bytes, bool overwrite) {
  std::vector<std::pair<std::string, std::string>> weight_map;
  for (const Shard& shard : shards) {
    for (size_t i : shard.tensors) weight_map.emplace_back(tensors[i].name, shard.file);
  }
  return WriteSmallFile(dir / "model.safetensors.index.json",
                        AsBytes(SafetensorsIndexJson(total_bytes, weight_map)), overwrite);
}

}  // namespace

Result<SynthResult> WriteSynthCheckpoint(const std::string& out_dir, const SynthOptions& options) {
  const std::filesystem::path dir(out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_directory(dir)) {
    return Status::IOError(out_dir + ": cannot create the output directory" +
                           (error ? ": " + error.message() : std::string()));
  }
  const SynthShape shape = PresetShape(options.preset);
  const std::vector<SynthTensor> tensors = SynthTensors(shape);
  const std::vector<Shard> shards = PlanShards(tensors, options.dtype, options.max_shard_bytes);
  const std::vector<std::string> names = OutputFileNames(shards);
  if (!options.overwrite) QTK_RETURN_IF_ERROR(CheckNoneExist(dir, names));

  SynthResult result;
  SynthProgress progress{.n_tensors = tensors.size()};
  for (const SynthTensor& tensor : tensors) {
    progress.bytes_total += TensorBytes(tensor, options.dtype);
    result.n_parameters += TensorBytes(tensor, SynthDtype::kF32) / 4;
  }
  result.n_data_bytes = progress.bytes_total;
  for (const Shard& shard : shards) {
    QTK_RETURN_IF_ERROR(WriteShard(dir, shard, shape, tensors, options, progress));
  }
  if (shards.size() > 1) {
    QTK_RETURN_IF_ERROR(WriteIndex(dir, shards, tensors, progress.bytes_total, options.overwrite));
  }
  QTK_RETURN_IF_ERROR(WriteSmallFile(dir / "tokenizer.model",
                                     SerializeSentencePieceModel(SynthTokenizer(shape.vocab_size)),
                                     options.overwrite));
  QTK_RETURN_IF_ERROR(WriteSmallFile(
      dir / "config.json", AsBytes(SynthConfigJson(shape, options.dtype)), options.overwrite));
  for (const std::string& name : names) result.files.push_back((dir / name).string());
  return result;
}

}  // namespace qtk
