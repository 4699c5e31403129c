// Hugging Face checkpoint -> GGUF conversion rules, as llama.cpp's convert_hf_to_gguf.py
// applies them: a table of architectures (data) plus the generic steps that read it.
//
// One ArchitectureSpec row says, for a family of HF `architectures` names:
//   - which GGUF metadata keys come from which config.json fields, in writing order;
//   - how HF tensor names map to GGUF names ("model.layers.{bid}.self_attn.q_proj" ->
//     "blk.{bid}.attn_q"; ".weight"/".bias" are carried over), which tensors are skipped,
//     which must stay F32, and which are transformed (the rotary row permutation of q/k);
//   - how the vocabulary is built.
// The generic steps know nothing about Llama: the table and PlanTensors are in
// architecture.cc, ParseHfModelConfig and the metadata builders in hf_metadata.cc, the q/k
// row permutation in rope_permute.cc, the rows themselves behind src/convert/arch_table.h
// (Llama/Mistral/Mixtral, Qwen2, Qwen2-MoE, Qwen3, Qwen3-MoE). Adding a family means adding a
// row (see docs/conversion.md).
//
// What the script writes, and qtk reproduces:
//   metadata: general.architecture, general.type, general.name (+ basename, finetune, version,
//     organization from the model id), general.size_label, the architecture's hparams,
//     general.file_type, general.quantization_version, then tokenizer.*;
//   tensors: the ones the script computes first (Llama 3's rope_freqs), then in the order the
//     script visits them (shards sorted by file name, tensors sorted by name within each
//     shard), renamed, q/k permuted, per-expert tensors stacked into one 3-D tensor per layer
//     and projection (emitted when the layer's last expert tensor is visited), shapes reversed
//     to GGUF order, typed by the outtype: 1-D tensors, "*_norm.weight", routers
//     (ffn_gate_inp) and non-".weight" tensors stay F32; Q8_0 falls back to F16 for tensors
//     whose rows are not a multiple of 32.
#ifndef QTK_CONVERT_ARCHITECTURE_H_
#define QTK_CONVERT_ARCHITECTURE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/convert/sentencepiece.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"

namespace qtk {

// convert_hf_to_gguf.py --outtype.
enum class ConvertOutType : uint8_t { kF32, kF16, kBF16, kQ8_0, kAuto };

// "f32", "f16", "bf16", "q8_0", "auto".
std::string_view ConvertOutTypeName(ConvertOutType type);
std::optional<ConvertOutType> ParseConvertOutType(std::string_view name);

// general.file_type (llama_ftype): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
// REQUIRES: type != kAuto.
uint32_t LlamaFileType(ConvertOutType type);

// --outtype auto: BF16 if the first tensor with two or more dimensions (in visiting order) is
// BF16, F16 otherwise (`dtype` as safetensors spells it: "BF16", "F16", "F32").
ConvertOutType ResolveAutoOutType(std::string_view first_matrix_dtype);

// --- The table --------------------------------------------------------------------------

// Where a metadata value comes from.
enum class HparamSource : uint8_t {
  kFirstOf,        // the first of hf_keys present (and not null) in config.json
  kRopeTheta,      // rope_parameters/rope_scaling "rope_theta", else the first of hf_keys
  kRopeDimension,  // head_dim, else hidden_size / num_attention_heads
  kFileType,       // the outtype's llama_ftype
  kCausal,         // written (as false) only when config.json has "is_causal": false
  kRopeScaling,    // rope_scaling/rope_parameters: "{arch}.rope.scaling.type" + ".factor"
};

struct HparamRule {
  std::string_view key;  // "{arch}" is replaced by the GGUF architecture name
  GgufValueType type;    // kUint32, kFloat32, kBool or kString
  HparamSource source;
  std::span<const std::string_view> hf_keys;
  bool required = false;  // absent and required: an error; absent otherwise: not written
};

struct TensorNameRule {
  std::string_view hf;    // "model.layers.{bid}.self_attn.q_proj", without .weight/.bias
  std::string_view gguf;  // "blk.{bid}.attn_q"
};

// A change made to a tensor's data on the way to GGUF.
enum class TensorTransform : uint8_t {
  kNone,
  kPermuteRopeQ,  // LlamaModel.permute(w, n_head, n_head)
  kPermuteRopeK,  // LlamaModel.permute(w, n_head, n_head_kv)
};

struct TensorTransformRule {
  std::string_view hf_suffix;  // "q_proj.weight"
  TensorTransform transform;
};

enum class VocabKind : uint8_t {
  // tokenizer.model if the directory has one (SentencePiece, + Llama's set_vocab extras),
  // else tokenizer.json's byte-level BPE ("gpt2"): LlamaModel, Qwen2Model.
  kSentencePieceElseGpt2,
  // tokenizer.json's byte-level BPE only: TextModel.set_vocab (Qwen2-MoE, Qwen3-MoE).
  kGpt2,
};

// Per-expert tensors that the script stacks into one 3-D tensor per layer and projection
// (Qwen2MoeModel/LlamaModel.modify_tensors). A tensor whose name contains `marker` is held
// back until its layer has n_experts * projections.size() of them; then, for each projection
// in order, the tensors `layer_prefix` + xid + "." + projection + ".weight" (xid = 0..n-1)
// become `merged` + ".weight", which the name table maps ("...experts.down_proj" ->
// "blk.{bid}.ffn_down_exps").
struct ExpertStackRule {
  std::string_view marker;                        // "experts"
  std::string_view layer_prefix;                  // "model.layers.{bid}.mlp.experts."
  std::span<const std::string_view> projections;  // {"down_proj", "gate_proj", "up_proj"}
  std::string_view merged;  // "model.layers.{bid}.mlp.experts.{w}" ({w}: the projection)
};

struct ArchitectureSpec {
  std::span<const std::string_view> hf_architectures;  // "LlamaForCausalLM", ...
  std::string_view gguf_architecture;                  // "llama"
  // Metadata rules in writing order: usually the shared TextModel rules, then the
  // architecture's own (LlamaModel adds vocab_size and rope.dimension_count).
  std::span<const HparamRule> common_hparams;
  std::span<const HparamRule> hparams;
  std::span<const TensorNameRule> tensor_names;
  std::span<const std::string_view> skipped_tensor_suffixes;
  std::span<const std::string_view> f32_tensors;  // GGUF names (with {bid}) always kept in F32
  std::span<const TensorTransformRule> transforms;
  VocabKind vocab = VocabKind::kSentencePieceElseGpt2;
  std::optional<ExpertStackRule> experts;  // MoE rows
  // LlamaModel.generate_extra_tensors: with rope_type "llama3", a rope_freqs.weight tensor
  // of head_dim / 2 F32 factors, written first.
  bool llama3_rope_factors = false;
  // LlamaModel.set_vocab's additions (see BuildTokenizerMetadata).
  bool llama_vocab_extras = false;
};

// Every registered row.
std::span<const ArchitectureSpec* const> RegisteredArchitectures();

// The row for an HF architecture name; nullptr if none.
const ArchitectureSpec* FindArchitecture(std::string_view hf_architecture);

// --- config.json --------------------------------------------------------------------------

// A validated config.json: the architecture is registered and the values the tensor steps
// need are present and well-typed.
struct HfModelConfig {
  std::string path;             // for messages
  std::string text;             // the file's text (metadata is derived from it)
  std::string hf_architecture;  // architectures[0]
  const ArchitectureSpec* architecture = nullptr;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;  // num_key_value_heads, else n_head (as transformers fills it in)
  int64_t n_experts = 0;  // num_local_experts / num_experts; 0 for a dense model
};

// Errors: Corruption for malformed JSON, wrongly typed or missing required values,
// Unsupported for an unregistered architecture or a quantized checkpoint
// (quantization_config).
Result<HfModelConfig> ParseHfModelConfig(std::string text, std::string path);

// --- Tensors --------------------------------------------------------------------------------

// A tensor of the checkpoint, as its safetensors header describes it.
struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;  // outermost dimension first, as in safetensors
  std::string file;            // the file holding it ("model-00001-of-00002.safetensors")
};

struct ConvertedTensor {
  std::string hf_name;  // empty for a computed tensor (`values`)
  std::string gguf_name;
  std::vector<int64_t> shape;  // GGUF order: fastest-varying first (ne[0] = row length)
  GgmlType type = GgmlType::kF32;
  TensorTransform transform = TensorTransform::kNone;
  int64_t permute_heads = 0;  // the head count to permute with (n_head or n_head_kv)
  bool fell_back = false;     // Q8_0 asked for, rows not a multiple of 32: F16 instead
  // Stacked experts: the HF tensors, expert 0 first, that make this one along its outermost
  // dimension (hf_name is the first of them); empty otherwise.
  std::vector<std::string> stacked;
  std::vector<float> values;  // the data of a tensor the converter computes (rope_freqs)
};

struct ConversionPlan {
  std::vector<ConvertedTensor> tensors;  // in writing order
  uint64_t total_parameters = 0;         // elements of every written tensor (for size_label)
  // GGUFWriter.get_total_parameter_count's split: tensors named "*_exps.*" count per expert.
  uint64_t shared_parameters = 0;
  uint64_t expert_parameters = 0;     // one expert's share of every stacked tensor
  int64_t expert_count = 0;           // the average expert count of the stacked tensors (0: none)
  std::vector<std::string> warnings;  // "Can't quantize tensor with shape ... falling back"
};

// What convert_hf_to_gguf.py writes for `tensors` with `out_type`. The input order does not
// matter: tensors are visited by (file, name).
// REQUIRES: out_type != kAuto (resolve it first).
// Errors: Unsupported for names the table cannot map ("cannot map tensor '...'"); Corruption
// for duplicate names, q/k shapes the permutation cannot split into heads, experts that do not
// stack (missing, unequal shapes, left over); InvalidArgument for out_type kAuto.
Result<ConversionPlan> PlanTensors(const HfModelConfig& config, std::vector<HfTensor> tensors,
                                   ConvertOutType out_type);

// LlamaModel.permute as an index map: the source row of output row `row` for a tensor of
// `n_rows` rows split into `n_head` heads (rotate-half order -> interleaved pairs).
// REQUIRES: n_rows % (2 * n_head) == 0, 0 <= row < n_rows.
int64_t RopePermuteSourceRow(int64_t row, int64_t n_rows, int64_t n_head);

// dst row r = src row RopePermuteSourceRow(r); rows are `row_bytes` bytes of any type.
// Errors: InvalidArgument if the sizes disagree or n_rows is not a multiple of 2 * n_head.
Status PermuteRopeRows(std::span<const uint8_t> src, std::span<uint8_t> dst, int64_t n_rows,
                       size_t row_bytes, int64_t n_head);

// The same for an F32 matrix of n_rows x row_length.
Status PermuteRopeRows(std::span<const float> src, std::span<float> dst, int64_t n_rows,
                       int64_t row_length, int64_t n_head);

// LlamaModel.generate_extra_tensors' rope factors for config.json's rope_scaling/
// rope_parameters of type "llama3" (head_dim / 2 values); nullopt for any other rope type.
// Computed in float32 as the script's torch code does (the powers as correctly rounded float).
// Errors: Corruption for wrongly typed values or a head size the config cannot give.
Result<std::optional<std::vector<float>>> Llama3RopeFactors(const HfModelConfig& config);

// --- Metadata -------------------------------------------------------------------------------

struct ModelMetadataOptions {
  std::string model_dir_name;  // the directory's name ("synth-a"): naming fallback
  ConvertOutType out_type = ConvertOutType::kF16;  // REQUIRES: not kAuto
  uint64_t total_parameters = 0;                   // ConversionPlan::total_parameters
  uint64_t shared_parameters = 0;                  // ... shared_parameters (MoE size label)
  uint64_t expert_parameters = 0;                  // ... expert_parameters
  int64_t expert_count = 0;                        // ... expert_count
  // generation_config.json: its sampling settings become general.sampling.* keys.
  std::optional<std::string_view> generation_config_json = std::nullopt;
  std::string generation_config_path = "generation_config.json";
};

struct ModelMetadata {
  std::vector<GgufKeyValue> metadata;
  std::vector<std::string> warnings;
};

// Everything before the tokenizer: general.architecture ... general.quantization_version,
// followed by `tokenizer_metadata`.
Result<ModelMetadata> BuildModelMetadata(const HfModelConfig& config,
                                         const ModelMetadataOptions& options,
                                         std::vector<GgufKeyValue> tokenizer_metadata);

// The tokenizer.* metadata of the architecture's vocabulary: `sentencepiece` (tokenizer.model,
// via BuildSentencePieceVocab) when the row takes one and it is given, else
// sources.tokenizer_json's byte-level BPE (BuildBpeTokenizerMetadata, with `vocab_pre`).
// Rows with llama_vocab_extras add LlamaModel.set_vocab's: tokenizer_config.json's
// add_prefix_space, CodeLlama's infill ids at vocab_size 32016, no BOS at vocab_size 49152.
// `sources.config_json` is ignored: the config's own text is used.
// Errors: Unsupported without a vocabulary the row can take; the builders' errors.
Result<ModelMetadata> BuildTokenizerMetadata(const HfModelConfig& config,
                                             const SentencePieceModel* sentencepiece,
                                             VocabSources sources,
                                             const std::optional<std::string>& vocab_pre = {});

}  // namespace qtk

#endif  // QTK_CONVERT_ARCHITECTURE_H_
