// Seeds for the Hugging Face fuzz targets: every safetensors file, shard index, config and
// tokenizer.model under the shared test data (safetensors files shrunk to a few elements per
// tensor, so they fit the fuzzers' size limit), and handcrafted files breaking one rule each.
#include "seeds_hf.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "fuzz_bodies_hf.h"
#include "fuzz_bodies_tokenize.h"
#include "qtk/base/byte_source.h"
#include "qtk/tokenize/sentencepiece_model.h"
#include "qtk/format/safetensors.h"
#include "qtk/format/safetensors_writer.h"
#include "qtk/synth/synth.h"
#include "test_support.h"

namespace qtk::fuzz {

namespace fs = std::filesystem;
using testing::Bytes;

void WriteSeed(const fs::path& dir, const std::string& name, std::span<const uint8_t> bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

namespace {

std::vector<uint8_t> FileBytes(const fs::path& path) {
  Result<std::shared_ptr<const ByteSource>> source = MapFile(path.string());
  if (!source.ok()) return {};
  const auto bytes = (*source)->bytes();
  return {bytes.begin(), bytes.end()};
}

void WriteText(const fs::path& dir, const std::string& name, std::string_view text) {
  WriteSeed(dir, name, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

// Files under `root` whose name satisfies `keep`, sorted.
template <typename Keep>
std::vector<fs::path> FilesUnder(const fs::path& root, const Keep& keep) {
  std::vector<fs::path> files;
  if (root.empty()) return files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && keep(entry.path().filename().string())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "models-synth-a-config.json": unique and readable.
std::string SeedName(const fs::path& root, const fs::path& file) {
  std::string name = fs::relative(file, root).string();
  std::replace(name.begin(), name.end(), '/', '-');
  return name;
}

// ---- safetensors

constexpr size_t kWholeFileLimit = 64 << 10;  // the fuzzers' -max_len

// The same names, dtypes and metadata, each dimension cut to at most 2, holding the first
// bytes of each original tensor.
std::vector<uint8_t> ShrunkCopy(const SafetensorsFile& file) {
  std::vector<SafetensorsTensorSpec> specs;
  for (const SafetensorsTensorInfo& info : file.tensors()) {
    std::vector<int64_t> shape = info.shape;
    for (int64_t& d : shape) d = std::min<int64_t>(d, 2);
    specs.push_back({info.name, std::string(SafetensorsDtypeName(info.dtype)), shape});
  }
  Result<SafetensorsLayout> layout = LayOutSafetensors(specs, file.metadata());
  if (!layout.ok()) return {};
  std::vector<uint8_t> bytes = layout->header;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto data = file.TensorData(file.tensors()[i]).first(layout->tensor_bytes[i]);
    bytes.insert(bytes.end(), data.begin(), data.end());
  }
  return bytes;
}

std::vector<uint8_t> Safetensors(const std::string& header, const std::vector<uint8_t>& data) {
  Bytes b;
  b.Put<uint64_t>(header.size()).Raw(header);
  b.mutable_bytes().insert(b.mutable_bytes().end(), data.begin(), data.end());
  return b.bytes();
}

// One tensor `name` of `dtype` and `shape` (JSON text) holding `data`.
std::vector<uint8_t> OneTensor(const std::string& dtype, const std::string& shape,
                               const std::vector<uint8_t>& data, const std::string& name = "w") {
  const std::string header = R"({"__metadata__": {"format": "pt"}, ")" + name +
                             R"(": {"dtype": ")" + dtype + R"(", "shape": )" + shape +
                             R"(, "data_offsets": [0, )" + std::to_string(data.size()) + "]}}";
  return Safetensors(header, data);
}

template <typename T>
std::vector<uint8_t> Le(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void WriteHandcraftedSafetensors(const fs::path& out) {
  const std::vector<uint8_t> eight = {1, 2, 3, 4, 5, 6, 7, 8};
  // Every dtype, as a 2 x N matrix of 8 bytes.
  for (const SafetensorsDtypeTraits& traits : AllSafetensorsDtypes()) {
    const uint64_t per_row = 4 / std::min<uint64_t>(traits.size, 4);
    const std::string shape = traits.size == 8 ? "[1]" : "[2, " + std::to_string(per_row) + "]";
    WriteSeed(out, "dtype-" + std::string(traits.name),
              OneTensor(std::string(traits.name), shape, eight));
  }
  WriteSeed(out, "f64-beyond-float", OneTensor("F64", "[2]", Le<double>({1e300, -1e300})));
  WriteSeed(out, "f16-nan-inf",
            OneTensor("F16", "[2, 2]", Le<uint16_t>({0x3C00, 0x7E00, 0x7C00, 0xFC00})));
  WriteSeed(out, "bf16-nan-inf",
            OneTensor("BF16", "[2, 2]", Le<uint16_t>({0x3F80, 0x7FC0, 0x7F80, 0xFF80})));
  WriteSeed(out, "f8-e4m3-nan", OneTensor("F8_E4M3", "[4]", {0x38, 0x7F, 0xFF, 0x01}));
  WriteSeed(out, "f8-e5m2-inf", OneTensor("F8_E5M2", "[4]", {0x3C, 0x7C, 0xFE, 0x01}));
  WriteSeed(out, "rank-0", OneTensor("F32", "[]", Le<float>({0.25f})));
  WriteSeed(out, "zero-rows", OneTensor("F32", "[0, 4]", {}));
  WriteSeed(out, "zero-columns", OneTensor("F32", "[4, 0]", {}));
  WriteSeed(out, "five-dims", OneTensor("F32", "[1, 1, 1, 1, 2]", Le<float>({1, 2})));
  WriteSeed(out, "matrix-32x2",
            OneTensor("BF16", "[2, 32]", std::vector<uint8_t>(128, 0x3F), "blk.0.ffn_up.weight"));
  // Names: an emoji, an escape sequence, an embedded NUL, right-to-left override.
  WriteSeed(out, "odd-names",
            Safetensors(R"({"\ud83e\udd99": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                        R"( "\u001b[2J": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]},)"
                        R"( "a\u0000b": {"dtype": "U8", "shape": [1], "data_offsets": [2, 3]},)"
                        R"( "\u202edrow": {"dtype": "U8", "shape": [1], "data_offsets": [3, 4]}})",
                        {1, 2, 3, 4}));
  WriteSeed(out, "huge-shape", OneTensor("F32", "[4611686018427387904, 4]", eight));
  WriteSeed(out, "shape-overflow", OneTensor("U8", "[4294967296, 4294967296, 16]", eight));
  WriteSeed(out, "shape-negative", OneTensor("U8", "[-8]", eight));
  WriteSeed(out, "shape-float", OneTensor("U8", "[8.0]", eight));
  WriteSeed(out, "dtype-unknown", OneTensor("F4", "[8]", eight));
  WriteSeed(out, "dtype-lowercase", OneTensor("u8", "[8]", eight));
  WriteSeed(out, "metadata-not-string",
            Safetensors(R"({"__metadata__": {"a": 1}, "w": {"dtype": "U8", "shape": [1],)"
                        R"( "data_offsets": [0, 1]}})",
                        {1}));
  WriteSeed(out, "gap",
            Safetensors(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                        R"( "b": {"dtype": "U8", "shape": [1], "data_offsets": [2, 3]}})",
                        {1, 2, 3}));
  WriteSeed(out, "overlap",
            Safetensors(R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},)"
                        R"( "b": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}})",
                        {1, 2, 3}));
  WriteSeed(out, "offsets-reversed",
            Safetensors(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 0]}})", {1}));
  WriteSeed(out, "duplicate-key",
            Safetensors(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                        R"( "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})",
                        {1}));
  std::string deep = R"({"__metadata__": )";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  WriteSeed(out, "deep-nesting", Safetensors(deep + "}", {}));
  std::vector<uint8_t> trailing = OneTensor("U8", "[8]", eight);
  trailing.push_back(0);
  WriteSeed(out, "trailing-byte", trailing);
  const std::vector<uint8_t> valid = OneTensor("U8", "[8]", eight);
  WriteSeed(out, "truncated-data", std::span(valid).first(valid.size() - 1));
  WriteSeed(out, "not-an-object", Safetensors("[]", {}));
  WriteSeed(out, "header-invalid-utf8", Safetensors("{\"\xC0\": 1}", {}));
  Bytes huge_length;
  huge_length.Put<uint64_t>(uint64_t{1} << 63).Raw("{}");
  WriteSeed(out, "header-length-huge", huge_length.bytes());
  Bytes past_end;
  past_end.Put<uint64_t>(1000).Raw("{}");
  WriteSeed(out, "header-length-past-end", past_end.bytes());
  WriteSeed(out, "empty-header", Safetensors("{}", {}));
  // 200 small tensors in one file.
  std::string many = "{";
  std::vector<uint8_t> data;
  for (int i = 0; i < 200; ++i) {
    if (i > 0) many += ", ";
    many += "\"blk." + std::to_string(i) + ".w\": {\"dtype\": \"F16\", \"shape\": [2], " +
            "\"data_offsets\": [" + std::to_string(4 * i) + ", " + std::to_string(4 * i + 4) + "]}";
    for (int k = 0; k < 4; ++k) data.push_back(static_cast<uint8_t>(i + k));
  }
  WriteSeed(out, "many-tensors", Safetensors(many + "}", data));
}

void WriteSafetensorsFrom(const fs::path& testdata, const fs::path& out) {
  const auto files =
      FilesUnder(testdata, [](const std::string& name) { return name.ends_with(".safetensors"); });
  for (const fs::path& path : files) {
    Result<std::shared_ptr<const ByteSource>> source = MapFile(path.string());
    if (!source.ok()) continue;
    const std::string name = SeedName(testdata, path);
    const auto bytes = (*source)->bytes();
    if (bytes.size() <= kWholeFileLimit) WriteSeed(out, name, bytes);
    Result<SafetensorsFile> file = ParseSafetensors(*source);
    if (!file.ok()) {
      std::fprintf(stderr, "qtk_fuzz_seeds: skipping %s\n", file.status().message().c_str());
      continue;
    }
    WriteSeed(out, name + ".header", bytes.first(file->data_offset()));
    const std::vector<uint8_t> small = ShrunkCopy(*file);
    if (!small.empty()) WriteSeed(out, name + ".small", small);
  }
}

// ---- Shard indexes

void WriteHandcraftedIndexes(const fs::path& out) {
  const std::pair<const char*, const char*> cases[] = {
      {"valid", R"({"metadata": {"total_size": 8, "format": "pt"}, "weight_map": {)"
                R"("a.weight": "model-00001-of-00002.safetensors",)"
                R"( "b.weight": "model-00002-of-00002.safetensors",)"
                R"( "c.weight": "model-00001-of-00002.safetensors"}})"},
      {"one-shard", R"({"weight_map": {"a": "m.safetensors"}})"},
      {"subdirectory", R"({"weight_map": {"a": "sub/dir/m.safetensors", "b": "./m.safetensors"}})"},
      {"empty-weight-map", R"({"metadata": null, "weight_map": {}})"},
      {"absolute", R"({"weight_map": {"a": "/etc/passwd"}})"},
      {"dot-dot", R"({"weight_map": {"a": "../m.safetensors"}})"},
      {"inner-dot-dot", R"({"weight_map": {"a": "sub/../../m.safetensors"}})"},
      {"empty-name", R"({"weight_map": {"a": ""}})"},
      {"nul-in-name", R"({"weight_map": {"a": "m.safetensors\u0000.txt"}})"},
      {"not-a-string", R"({"weight_map": {"a": 3}})"},
      {"weight-map-array", R"({"weight_map": ["a", "b"]})"},
      {"no-weight-map", R"({"metadata": {"total_size": 8}})"},
      {"metadata-array", R"({"metadata": [1], "weight_map": {"a": "m.safetensors"}})"},
      {"total-size-string", R"({"metadata": {"total_size": "8"}, "weight_map": {}})"},
      {"tensor-named-metadata", R"({"weight_map": {"__metadata__": "m.safetensors"}})"},
      {"empty-tensor-name", R"({"weight_map": {"": "m.safetensors"}})"},
      {"duplicate-tensor", R"({"weight_map": {"a": "m.safetensors", "a": "n.safetensors"}})"},
      {"root-array", R"([{"weight_map": {}}])"},
      {"invalid-json", R"({"weight_map": {"a": "m.safetensors",}})"},
  };
  for (const auto& [name, text] : cases) WriteText(out, name, text);
}

// ---- config.json

void WriteHandcraftedConfigs(const fs::path& out) {
  using testing::FuzzLlamaConfig;
  WriteText(out, "llama", FuzzLlamaConfig(512));
  WriteText(out, "llama-no-vocab-size", FuzzLlamaConfig(-1));
  WriteText(out, "vocab-size-huge", FuzzLlamaConfig(int64_t{1} << 40));
  WriteText(out, "vocab-size-32016", FuzzLlamaConfig(32016));
  std::string config = FuzzLlamaConfig(8);
  config.pop_back();
  const std::pair<const char*, std::string> extras[] = {
      {"layers-huge", R"(, "num_hidden_layers": 1000000000000000)"},
      {"heads-zero", R"(, "num_attention_heads": 0)"},
      {"head-dim", R"(, "head_dim": 16)"},
      {"rope-linear", R"(, "rope_scaling": {"type": "linear", "factor": 2.0})"},
      {"rope-llama3", R"(, "rope_scaling": {"rope_type": "llama3", "factor": 8.0})"},
      {"rope-theta-huge", R"(, "rope_theta": 1e300)"},
      {"number-overflow", R"(, "rms_norm_eps": 1e400)"},
      {"text-config", R"(, "text_config": {"hidden_size": 32, "vocab_size": 9})"},
      {"name-or-path", R"(, "_name_or_path": "org/Model-7B-Instruct-v0.2")"},
      {"special-ids", R"(, "pad_token_id": 7, "unk_token_id": -1)"},
      {"tokenizer-config",
       R"(, "added_tokens_decoder": {"3": {"content": "<|im|>", "special": false}},)"
       R"( "chat_template": "x", "add_bos_token": true, "add_sep_token": true, "<extra>": 4)"},
      {"is-causal", R"(, "is_causal": false)"},
  };
  for (const auto& [name, extra] : extras) WriteText(out, name, config + extra + "}");
  std::string deep = R"({"architectures": ["LlamaForCausalLM"], "deep": )";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  WriteText(out, "deep-nesting", deep + "}");
  WriteText(out, "architectures-string", R"({"architectures": "LlamaForCausalLM"})");
  WriteText(out, "duplicate-key", R"({"a": 1, "a": 2})");
  WriteText(out, "root-array", "[1, 2]");
  WriteText(out, "truncated", R"({"architectures": ["LlamaForCaus)");
  WriteText(out, "control-characters", "{\"a\": \"\x1b[2J\"}");
}

// ---- tokenizer.model

void WriteHandcraftedSentencePiece(const fs::path& out) {
  WriteSeed(out, "tiny", SerializeSentencePieceModel(testing::FuzzTokenizer()));
  WriteSeed(out, "synth-300", SerializeSentencePieceModel(SynthTokenizer(300)));
  auto variant = [&](const std::string& name, auto&& change) {
    SentencePieceModel model = testing::FuzzTokenizer();
    change(model);
    WriteSeed(out, name, SerializeSentencePieceModel(model));
  };
  variant("no-unknown", [](SentencePieceModel& m) { m.pieces[0].type = PieceType::kNormal; });
  variant("two-unknown", [](SentencePieceModel& m) { m.pieces[1].type = PieceType::kUnknown; });
  variant("duplicate-piece", [](SentencePieceModel& m) { m.pieces[4].piece = m.pieces[3].piece; });
  variant("empty-piece", [](SentencePieceModel& m) { m.pieces[4].piece.clear(); });
  variant("byte-without-fallback", [](SentencePieceModel& m) {
    m.pieces.push_back({"<0x41>", 0.0f, PieceType::kByte});
  });
  variant("fallback-missing-bytes", [](SentencePieceModel& m) {
    m.trainer_spec.byte_fallback = true;
    m.pieces.push_back({"<0x41>", 0.0f, PieceType::kByte});
  });
  variant("byte-lowercase-hex", [](SentencePieceModel& m) {
    m.trainer_spec.byte_fallback = true;
    m.pieces.push_back({"<0x4a>", 0.0f, PieceType::kByte});
  });
  variant("nan-score", [](SentencePieceModel& m) {
    m.pieces[3].score = std::numeric_limits<float>::quiet_NaN();
  });
  variant("negative-ids", [](SentencePieceModel& m) {
    m.trainer_spec.bos_id = -5;
    m.trainer_spec.vocab_size = -1;
  });
  const std::vector<uint8_t> tiny = SerializeSentencePieceModel(testing::FuzzTokenizer());
  WriteSeed(out, "truncated", std::span(tiny).first(tiny.size() / 2));
  WriteSeed(out, "length-past-end", std::vector<uint8_t>{0x0a, 0x7f, 0x0a, 0x01, 0x61});
  WriteSeed(out, "varint-too-long", std::vector<uint8_t>(12, 0xff));
  WriteSeed(out, "group-wire-type", std::vector<uint8_t>{0x0b, 0x0c});
  WriteSeed(out, "type-7", std::vector<uint8_t>{0x0a, 0x05, 0x0a, 0x01, 0x61, 0x18, 0x07});
  WriteSeed(out, "piece-invalid-utf8", std::vector<uint8_t>{0x0a, 0x03, 0x0a, 0x01, 0xc0});
}

}  // namespace

void WriteSafetensorsSeeds(const fs::path& testdata, const fs::path& out) {
  WriteHandcraftedSafetensors(out);
  WriteSafetensorsFrom(testdata, out);
}

void WriteIndexSeeds(const fs::path& testdata, const fs::path& out) {
  WriteHandcraftedIndexes(out);
  for (const fs::path& path : FilesUnder(
           testdata, [](const std::string& name) { return name.ends_with(".index.json"); })) {
    WriteSeed(out, SeedName(testdata, path), FileBytes(path));
  }
}

void WriteConfigSeeds(const fs::path& testdata, const fs::path& out) {
  WriteHandcraftedConfigs(out);
  for (const fs::path& path : FilesUnder(testdata, [](const std::string& name) {
         return name == "config.json" || name == "adapter_config.json";
       })) {
    WriteSeed(out, SeedName(testdata, path), FileBytes(path));
  }
}

void WriteSentencePieceSeeds(const fs::path& testdata, const fs::path& out) {
  WriteHandcraftedSentencePiece(out);
  for (const fs::path& path :
       FilesUnder(testdata, [](const std::string& name) { return name == "tokenizer.model"; })) {
    WriteSeed(out, SeedName(testdata, path), FileBytes(path));
  }
}

void WriteTokenizerSeeds(const fs::path& out) {
  auto seed = [&out](const std::string& name, char mode, const std::string& body) {
    std::string bytes(1, mode);
    bytes += body;
    WriteSeed(out, name, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  };
  seed("tokenizer-json", '\0', testing::FuzzTokenizerJson());
  seed("text-english", '\1', "Hello world, the abc 123456 they're");
  seed("text-unicode", '\1',
       "\n \n\n \t🚀 (normal) 😶‍🌫️ 3..3 កាន់តែ 我想在apple工作 "
       "нещо<|x|>");
}

}  // namespace qtk::fuzz
