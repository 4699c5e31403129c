// Hugging Face checkpoints built in a test: safetensors files of any dtype, and Llama model
// directories (config.json, tokenizer.model, one file or shards with an index).
// Header-only: the test library's file list (tests/CMakeLists.txt) stays as it is.
#ifndef QTK_TESTS_HF_MODEL_SUPPORT_H_
#define QTK_TESTS_HF_MODEL_SUPPORT_H_

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "qtk/base/float_convert.h"
#include "qtk/tokenize/sentencepiece_model.h"
#include "qtk/format/output_file.h"
#include "qtk/format/safetensors_writer.h"
#include "qtk/synth/synth.h"
#include "test_support.h"

namespace qtk::testing {

struct StTensor {
  std::string name;
  std::string dtype;           // "BF16", "F16", "F32", "F8_E4M3", "BOOL", ...
  std::vector<int64_t> shape;  // outermost first
  std::vector<uint8_t> data;   // empty: a smooth ramp of the right size (floating dtypes)
};

// Little-endian bytes of `values`.
template <typename T>
std::vector<uint8_t> LeBytes(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// `n` values in [-1, 1), different for every `salt`.
inline std::vector<float> SmoothValues(size_t n, size_t salt = 0) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) {
    values[i] =
        static_cast<float>(static_cast<int>((i * 7919 + salt * 104729) % 2001) - 1000) / 1000.0f;
  }
  return values;
}

// `values` in a floating dtype ("F32", "F16", "BF16").
inline std::vector<uint8_t> EncodeFloats(const std::string& dtype,
                                         const std::vector<float>& values) {
  if (dtype == "F32") return LeBytes(values);
  std::vector<uint16_t> half(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    half[i] = dtype == "F16" ? F32ToF16(values[i]) : F32ToBF16(values[i]);
  }
  return LeBytes(half);
}

// GPT-2's bytes_to_unicode: the character a byte-level BPE vocabulary spells `byte` with
// (printable bytes stand for themselves, the others for U+0100 on), as UTF-8.
inline std::string ByteLevelChar(int byte) {
  auto printable = [](int b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  };
  int code = byte;
  if (!printable(byte)) {
    code = 256;
    for (int b = 0; b < byte; ++b) code += printable(b) ? 0 : 1;
  }
  std::string out;
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
  return out;
}

// A tokenizer.json qtk's tokenizer accepts: the 256 byte pieces (ids 0..255), ByteLevel
// pre-tokenization, no merges; its pre-tokenizer check hash is in no table.
inline std::string ByteLevelTokenizerJson() {
  std::string vocab;
  for (int b = 0; b < 256; ++b) {
    std::string piece = ByteLevelChar(b);
    if (piece == "\"" || piece == "\\") piece = "\\" + piece;
    vocab += (b == 0 ? "" : ", ") + std::string("\"") + piece + "\": " + std::to_string(b);
  }
  return R"({"added_tokens": [], "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": null,
    "model": {"type": "BPE", "vocab": {)" + vocab + R"(}, "merges": []}})";
}

inline int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Writes a safetensors file of `tensors` (in this order).
inline void WriteSafetensorsFile(
    const std::filesystem::path& path, const std::vector<StTensor>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  std::vector<SafetensorsTensorSpec> specs;
  for (const StTensor& t : tensors) specs.push_back({t.name, t.dtype, t.shape});
  OutputFileOptions options;
  options.overwrite = true;
  options.sync = false;
  Result<std::unique_ptr<OutputFile>> file = OutputFile::Create(path.string(), options);
  if (!file.ok()) throw std::runtime_error(file.status().message());
  Result<SafetensorsWriter> writer = SafetensorsWriter::Start(**file, specs, metadata);
  if (!writer.ok()) throw std::runtime_error(writer.status().message());
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::vector<uint8_t> data = tensors[i].data;
    if (data.empty()) {
      data = EncodeFloats(tensors[i].dtype,
                          SmoothValues(static_cast<size_t>(ElementCount(tensors[i].shape)), i));
    }
    if (data.size() != writer->layout().tensor_bytes[i]) throw std::runtime_error("bad data");
    const Status status = writer->Write(data);
    if (!status.ok()) throw std::runtime_error(status.message());
  }
  const Status status = writer->Finish();
  if (!status.ok()) throw std::runtime_error(status.message());
}

// A Llama model directory: config.json for `shape` (SynthConfigJson), a SentencePiece
// tokenizer of shape.vocab_size pieces, and `tensors` in `n_shards` files (named as
// transformers names them, with model.safetensors.index.json) or model.safetensors.
struct HfModelSpec {
  SynthShape shape;
  std::vector<StTensor> tensors;
  size_t n_shards = 1;
};

// A small Llama shape: hidden 64, ffn 128, 4 heads, 2 kv heads, 300 tokens.
inline SynthShape SmallLlamaShape(int64_t n_layers = 2) {
  SynthShape shape;
  shape.hidden_size = 64;
  shape.intermediate_size = 128;
  shape.n_layer = n_layers;
  shape.n_head = 4;
  shape.n_head_kv = 2;
  shape.vocab_size = 300;
  shape.context_length = 256;
  return shape;
}

// "model-00002-of-00003.safetensors".
inline std::string ShardName(size_t i, size_t n) {
  char name[64];
  std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return name;
}

inline void WriteHfModel(const std::filesystem::path& dir, const HfModelSpec& spec) {
  std::filesystem::create_directories(dir);
  const std::string config = SynthConfigJson(spec.shape, SynthDtype::kBF16);
  WriteFileBytes(dir / "config.json", {config.begin(), config.end()});
  WriteFileBytes(dir / "tokenizer.model",
                 SerializeSentencePieceModel(SynthTokenizer(spec.shape.vocab_size)));
  if (spec.n_shards <= 1) {
    WriteSafetensorsFile(dir / "model.safetensors", spec.tensors);
    return;
  }
  std::vector<std::pair<std::string, std::string>> weight_map;
  uint64_t total_size = 0;
  const size_t per_shard = (spec.tensors.size() + spec.n_shards - 1) / spec.n_shards;
  for (size_t s = 0; s < spec.n_shards; ++s) {
    const size_t begin = std::min(s * per_shard, spec.tensors.size());
    const size_t end = std::min(begin + per_shard, spec.tensors.size());
    const std::vector<StTensor> part(spec.tensors.begin() + static_cast<std::ptrdiff_t>(begin),
                                     spec.tensors.begin() + static_cast<std::ptrdiff_t>(end));
    WriteSafetensorsFile(dir / ShardName(s, spec.n_shards), part);
    for (const StTensor& t : part) {
      weight_map.emplace_back(t.name, ShardName(s, spec.n_shards));
      total_size += SafetensorsDtypeSize(t.dtype) * static_cast<uint64_t>(ElementCount(t.shape));
    }
  }
  const std::string index = SafetensorsIndexJson(total_size, weight_map);
  WriteFileBytes(dir / "model.safetensors.index.json", {index.begin(), index.end()});
}

// `n_layers` layers of BF16 up_proj weights (shape.intermediate_size x shape.hidden_size)
// and the final norm: a model whose every weight is quantized.
inline std::vector<StTensor> UpProjTensors(const SynthShape& shape) {
  std::vector<StTensor> tensors;
  for (int64_t layer = 0; layer < shape.n_layer; ++layer) {
    tensors.push_back({"model.layers." + std::to_string(layer) + ".mlp.up_proj.weight",
                       "BF16",
                       {shape.intermediate_size, shape.hidden_size},
                       {}});
  }
  tensors.push_back({"model.norm.weight", "F32", {shape.hidden_size}, {}});
  return tensors;
}

// A two-shard Llama directory at `dir`: two layers of BF16 up_proj weights in the first
// shard, the final norm in the second.
inline std::filesystem::path WriteTwoShardModel(const std::filesystem::path& dir) {
  const SynthShape shape = SmallLlamaShape(2);
  WriteHfModel(dir, {shape, UpProjTensors(shape), 2});
  return dir;
}

// The offset of `tensor`'s key in a shard index: where messages about its entry point.
inline uint64_t IndexEntryOffset(const std::filesystem::path& index, const std::string& tensor) {
  return ReadFileText(index).find("\"" + tensor + "\"");
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_HF_MODEL_SUPPORT_H_
