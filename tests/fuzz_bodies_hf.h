// The bodies of the fuzz targets for Hugging Face inputs (the GGUF ones are in fuzz_bodies.h):
//
//   FuzzSafetensors:      parse a safetensors file, then what `qtk inspect` and `qtk quantize`
//                         do with one that parsed (display it, decode every dtype, plan
//                         several outputs, requantize a few tensors).
//   FuzzSafetensorsIndex: parse a shard index, then assemble the checkpoint from shards made
//                         in memory to match it, and from shards that do not.
//   FuzzModelConfig:      config.json as `qtk inspect` reads it (ModelConfig) and as the
//                         converter does (tensor plan, metadata, vocabulary, written as GGUF
//                         metadata); the same text also stands in for tokenizer_config.json
//                         and added_tokens.json.
//   FuzzSentencePiece:    tokenizer.model, written back and read again, then the vocabulary
//                         metadata llama.cpp gets, under several config.json vocab sizes, and
//                         a few texts through its encoder (every id a piece).
//
// Shared with tests/fuzz_corpus_test.cc, like fuzz_bodies.h. A broken invariant aborts.
#ifndef QTK_TESTS_FUZZ_BODIES_HF_H_
#define QTK_TESTS_FUZZ_BODIES_HF_H_

#include <bit>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_bodies.h"
#include "qtk/convert/architecture.h"
#include "qtk/convert/hf_model.h"
#include "qtk/convert/sentencepiece.h"
#include "qtk/format/safetensors.h"
#include "qtk/format/safetensors_writer.h"
#include "qtk/model/model_source.h"
#include "qtk/report/inspect.h"
#include "qtk/tokenize/tokenizer.h"

namespace qtk::testing {

inline std::string FuzzText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// What `qtk inspect` prints for a model, in both forms.
inline void FuzzInspect(const ModelSource& source) {
  (void)SummarizeModel(source);
  (void)FormatInspectText(source);
  (void)FormatInspectJson(source);
}

// ---- safetensors

// What the parser promises about a file it accepted.
inline void FuzzCheckSafetensors(const SafetensorsFile& file) {
  uint64_t expected_begin = 0;
  for (const SafetensorsTensorInfo& info : file.tensors()) {
    if (info.begin != expected_begin) FuzzFinding("tensor '" + info.name + "' leaves a gap");
    expected_begin = info.end;
    const uint64_t n_bytes =
        static_cast<uint64_t>(info.n_elements()) * SafetensorsDtypeSize(info.dtype);
    if (info.n_bytes() != n_bytes || file.TensorData(info).size() != n_bytes) {
      FuzzFinding("tensor '" + info.name + "' has the wrong byte span");
    }
    if (file.FindTensor(info.name) != &info) FuzzFinding("lookup of '" + info.name + "' fails");
  }
  if (file.data_offset() + expected_begin != file.source()->size()) {
    FuzzFinding("the tensors do not end at the end of the file");
  }
  for (const auto& [key, value] : file.metadata()) {
    if (file.FindMetadata(key) != &value) FuzzFinding("lookup of metadata '" + key + "' fails");
  }
}

// Decodes, plans and requantizes as `qtk quantize` does with a bare safetensors file.
inline void FuzzQuantizeInput(const ModelInput& input) {
  std::vector<std::vector<float>> decoded(input.tensors().size());
  for (size_t i = 0; i < decoded.size(); ++i) decoded[i] = FuzzDecode(input, i);
  for (FileType file_type : kFuzzFileTypes) FuzzPlan(input, file_type, decoded);
}

inline Status FuzzSafetensors(std::span<const uint8_t> bytes) {
  Result<SafetensorsFile> file = ParseSafetensors(
      MemorySource("fuzz.safetensors", std::vector<uint8_t>(bytes.begin(), bytes.end())));
  if (!file.ok()) return file.status();
  FuzzCheckSafetensors(*file);
  ModelSource source = ModelSourceFromSafetensors(SingleFileCheckpoint(*std::move(file)));
  FuzzInspect(source);
  FuzzQuantizeInput(*MakeSafetensorsInput(std::move(source)));
  return Status::Ok();
}

// ---- Shard indexes

// Shards (by file name) holding the given scalar U8 tensors; nullopt if the writer refuses a
// name (the index may name tensors no safetensors file can hold, such as "__metadata__").
inline std::optional<std::map<std::string, std::vector<uint8_t>>> FuzzShards(
    const std::map<std::string, std::vector<std::string>>& names_by_file) {
  std::map<std::string, std::vector<uint8_t>> shards;
  for (const auto& [file, names] : names_by_file) {
    std::vector<SafetensorsTensorSpec> specs;
    for (const std::string& name : names) specs.push_back({name, "U8", {}});
    Result<SafetensorsLayout> layout = LayOutSafetensors(specs);
    if (!layout.ok()) return std::nullopt;
    std::vector<uint8_t> bytes = layout->header;
    bytes.resize(layout->file_bytes(), 7);
    shards.emplace(file, std::move(bytes));
  }
  return shards;
}

inline Result<SafetensorsCheckpoint> FuzzAssemble(
    const SafetensorsIndex& index, const std::map<std::string, std::vector<uint8_t>>& shards) {
  return AssembleSafetensorsCheckpoint(
      index, [&shards](const std::string& file) -> Result<std::shared_ptr<const ByteSource>> {
        const auto it = shards.find(file);
        if (it == shards.end()) return Status::NotFound(file + ": no such file");
        return MemorySource(file, it->second);
      });
}

// Shards are made in memory for indexes naming up to this many files.
inline constexpr size_t kFuzzMaxShards = 32;

inline void FuzzCheckIndex(const SafetensorsIndex& index) {
  for (const SafetensorsIndex::Entry& entry : index.weight_map) {
    if (std::find(index.files.begin(), index.files.end(), entry.file) == index.files.end()) {
      FuzzFinding("entry '" + entry.tensor + "' names a file not in files()");
    }
  }
  for (const std::string& file : index.files) {
    const std::filesystem::path path(file);
    if (file.empty() || path.is_absolute() || file.find('\0') != std::string::npos ||
        std::find(path.begin(), path.end(), "..") != path.end()) {
      FuzzFinding("shard file name '" + file + "' reaches outside the index's directory");
    }
  }
}

inline Status FuzzSafetensorsIndex(std::span<const uint8_t> bytes) {
  Result<SafetensorsIndex> index = ParseSafetensorsIndex(
      MemorySource("fuzz.index.json", std::vector<uint8_t>(bytes.begin(), bytes.end())));
  if (!index.ok()) return index.status();
  FuzzCheckIndex(*index);
  if (index->files.empty() || index->files.size() > kFuzzMaxShards) return Status::Ok();
  std::map<std::string, std::vector<std::string>> names_by_file;
  for (const SafetensorsIndex::Entry& entry : index->weight_map) {
    names_by_file[entry.file].push_back(entry.tensor);
  }
  const auto shards = FuzzShards(names_by_file);
  if (!shards) return Status::Ok();
  // Shards that match the index make a checkpoint in which every tensor is where it says.
  Result<SafetensorsCheckpoint> checkpoint = FuzzAssemble(*index, *shards);
  if (!checkpoint.ok())
    FuzzFinding("matching shards are refused: " + checkpoint.status().message());
  for (const SafetensorsIndex::Entry& entry : index->weight_map) {
    const auto ref = checkpoint->FindTensor(entry.tensor);
    if (!ref || checkpoint->shards()[ref->shard].path() != entry.file) {
      FuzzFinding("tensor '" + entry.tensor + "' is not in shard '" + entry.file + "'");
    }
  }
  FuzzInspect(ModelSourceFromSafetensors(*std::move(checkpoint)));
  // Shards that do not: one missing, one without its first tensor, one with a tensor more.
  const std::string& first = index->files.front();
  auto broken = *shards;
  broken.erase(first);
  if (FuzzAssemble(*index, broken).status().code() != Status::Code::kNotFound) {
    FuzzFinding("a missing shard is not reported as missing");
  }
  for (const bool drop : {true, false}) {
    auto names = names_by_file;
    if (drop) {
      names[first].erase(names[first].begin());
    } else {
      names[first].push_back("qtk.fuzz.unlisted." + std::to_string(index->weight_map.size()));
      if (checkpoint->FindTensor(names[first].back())) continue;
    }
    const auto other = FuzzShards(names);
    if (other && FuzzAssemble(*index, *other).ok()) {
      FuzzFinding(drop ? "a shard without a listed tensor is accepted"
                       : "a shard with an unlisted tensor is accepted");
    }
  }
  return Status::Ok();
}

// ---- config.json

// A tiny SentencePiece vocabulary: <unk>, <s>, </s> and two words.
inline SentencePieceModel FuzzTokenizer() {
  SentencePieceModel model;
  model.pieces = {{"<unk>", 0.0f, PieceType::kUnknown},
                  {"<s>", 0.0f, PieceType::kControl},
                  {"</s>", 0.0f, PieceType::kControl},
                  {"\xE2\x96\x81"
                   "a",
                   -1.0f, PieceType::kNormal},
                  {"b", -2.0f, PieceType::kNormal}};
  return model;
}

// A Llama config.json with `vocab_size` (absent if negative).
inline std::string FuzzLlamaConfig(int64_t vocab_size) {
  std::string text =
      R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,)"
      R"( "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,)"
      R"( "max_position_embeddings": 128, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,)"
      R"( "bos_token_id": 1, "eos_token_id": 2)";
  if (vocab_size >= 0) text += R"(, "vocab_size": )" + std::to_string(vocab_size);
  return text + "}";
}

// A one-tensor safetensors checkpoint in memory, for the directory `qtk inspect` shows.
inline SafetensorsCheckpoint FuzzTinyCheckpoint() {
  Result<SafetensorsLayout> layout = LayOutSafetensors({{"model.norm.weight", "F32", {2}}});
  std::vector<uint8_t> bytes = layout->header;
  bytes.resize(layout->file_bytes(), 0);
  Result<SafetensorsFile> file = ParseSafetensors(MemorySource("model.safetensors", bytes));
  return SingleFileCheckpoint(*std::move(file));
}

// The tensors of a small Llama checkpoint (shapes for 64 hidden, 4 heads, 2 kv heads).
inline std::vector<HfTensor> FuzzLlamaTensors() {
  return {{"model.embed_tokens.weight", {8, 64}, "model.safetensors"},
          {"model.norm.weight", {64}, "model.safetensors"},
          {"model.layers.0.self_attn.q_proj.weight", {64, 64}, "model.safetensors"},
          {"model.layers.0.self_attn.k_proj.weight", {32, 64}, "model.safetensors"},
          {"model.layers.1.mlp.up_proj.weight", {128, 64}, "model.safetensors"},
          {"model.layers.1.self_attn.rotary_emb.inv_freq", {8}, "model.safetensors"},
          {"lm_head.weight", {8, 64}, "model.safetensors"}};
}

// What the converter makes of a config it accepted: every step may refuse values, but
// metadata it builds must be writable as GGUF.
inline void FuzzConvert(const HfModelConfig& config) {
  Result<ConversionPlan> plan = PlanTensors(config, FuzzLlamaTensors(), ConvertOutType::kF32);
  // A layer number the config does not have, and one Python would never print.
  for (const char* name :
       {"model.layers.99999999999999.mlp.up_proj.weight", "model.layers.01.mlp.up_proj.weight"}) {
    (void)PlanTensors(config, {{name, {4, 4}, "model.safetensors"}}, ConvertOutType::kF32);
  }
  // Experts of a MoE row (Qwen-MoE and Mixtral spellings), two of them, one layer.
  std::vector<HfTensor> experts;
  for (const char* prefix :
       {"model.layers.0.mlp.experts.", "model.layers.0.block_sparse_moe.experts."}) {
    for (const char* expert : {"0.", "1."}) {
      for (const char* projection : {"down_proj", "gate_proj", "up_proj", "w1", "w2", "w3"}) {
        experts.push_back(
            {std::string(prefix) + expert + projection + ".weight", {8, 4}, "model.safetensors"});
      }
    }
  }
  (void)PlanTensors(config, experts, ConvertOutType::kF32);
  // The vocabulary is padded to config.json's vocab_size (up to 2^24 tokens, tested in
  // sentencepiece_test.cc): more memory than this input's size allows the fuzzer.
  const nlohmann::json parsed = nlohmann::json::parse(config.text, nullptr, false);
  const auto vocab_size = parsed.is_object() ? parsed.find("vocab_size") : parsed.end();
  if (vocab_size != parsed.end() && vocab_size->is_number() &&
      !(vocab_size->get<double>() <= 4096)) {
    return;
  }
  VocabSources sources;
  sources.tokenizer_config_json = config.text;
  sources.added_tokens_json = config.text;
  sources.tokenizer_json = config.text;  // SpecialVocab: post-processor, added tokens, merges
  const SentencePieceModel fuzz_tokenizer = FuzzTokenizer();
  Result<ModelMetadata> tokenizer = BuildTokenizerMetadata(config, &fuzz_tokenizer, sources);
  std::vector<GgufKeyValue> tokenizer_metadata;
  if (tokenizer.ok()) tokenizer_metadata = std::move(tokenizer->metadata);
  Result<ModelMetadata> metadata =
      BuildModelMetadata(config,
                         {.model_dir_name = "fuzz-model",
                          .out_type = ConvertOutType::kF32,
                          .total_parameters = plan.ok() ? plan->total_parameters : 0,
                          .generation_config_json = config.text},
                         std::move(tokenizer_metadata));
  if (!metadata.ok()) return;
  MemorySink sink;
  Result<GgufWriter> writer = GgufWriter::Start(sink, metadata->metadata, {});
  if (!writer.ok())
    FuzzFinding("converted metadata cannot be written: " + writer.status().message());
}

// Returns ParseModelConfig's status: the located syntax errors.
inline Status FuzzModelConfig(std::span<const uint8_t> bytes) {
  Result<ModelConfig> config = ParseModelConfig(
      MemorySource("config.json", std::vector<uint8_t>(bytes.begin(), bytes.end())));
  if (config.ok()) {
    for (const std::string& key : config->keys()) {
      if (config->Find(key) == nullptr) FuzzFinding("key '" + key + "' cannot be found");
    }
    (void)config->architecture();
    FuzzInspect(ModelSourceFromHfDirectory(
        {"fuzz-model", *config, FuzzTinyCheckpoint(), {"tokenizer.model"}}));
  }
  Result<HfModelConfig> hf = ParseHfModelConfig(FuzzText(bytes), "config.json");
  if (!hf.ok()) {
    // Both readers must agree on what is JSON.
    // (A syntax error is located; the message may quote the input, so match its start.)
    if (config.ok() && hf.status().message().starts_with("config.json: offset ")) {
      FuzzFinding("one reader accepts the json, the other not: " + hf.status().message());
    }
    return config.status();
  }
  FuzzConvert(*hf);
  return config.status();
}

// ---- tokenizer.model

inline bool SamePieces(const SentencePieceModel& a, const SentencePieceModel& b) {
  if (a.pieces.size() != b.pieces.size()) return false;
  for (size_t i = 0; i < a.pieces.size(); ++i) {
    const SentencePiece& x = a.pieces[i];
    const SentencePiece& y = b.pieces[i];
    if (x.piece != y.piece || x.type != y.type ||
        std::bit_cast<uint32_t>(x.score) != std::bit_cast<uint32_t>(y.score)) {
      return false;
    }
  }
  const SentencePieceTrainerSpec& s = a.trainer_spec;
  const SentencePieceTrainerSpec& t = b.trainer_spec;
  const SentencePieceNormalizerSpec& m = a.normalizer_spec;
  const SentencePieceNormalizerSpec& n = b.normalizer_spec;
  return s.model_type == t.model_type && s.vocab_size == t.vocab_size &&
         s.byte_fallback == t.byte_fallback && s.unk_id == t.unk_id && s.bos_id == t.bos_id &&
         s.eos_id == t.eos_id && s.pad_id == t.pad_id && m.name == n.name &&
         m.add_dummy_prefix == n.add_dummy_prefix &&
         m.remove_extra_whitespaces == n.remove_extra_whitespaces &&
         m.escape_whitespaces == n.escape_whitespaces;
}

inline constexpr std::string_view kFuzzTokenizerConfig =
    R"({"add_bos_token": true, "add_eos_token": false, "chat_template": "{{ messages }}",)"
    R"( "added_tokens_decoder": {"0": {"content": "<unk>", "special": true}}})";

inline Status FuzzSentencePiece(std::span<const uint8_t> bytes) {
  Result<SentencePieceModel> model = ParseSentencePieceModel(bytes, "fuzz.model");
  if (!model.ok()) return model.status();
  Result<SentencePieceModel> again =
      ParseSentencePieceModel(SerializeSentencePieceModel(*model), "fuzz-copy.model");
  if (!again.ok()) FuzzFinding("a written model does not parse: " + again.status().message());
  if (!SamePieces(*model, *again)) FuzzFinding("a written model reads back differently");
  // The vocabulary under config.json's vocab_size: absent, as many as the pieces, more
  // (padded), fewer (cut).
  const auto n_pieces = static_cast<int64_t>(model->pieces.size());
  for (const int64_t vocab_size : {int64_t{-1}, n_pieces, n_pieces + 3, n_pieces - 1}) {
    Result<HfModelConfig> config = ParseHfModelConfig(FuzzLlamaConfig(vocab_size), "config.json");
    if (!config.ok()) FuzzFinding("the fixed config is refused: " + config.status().message());
    VocabSources sources;
    sources.tokenizer_config_json = kFuzzTokenizerConfig;
    const std::string added = R"({"<extra>": )" + std::to_string(n_pieces) + "}";
    sources.added_tokens_json = added;
    Result<ModelMetadata> metadata = BuildTokenizerMetadata(*config, &*model, sources);
    if (!metadata.ok()) FuzzFinding("no vocabulary: " + metadata.status().message());
    const size_t expected =
        vocab_size <= 0 ? model->pieces.size() : static_cast<size_t>(vocab_size);
    for (const GgufKeyValue& kv : metadata->metadata) {
      const bool per_token = kv.key == "tokenizer.ggml.tokens" ||
                             kv.key == "tokenizer.ggml.scores" ||
                             kv.key == "tokenizer.ggml.token_type";
      if (per_token && kv.value.array_size() != expected) {
        FuzzFinding(kv.key + " has " + std::to_string(kv.value.array_size()) + " entries, not " +
                    std::to_string(expected));
      }
    }
    MemorySink sink;
    Result<GgufWriter> writer = GgufWriter::Start(sink, metadata->metadata, {});
    if (!writer.ok()) FuzzFinding("the vocabulary cannot be written: " + writer.status().message());
  }
  // The encoder, on the model made one it accepts (BPE, nothing normalized): every text
  // encodes, and every id is a piece.
  SentencePieceModel encodable = *model;
  encodable.trainer_spec.model_type = 2;
  encodable.normalizer_spec = {.name = "identity", .remove_extra_whitespaces = false};
  Result<Tokenizer> tokenizer =
      Tokenizer::FromSentencePiece(encodable, {.add_bos = false}, "fuzz.model");
  if (tokenizer.ok()) {
    for (std::string_view text : {"", "Hello world", "  a\n\nb \xC3\xA9\xE2\x96\x81", "<s></s>"}) {
      Result<std::vector<int32_t>> ids = tokenizer->Encode(text, true);
      if (!ids.ok()) FuzzFinding("well-formed text refused: " + ids.status().message());
      for (int32_t id : *ids) {
        if (id < 0 || id >= tokenizer->n_ids()) FuzzFinding("an id outside the vocabulary");
      }
    }
  }
  return Status::Ok();
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_FUZZ_BODIES_HF_H_
