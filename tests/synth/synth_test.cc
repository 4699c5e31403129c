// `qtk synth`: determinism, valid safetensors, config, tokenizer, sharding, statistics, CLI.
#include "qtk/synth/synth.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "qtk/base/sha256.h"
#include "qtk/convert/architecture.h"
#include "qtk/convert/sentencepiece.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::vector<uint8_t>> ReadDir(const fs::path& dir) {
  std::map<std::string, std::vector<uint8_t>> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files[entry.path().filename().string()] = testing::ReadFileBytes(entry.path());
  }
  return files;
}

SynthResult Write(const fs::path& dir, SynthOptions options) {
  Result<SynthResult> result = WriteSynthCheckpoint(dir.string(), options);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return std::move(*result);
}

// Checks one safetensors file against the format's rules, straight from its bytes, and
// returns its tensors (name -> shape).
std::map<std::string, std::vector<int64_t>> CheckSafetensors(const std::vector<uint8_t>& bytes,
                                                             const std::string& dtype) {
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  REQUIRE(8 + n <= bytes.size());
  CHECK((8 + n) % 8 == 0);
  const auto header =
      nlohmann::ordered_json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n));
  REQUIRE(header.is_object());
  CHECK(header["__metadata__"]["format"] == "pt");
  std::map<std::string, std::vector<int64_t>> tensors;
  uint64_t expected_begin = 0;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    INFO(name);
    CHECK(info["dtype"] == dtype);
    const auto shape = info["shape"].get<std::vector<int64_t>>();
    uint64_t n_bytes = dtype == "F32" ? 4 : 2;
    for (int64_t dim : shape) n_bytes *= static_cast<uint64_t>(dim);
    const auto begin = info["data_offsets"][0].get<uint64_t>();
    const auto end = info["data_offsets"][1].get<uint64_t>();
    CHECK(begin == expected_begin);  // contiguous, in header order
    CHECK(end - begin == n_bytes);
    expected_begin = end;
    tensors[name] = shape;
  }
  CHECK(8 + n + expected_begin == bytes.size());  // header + data == file
  return tensors;
}

TEST_CASE("the tiny preset is byte-identical across runs and thread counts", "[synth]") {
  testing::TempDir dir;
  Write(dir / "a", {.n_threads = 1});
  Write(dir / "b", {.n_threads = 2});
  Write(dir / "c", {.n_threads = 7});
  const auto a = ReadDir(dir / "a");
  CHECK(a.size() == 3);
  CHECK(a == ReadDir(dir / "b"));
  CHECK(a == ReadDir(dir / "c"));
  Write(dir / "d", {.seed = 1});
  const auto d = ReadDir(dir / "d");
  CHECK(d.at("model.safetensors") != a.at("model.safetensors"));
  CHECK(d.at("config.json") == a.at("config.json"));
}

TEST_CASE("the generator does not depend on how rows are split", "[synth]") {
  const SynthShape shape = PresetShape(SynthPreset::kTiny);
  const std::vector<SynthTensor> tensors = SynthTensors(shape);
  const SynthTensor& q = tensors[1];
  REQUIRE(q.name == "model.layers.0.self_attn.q_proj.weight");
  const int64_t n = q.n_rows() * q.row_length();
  std::vector<float> whole(static_cast<size_t>(n));
  std::vector<float> parts(static_cast<size_t>(n));
  GenerateSynthRows(shape, q, 7, 0, q.n_rows(), whole);
  const int64_t split = 37 * q.row_length();
  GenerateSynthRows(shape, q, 7, 0, 37, std::span(parts).first(static_cast<size_t>(split)));
  GenerateSynthRows(shape, q, 7, 37, q.n_rows(),
                    std::span(parts).subspan(static_cast<size_t>(split)));
  CHECK(whole == parts);
}

TEST_CASE("the pinned tiny f32 checkpoint has not changed", "[synth]") {
  // Guards against accidental changes to the generator: the README demo, the benchmarks and
  // their recorded numbers depend on these exact bytes. Update deliberately, with a reason.
  testing::TempDir dir;
  Write(dir.path(), {.dtype = SynthDtype::kF32});
  CHECK(Sha256Hex(testing::ReadFileBytes(dir / "model.safetensors")) ==
        "bf671bd4f90c9e5de23afee12f1fc1b0ea15c8ccbfb979ed9babd94266d1470f");
}

TEST_CASE("the files are valid safetensors, config and tokenizer", "[synth]") {
  testing::TempDir dir;
  for (SynthDtype dtype : {SynthDtype::kF32, SynthDtype::kF16, SynthDtype::kBF16}) {
    const std::string name(SynthDtypeName(dtype));
    INFO(name);
    const SynthResult result = Write(dir / name, {.dtype = dtype});
    const std::string st_dtype = dtype == SynthDtype::kF32   ? "F32"
                                 : dtype == SynthDtype::kF16 ? "F16"
                                                             : "BF16";
    const auto tensors =
        CheckSafetensors(testing::ReadFileBytes(dir / name / "model.safetensors"), st_dtype);
    const SynthShape shape = PresetShape(SynthPreset::kTiny);
    CHECK(tensors.size() == SynthTensors(shape).size());
    CHECK(tensors.at("model.layers.1.self_attn.k_proj.weight") == std::vector<int64_t>{128, 256});
    CHECK(result.n_parameters == 1705216);

    const auto config = nlohmann::json::parse(testing::ReadFileText(dir / name / "config.json"));
    CHECK(config["architectures"][0] == "LlamaForCausalLM");
    CHECK(config["hidden_size"] == shape.hidden_size);
    CHECK(config["intermediate_size"] == shape.intermediate_size);
    CHECK(config["num_hidden_layers"] == shape.n_layer);
    CHECK(config["num_attention_heads"] == shape.n_head);
    CHECK(config["num_key_value_heads"] == shape.n_head_kv);
    CHECK(config["vocab_size"] == shape.vocab_size);
    CHECK(config["max_position_embeddings"] == shape.context_length);
    CHECK(config["tie_word_embeddings"] == true);
    CHECK(config["torch_dtype"] == (dtype == SynthDtype::kF32   ? "float32"
                                    : dtype == SynthDtype::kF16 ? "float16"
                                                                : "bfloat16"));

    Result<SentencePieceModel> tokenizer =
        ReadSentencePieceModel((dir / name / "tokenizer.model").string());
    REQUIRE(tokenizer.ok());
    CHECK(tokenizer->pieces.size() == 512);
    CHECK(tokenizer->pieces[3].piece == "<0x00>");
    CHECK(tokenizer->pieces[259].piece == "\xE2\x96\x81");
    CHECK(tokenizer->pieces[260].piece ==
          "\xE2\x96\x81"
          "e");
    CHECK(tokenizer->pieces[261].piece == "e");
    CHECK(tokenizer->pieces[261].score == -2.0f);
  }
}

TEST_CASE("every preset has the advertised shape", "[synth]") {
  auto n_parameters = [](SynthPreset preset) {
    uint64_t n = 0;
    for (const SynthTensor& t : SynthTensors(PresetShape(preset))) {
      uint64_t elements = 1;
      for (int64_t dim : t.shape) elements *= static_cast<uint64_t>(dim);
      n += elements;
    }
    return n;
  };
  CHECK(n_parameters(SynthPreset::kTiny) == 1705216);
  CHECK(n_parameters(SynthPreset::kSmall) == 33366528);
  CHECK(n_parameters(SynthPreset::k1B) == 1038682112);
  CHECK(SynthTensors(PresetShape(SynthPreset::kSmall)).back().name == "lm_head.weight");
  CHECK(SynthTokenizer(32000).pieces.size() == 32000);
}

TEST_CASE("large checkpoints are sharded with an index", "[synth]") {
  testing::TempDir dir;
  const SynthResult result =
      Write(dir.path(), {.dtype = SynthDtype::kF32, .max_shard_bytes = 2'000'000});
  const auto index =
      nlohmann::json::parse(testing::ReadFileText(dir / "model.safetensors.index.json"));
  std::map<std::string, std::vector<int64_t>> all;
  uint64_t data_bytes = 0;
  int n_shards = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".safetensors") continue;
    ++n_shards;
    CHECK(file.starts_with("model-0000"));
    CHECK(entry.file_size() <= 2'000'000 + 4096);  // header bytes on top of the data limit
    const auto bytes = testing::ReadFileBytes(entry.path());
    for (const auto& [name, shape] : CheckSafetensors(bytes, "F32")) {
      CHECK(index["weight_map"][name] == file);
      all[name] = shape;
      uint64_t n = 4;
      for (int64_t dim : shape) n *= static_cast<uint64_t>(dim);
      data_bytes += n;
    }
  }
  std::set<std::string> index_files;
  for (const auto& [name, file] : index["weight_map"].items()) index_files.insert(file);
  CHECK(n_shards > 1);
  CHECK(index_files.size() == static_cast<size_t>(n_shards));
  CHECK(index_files.count("model-00001-of-0000" + std::to_string(n_shards) + ".safetensors") == 1);
  CHECK(all.size() == index["weight_map"].size());
  CHECK(index["metadata"]["total_size"] == data_bytes);
  CHECK(result.n_data_bytes == data_bytes);
}

TEST_CASE("the synthetic checkpoint goes through the conversion rules", "[synth]") {
  testing::TempDir dir;
  Write(dir.path(), {.preset = SynthPreset::kSmall, .dtype = SynthDtype::kBF16});
  Result<HfModelConfig> config =
      ParseHfModelConfig(testing::ReadFileText(dir / "config.json"), "config.json");
  REQUIRE(config.ok());
  std::vector<HfTensor> tensors;
  for (const auto& [name, shape] :
       CheckSafetensors(testing::ReadFileBytes(dir / "model.safetensors"), "BF16")) {
    tensors.push_back({name, shape, "model.safetensors"});
  }
  Result<ConversionPlan> plan = PlanTensors(*config, tensors, ConvertOutType::kQ8_0);
  REQUIRE(plan.ok());
  CHECK(plan->tensors.size() == tensors.size());
  CHECK(plan->warnings.empty());  // every row length is a multiple of 32
  CHECK(plan->tensors.front().gguf_name == "output.weight");
  Result<SentencePieceModel> tokenizer = ReadSentencePieceModel((dir / "tokenizer.model").string());
  REQUIRE(tokenizer.ok());
  Result<ModelMetadata> vocab = BuildTokenizerMetadata(*config, &*tokenizer, {});
  REQUIRE(vocab.ok());
  CHECK(vocab->warnings.empty());
  Result<ModelMetadata> metadata = BuildModelMetadata(*config,
                                                      {.model_dir_name = "qtk-demo",
                                                       .out_type = ConvertOutType::kQ8_0,
                                                       .total_parameters = plan->total_parameters},
                                                      std::move(vocab->metadata));
  REQUIRE(metadata.ok());
  CHECK(metadata->metadata[2].key == "general.name");
  CHECK(*metadata->metadata[2].value.AsString() == "Qtk Demo");
  CHECK(metadata->metadata[3].key == "general.size_label");
  CHECK(*metadata->metadata[3].value.AsString() == "33M");
}

TEST_CASE("realistic statistics: row spread, outlier columns, edge rows", "[synth]") {
  const SynthShape shape = PresetShape(SynthPreset::kTiny);
  const std::vector<SynthTensor> tensors = SynthTensors(shape);
  auto generate = [&shape](const SynthTensor& t) {
    std::vector<float> values(static_cast<size_t>(t.n_rows() * t.row_length()));
    GenerateSynthRows(shape, t, 0, 0, t.n_rows(), values);
    return values;
  };
  auto row_rms = [](const std::vector<float>& v, int64_t row, int64_t length) {
    double sum = 0;
    for (int64_t i = 0; i < length; ++i)
      sum += double(v[size_t(row * length + i)]) * v[size_t(row * length + i)];
    return std::sqrt(sum / double(length));
  };
  const SynthTensor& up = tensors[6];
  REQUIRE(up.name == "model.layers.0.mlp.up_proj.weight");
  const std::vector<float> v = generate(up);
  double lo = 1e9, hi = 0;
  for (int64_t r = 0; r < up.n_rows(); ++r) {
    if (r == 2) continue;
    lo = std::min(lo, row_rms(v, r, up.row_length()));
    hi = std::max(hi, row_rms(v, r, up.row_length()));
  }
  CHECK(hi / lo > 4.0);
  CHECK(row_rms(v, 2, up.row_length()) < 1e-6);
  // One hidden dimension carries an outlier feature: its column is far above the median.
  std::vector<double> column_rms(static_cast<size_t>(up.row_length()));
  for (int64_t c = 0; c < up.row_length(); ++c) {
    double sum = 0;
    for (int64_t r = 0; r < up.n_rows(); ++r)
      sum += double(v[size_t(r * up.row_length() + c)]) * v[size_t(r * up.row_length() + c)];
    column_rms[size_t(c)] = std::sqrt(sum / double(up.n_rows()));
  }
  std::vector<double> sorted = column_rms;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted.back() > 6.0 * sorted[sorted.size() / 2]);
  CHECK(sorted[sorted.size() - 2] < 2.0 * sorted[sorted.size() / 2]);  // just one (256 / 512 -> 1)
  // Heavy tails: excess kurtosis of a normal-scale row is well above a Gaussian's 0.
  const SynthTensor& down = tensors[7];
  REQUIRE(down.name == "model.layers.0.mlp.down_proj.weight");
  const std::vector<float> d = generate(down);
  CHECK(row_rms(d, 1, down.row_length()) == 0.0);
  double m2 = 0, m4 = 0;
  for (int64_t i = 0; i < down.row_length(); ++i) {
    const double x = d[size_t(5 * down.row_length() + i)];
    m2 += x * x;
    m4 += x * x * x * x;
  }
  m2 /= double(down.row_length());
  m4 /= double(down.row_length());
  CHECK(m4 / (m2 * m2) > 4.0);
}

TEST_CASE("existing files are refused unless forced", "[synth]") {
  testing::TempDir dir;
  Write(dir.path(), {});
  Result<SynthResult> again = WriteSynthCheckpoint(dir.path().string(), {});
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message() ==
        (dir / "model.safetensors").string() + ": already exists (use --force to overwrite)");
  CHECK(WriteSynthCheckpoint(dir.path().string(), {.overwrite = true}).ok());
}

TEST_CASE("qtk synth on the command line", "[synth][cli]") {
  testing::TempDir dir;
  const testing::CommandResult ok =
      testing::RunQtk({"synth", (dir / "m").string(), "--dtype", "f32", "--seed", "3"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("preset tiny, seed 3, f32, 1705216 parameters"));
  CHECK(fs::exists(dir / "m" / "config.json"));
  SynthOptions same{.seed = 3, .dtype = SynthDtype::kF32};
  Write(dir / "lib", same);
  CHECK(ReadDir(dir / "m") == ReadDir(dir / "lib"));

  const testing::CommandResult again = testing::RunQtk({"synth", (dir / "m").string()});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("already exists (use --force to overwrite)"));
  const testing::CommandResult bad_preset =
      testing::RunQtk({"synth", (dir / "x").string(), "--preset", "huge"});
  CHECK(bad_preset.exit_code == 2);
  const testing::CommandResult bad_size =
      testing::RunQtk({"synth", (dir / "x").string(), "--max-shard-size", "5XB"});
  CHECK(bad_size.exit_code == 2);
  CHECK_THAT(bad_size.err, Catch::Contains("--max-shard-size: size '5XB': unknown unit 'XB'"));
  const testing::CommandResult sharded =
      testing::RunQtk({"synth", (dir / "s").string(), "--max-shard-size", "1MiB"});
  CHECK(sharded.exit_code == 0);
  CHECK(fs::exists(dir / "s" / "model.safetensors.index.json"));
}

}  // namespace
}  // namespace qtk
