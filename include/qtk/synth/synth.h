// `qtk synth`: a deterministic Hugging Face checkpoint of one of the model families qtk
// converts, with realistic weight statistics, so that no test, benchmark or demo needs a
// download.
//
// The output directory holds what a real checkpoint of the family holds:
//   model.safetensors                      (or model-0000i-of-0000N.safetensors shards and
//   model.safetensors.index.json            the index, when the data exceed max_shard_bytes)
//   llama (Llama 2 style, the default):
//     tokenizer.model                      a SentencePiece BPE model: <unk> <s> </s>, the 256
//                                          byte pieces, then generated word pieces
//   llama3, qwen2, qwen3, qwen3moe:
//     tokenizer.json                       a made-up byte-level BPE vocabulary (the 256
//                                          byte-level characters, generated merges, the
//                                          family's special tokens) with the family's real
//                                          pre-tokenizer regex and post-processor
//     tokenizer_config.json                bos/eos/pad tokens, added tokens, a chat template
//     generation_config.json               the family's sampling defaults
//   config.json                            the family's class (LlamaForCausalLM,
//                                          Qwen2ForCausalLM, ...), written last
// convert_hf_to_gguf.py identifies a BPE pre-tokenizer by the hash of a check text's ids; the
// made-up vocabularies' hashes are listed in src/convert/bpe_pre_hashes.cc's second table
// (as "llama-bpe" or "qwen2"), so qtk converts them; llama.cpp's own script does not know them.
//
// Weights are generated row by row from (seed, tensor name, row), so the bytes do not depend
// on the thread count, and streamed to disk in chunks: the model is never in memory.
//
// Statistics (what quantizers find hard in real models):
//   - per-row scale spread: every row has its own scale in [0.3, 2.0);
//   - heavy tails: a Gaussian-like core times a random scale mixture (kurtosis ~6);
//   - outlier columns: a few hidden dimensions (about 1 in 500, at least 1) are 8-24x larger
//     in every matrix that reads the hidden state, and in the norm weights;
//   - edge rows: layer 0's down_proj row 1 is all zeros, its up_proj row 2 is ~1e-6 tiny
//     (in a mixture of experts, expert 0's).
// Every value is made with IEEE add/multiply/divide/sqrt only, so the bytes are the same on
// every platform (no libm transcendental functions, no std:: distributions).
//
// Implemented in synth.cc (names, the SentencePiece tokenizer, the writer), synth_model.cc
// (presets, tensor lists and config files of each family), synth_bpe.cc (the made-up BPE
// tokenizer files) and synth_weights.cc (the weight statistics).
#ifndef QTK_SYNTH_SYNTH_H_
#define QTK_SYNTH_SYNTH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/tokenize/sentencepiece_model.h"

namespace qtk {

enum class SynthPreset : uint8_t {
  kTiny,   // hidden 256, 2 layers, vocab 512: ~1.7M parameters (synth-a's shape)
  kSmall,  // hidden 512, 8 layers, vocab 8000, untied lm_head: ~33M parameters
  k1B,     // hidden 2048, 16 layers, vocab 32000: ~1.04B parameters (Llama-3.2-1B-like)
};

enum class SynthDtype : uint8_t { kF32, kF16, kBF16 };

// The model family, as its checkpoints ship (config.json, tensor names, tokenizer files).
enum class SynthArch : uint8_t {
  kLlama,     // LlamaForCausalLM, Llama 2 style: SentencePiece tokenizer.model, rope_theta
              // 10000 (500000 for 1b), the preset's lm_head
  kLlama3,    // LlamaForCausalLM, Llama 3.1 style: rope_scaling llama3 (factor 8, low 1,
              // high 4, original 8192), rope_theta 500000, head_dim, untied lm_head
  kQwen2,     // Qwen2ForCausalLM (Qwen2.5 style): q/k/v biases, tied embeddings
  kQwen3,     // Qwen3ForCausalLM: q_norm/k_norm, head_dim, tied embeddings
  kQwen3Moe,  // Qwen3MoeForCausalLM: q_norm/k_norm, a router (mlp.gate) and per-expert
              // mlp.experts.E.{gate,up,down}_proj, tied embeddings
};

std::string_view SynthArchName(SynthArch arch);  // "llama", "llama3", "qwen2", "qwen3", "qwen3moe"
std::optional<SynthArch> ParseSynthArch(std::string_view name);
// Every family, in the order above.
std::span<const SynthArch> SynthArchs();

std::string_view SynthPresetName(SynthPreset preset);  // "tiny", "small", "1b"
std::optional<SynthPreset> ParseSynthPreset(std::string_view name);
std::string_view SynthDtypeName(SynthDtype dtype);  // "f32", "f16", "bf16"
std::optional<SynthDtype> ParseSynthDtype(std::string_view name);

// The config.json values of a preset and family.
struct SynthShape {
  SynthArch arch = SynthArch::kLlama;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t vocab_size = 0;
  int64_t context_length = 0;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool tie_word_embeddings = true;
  int64_t head_dim = 0;  // 0: hidden_size / n_head; config.json has it for llama3 and qwen3*
  // Mixture of experts (qwen3moe), 0 otherwise: experts per layer, experts per token, and
  // each expert's feed-forward width (moe_intermediate_size).
  int64_t n_experts = 0;
  int64_t n_experts_used = 0;
  int64_t expert_intermediate_size = 0;

  int64_t head_size() const { return head_dim > 0 ? head_dim : hidden_size / n_head; }
};

// The preset's sizes (hidden, ffn, layers, heads, vocabulary) with the family's own settings
// (rope, norm epsilon, context length, lm_head; experts for qwen3moe: tiny 4 experts, 2 per
// token; small 8, 2; 1b 16, 4).
SynthShape PresetShape(SynthPreset preset, SynthArch arch = SynthArch::kLlama);

// What a tensor is, which decides its statistics.
enum class SynthTensorKind : uint8_t { kEmbedding, kNorm, kLinear, kOutput, kBias };

struct SynthTensor {
  std::string name;            // Hugging Face name
  std::vector<int64_t> shape;  // outermost first: [rows, row_length] or [length]
  SynthTensorKind kind = SynthTensorKind::kLinear;

  int64_t n_rows() const { return shape.size() == 1 ? 1 : shape[0]; }
  int64_t row_length() const { return shape.back(); }
};

// The checkpoint's tensors in state-dict order: the embedding; per layer q, k, v (each
// followed by its bias in qwen2), o, q_norm and k_norm (qwen3*), the feed-forward (gate, up,
// down; qwen3moe: the router mlp.gate, then each expert's gate, up, down), the two norms; then
// the final norm and lm_head when untied.
std::vector<SynthTensor> SynthTensors(const SynthShape& shape);

// Rows [row_begin, row_end) of `tensor`, row after row, into `out`.
// REQUIRES: out.size() == (row_end - row_begin) * tensor.row_length().
void GenerateSynthRows(const SynthShape& shape, const SynthTensor& tensor, uint64_t seed,
                       int64_t row_begin, int64_t row_end, std::span<float> out);

// config.json text: for llama the keys and order of the shared synth-a checkpoint; for the
// other families the keys a real checkpoint of the family has, sorted as transformers
// writes them.
std::string SynthConfigJson(const SynthShape& shape, SynthDtype dtype);

// The BPE families' tokenizer files and generation_config.json (REQUIRES: shape.arch !=
// kLlama). The vocabulary: the 256 byte-level characters (in GPT-2's order, as real
// vocabularies have them), then merged pieces over letters in English frequency order ("Ġe",
// "Ġt", ..., "Ġz", "Ġee", "ee", "Ġet", "et", ...), then the family's special tokens; llama3
// fills vocab_size exactly, the qwen families (one vocabulary) leave the last 8 ids unused
// (the converter writes them as [PAD<id>], as for Qwen's real padding). None of these files
// depends on the seed or the dtype.
// REQUIRES: shape.vocab_size >= 267 (the byte-level characters, the specials, the padding).
std::string SynthTokenizerJson(const SynthShape& shape);
std::string SynthTokenizerConfigJson(const SynthShape& shape);
std::string SynthGenerationConfigJson(const SynthShape& shape);

// llama's tokenizer: <unk> <s> </s>, the 256 byte pieces, then "▁" and word pieces ("▁e", "e",
// "▁t", ...) scored 0, -1, -2, ... up to `vocab_size` pieces.
// REQUIRES: vocab_size >= 259.
SentencePieceModel SynthTokenizer(int64_t vocab_size);

struct SynthProgress {
  size_t tensor_index = 0;  // tensors finished so far
  size_t n_tensors = 0;
  uint64_t bytes_done = 0;  // tensor data written so far
  uint64_t bytes_total = 0;
};

struct SynthOptions {
  SynthArch arch = SynthArch::kLlama;        // default: llama
  SynthPreset preset = SynthPreset::kTiny;   // default: tiny
  uint64_t seed = 0;                         // default: 0
  SynthDtype dtype = SynthDtype::kBF16;      // default: bf16, as most checkpoints
  uint64_t max_shard_bytes = 5'000'000'000;  // default: "5GB", transformers' default
  int n_threads = 0;                         // default: all hardware threads
  bool overwrite = false;                    // default: refuse existing files
  std::function<void(const SynthProgress&)> progress = nullptr;  // optional, after each tensor
};

struct SynthResult {
  std::vector<std::string> files;  // written, in order (paths)
  uint64_t n_parameters = 0;
  uint64_t n_data_bytes = 0;  // tensor bytes over all shards
};

// Writes the checkpoint into `out_dir` (created if missing). Every file goes through a
// temporary file renamed into place; config.json comes last, so an interrupted run never
// leaves a directory that looks like a complete model.
// Errors: InvalidArgument for existing files (unless overwrite), IOError for write failures.
Result<SynthResult> WriteSynthCheckpoint(const std::string& out_dir, const SynthOptions& options);

}  // namespace qtk

#endif  // QTK_SYNTH_SYNTH_H_
