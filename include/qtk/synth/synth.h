// `qtk synth`: a deterministic, Llama-shaped Hugging Face checkpoint with realistic weight
// statistics, so that no test, benchmark or demo needs a download.
//
// The output directory holds what a real Llama checkpoint holds:
//   model.safetensors                      (or model-0000i-of-0000N.safetensors shards and
//   model.safetensors.index.json            the index, when the data exceed max_shard_bytes)
//   tokenizer.model                        a SentencePiece BPE model: <unk> <s> </s>, the 256
//                                          byte pieces, then generated word pieces
//   config.json                            LlamaForCausalLM, written last
// Weights are generated row by row from (seed, tensor name, row), so the bytes do not depend
// on the thread count, and streamed to disk in chunks: the model is never in memory.
//
// Statistics (what quantizers find hard in real models):
//   - per-row scale spread: every row has its own scale in [0.3, 2.0);
//   - heavy tails: a Gaussian-like core times a random scale mixture (kurtosis ~6);
//   - outlier columns: a few hidden dimensions (about 1 in 500, at least 1) are 8-24x larger
//     in every matrix that reads the hidden state, and in the norm weights;
//   - edge rows: layer 0's down_proj row 1 is all zeros, its up_proj row 2 is ~1e-6 tiny.
// Every value is made with IEEE add/multiply/divide/sqrt only, so the bytes are the same on
// every platform (no libm transcendental functions, no std:: distributions).
//
// Implemented in synth.cc (names, tokenizer, the writer), synth_model.cc (presets, tensor
// list, config.json) and synth_weights.cc (the weight statistics).
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
#include "qtk/convert/sentencepiece.h"

namespace qtk {

enum class SynthPreset : uint8_t {
  kTiny,   // hidden 256, 2 layers, vocab 512: ~1.7M parameters (synth-a's shape)
  kSmall,  // hidden 512, 8 layers, vocab 8000, untied lm_head: ~33M parameters
  k1B,     // hidden 2048, 16 layers, vocab 32000: ~1.04B parameters (Llama-3.2-1B-like)
};

enum class SynthDtype : uint8_t { kF32, kF16, kBF16 };

std::string_view SynthPresetName(SynthPreset preset);  // "tiny", "small", "1b"
std::optional<SynthPreset> ParseSynthPreset(std::string_view name);
std::string_view SynthDtypeName(SynthDtype dtype);  // "f32", "f16", "bf16"
std::optional<SynthDtype> ParseSynthDtype(std::string_view name);

// The config.json values of a preset.
struct SynthShape {
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
};

SynthShape PresetShape(SynthPreset preset);

// What a tensor is, which decides its statistics.
enum class SynthTensorKind : uint8_t { kEmbedding, kNorm, kLinear, kOutput };

struct SynthTensor {
  std::string name;            // Hugging Face name
  std::vector<int64_t> shape;  // outermost first: [rows, row_length] or [length]
  SynthTensorKind kind = SynthTensorKind::kLinear;

  int64_t n_rows() const { return shape.size() == 1 ? 1 : shape[0]; }
  int64_t row_length() const { return shape.back(); }
};

// The checkpoint's tensors in state-dict order (embedding, then per layer q, k, v, o, gate,
// up, down, the two norms, then the final norm and lm_head when untied).
std::vector<SynthTensor> SynthTensors(const SynthShape& shape);

// Rows [row_begin, row_end) of `tensor`, row after row, into `out`.
// REQUIRES: out.size() == (row_end - row_begin) * tensor.row_length().
void GenerateSynthRows(const SynthShape& shape, const SynthTensor& tensor, uint64_t seed,
                       int64_t row_begin, int64_t row_end, std::span<float> out);

// config.json text for the preset (the keys and order of the shared synth-a checkpoint).
std::string SynthConfigJson(const SynthShape& shape, SynthDtype dtype);

// The tokenizer: <unk> <s> </s>, the 256 byte pieces, then "▁" and word pieces ("▁e", "e",
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
