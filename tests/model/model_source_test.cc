// The unified model view (GGUF file, safetensors file, shard index, model directory), the
// model directory itself and its config view.
#include "qtk/model/model_source.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "bad_files.h"
#include "qtk/convert/hf_model.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> Text(const std::string& text) { return {text.begin(), text.end()}; }

Result<ModelConfig> Config(const std::string& text) {
  return ParseModelConfig(MemorySource("config.json", Text(text)));
}

TEST_CASE("model source: every container opens to the same kind of view",
          "[safetensors][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  struct Case {
    fs::path path;
    ModelFormat format;
    size_t n_files;
    size_t n_tensors;
  };
  const Case cases[] = {
      {testdata / "gguf" / "stories260K.gguf", ModelFormat::kGguf, 1, 48},
      {testdata / "lora" / "adapter_model.safetensors", ModelFormat::kSafetensors, 1, 25},
      {testdata / "models" / "synth-a" / "model.safetensors.index.json",
       ModelFormat::kSafetensorsSharded, 2, 0},
      {testdata / "models" / "stories260K", ModelFormat::kHfDirectory, 1, 47},
      {testdata / "models" / "stories260K-bf16-sharded", ModelFormat::kHfDirectory, 3, 47},
      {testdata / "lora", ModelFormat::kHfDirectory, 1, 25},
  };
  for (const Case& c : cases) {
    INFO(c.path.string());
    Result<ModelSource> model = OpenModel(c.path.string());
    REQUIRE(model.ok());
    CHECK(model->format() == c.format);
    CHECK(model->path() == c.path.string());
    CHECK(model->files().size() == c.n_files);
    if (c.n_tensors > 0) CHECK(model->tensors().size() == c.n_tensors);
    for (const ModelTensor& tensor : model->tensors()) {
      REQUIRE(model->FindTensor(tensor.name) == &tensor);
      CHECK(tensor.dtype.RowBytes(tensor.n_elements()) == tensor.n_bytes);
      CHECK(model->TensorData(tensor).size() == tensor.n_bytes);
      CHECK(tensor.offset + tensor.n_bytes <= fs::file_size(model->files()[tensor.file]));
    }
    CHECK((model->gguf() != nullptr) == (c.format == ModelFormat::kGguf));
    CHECK((model->safetensors() != nullptr) == (c.format != ModelFormat::kGguf));
    CHECK((model->hf_directory() != nullptr) == (c.format == ModelFormat::kHfDirectory));
  }
}

TEST_CASE("model source: shapes are in GGUF order in every format", "[safetensors][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  Result<ModelSource> gguf = OpenModel((testdata / "gguf" / "stories260K.gguf").string());
  Result<ModelSource> hf = OpenModel((testdata / "models" / "stories260K").string());
  REQUIRE(gguf.ok());
  REQUIRE(hf.ok());
  const ModelTensor* embd = gguf->FindTensor("token_embd.weight");
  const ModelTensor* embed = hf->FindTensor("model.embed_tokens.weight");
  REQUIRE(embd != nullptr);
  REQUIRE(embed != nullptr);
  CHECK(gguf->gguf()->FindTensor("token_embd.weight")->shape == std::vector<int64_t>{64, 512});
  CHECK(embd->shape == std::vector<int64_t>{64, 512});  // GGUF order, as the file
  CHECK(embed->shape == embd->shape);
  CHECK(embd->dtype.name() == "F32");
  CHECK(embed->dtype.name() == "F32");
  CHECK(embd->dtype != embed->dtype);  // same encoding, different source formats
  CHECK(embd->dtype.ggml() == embed->dtype.ggml());
  // llama.cpp's converter copies the embedding unchanged.
  const auto a = gguf->TensorData(*embd);
  const auto b = hf->TensorData(*embed);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size()) == 0);
  CHECK(gguf->metadata().size() == 19);
  CHECK(*gguf->metadata()[4].value.AsString() == "llama");

  Result<ModelSource> sharded =
      OpenModel((testdata / "models" / "stories260K-bf16-sharded").string());
  REQUIRE(sharded.ok());
  REQUIRE(sharded->metadata().size() == 2);
  CHECK(sharded->metadata()[0].key == "total_size");
  CHECK(*sharded->metadata()[0].value.AsUint() == 520064);
  CHECK(*sharded->metadata()[1].value.AsString() == "pt");
  CHECK(sharded->FindTensor("model.norm.weight")->file == 2);
}

TEST_CASE("model source: what decides the format, and the errors", "[safetensors]") {
  testing::TempDir dir;
  const auto gguf = testing::GgufHead(3, 0, 0).bytes();
  const auto safetensors = testing::SafetensorsBytes("{}", 0);
  testing::WriteFileBytes(dir / "weights", gguf);
  testing::WriteFileBytes(dir / "other", safetensors);
  testing::WriteFileBytes(dir / "notes.txt", Text("hello, world"));
  testing::WriteFileBytes(dir / "fake.gguf", safetensors);
  CHECK(OpenModel((dir / "weights").string())->format() == ModelFormat::kGguf);
  CHECK(OpenModel((dir / "other").string())->format() == ModelFormat::kSafetensors);
  CHECK(OpenModel((dir / "notes.txt").string()).status().message() ==
        (dir / "notes.txt").string() +
            ": offset 0 (0x0): not a gguf or safetensors file (starts with 'hello, w')");
  // The extension is trusted: a .gguf file is read as GGUF and its error says why not.
  CHECK(OpenModel((dir / "fake.gguf").string()).status().message() ==
        (dir / "fake.gguf").string() +
            ": offset 0 (0x0): magic: is '\\x02\\x00\\x00\\x00', "
            "expected 'GGUF'");
  const Status missing = OpenModel((dir / "missing").string()).status();
  CHECK(missing.code() == Status::Code::kNotFound);
  CHECK(missing.message() == (dir / "missing").string() + ": no such file or directory");
}

TEST_CASE("model directory: config, weights and tokenizer files", "[safetensors]") {
  testing::TempDir dir;
  const std::string path = dir.path().string();
  CHECK(OpenHfModelDirectory(path).status().message() ==
        path + ": not a hugging face model directory: no config.json");
  testing::WriteFileBytes(dir / "config.json", Text(R"({"architectures":["LlamaForCausalLM"]})"));
  CHECK(OpenHfModelDirectory(path).status().message() ==
        path +
            ": no safetensors weights (model.safetensors or model.safetensors.index.json); "
            "pytorch_model.bin is not read");
  // Both a single file and an index: model.safetensors wins, as in transformers.
  testing::WriteFileBytes(
      dir / "model.safetensors",
      testing::SafetensorsBytes(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4));
  testing::WriteFileBytes(dir / "model.safetensors.index.json", Text("not even json"));
  testing::WriteFileBytes(dir / "tokenizer.json", Text("{}"));
  testing::WriteFileBytes(dir / "tokenizer.model", Text(""));
  Result<HfModelDirectory> model = OpenHfModelDirectory(path);
  REQUIRE(model.ok());
  CHECK(model->config.architecture() == "LlamaForCausalLM");
  CHECK(model->weights.path() == (dir / "model.safetensors").string());
  CHECK(model->tokenizer_files == std::vector<std::string>{"tokenizer.model", "tokenizer.json"});

  testing::WriteFileBytes(dir / "config.json", Text(R"({"a":1,})"));
  CHECK(OpenHfModelDirectory(path).status().message() ==
        (dir / "config.json").string() +
            ": offset 7 (0x7): config: invalid json: syntax error while parsing object key - "
            "unexpected '}'; expected string literal");
}

TEST_CASE("model config: values by dotted path, without JSON types", "[safetensors]") {
  Result<ModelConfig> config = Config(R"({
    "architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "rms_norm_eps": 1e-05,
    "rope_scaling": {"type": "linear", "factor": 2.0}, "eos_token_id": [128001, 128009],
    "tie_word_embeddings": false, "pad_token_id": null, "huge": 18446744073709551615,
    "deep": {"a": {"b": -3}}})");
  REQUIRE(config.ok());
  CHECK(config->keys() == std::vector<std::string>{"architectures", "hidden_size", "rms_norm_eps",
                                                   "rope_scaling", "eos_token_id",
                                                   "tie_word_embeddings", "pad_token_id", "huge",
                                                   "deep"});
  CHECK(config->architecture() == "LlamaForCausalLM");
  CHECK(config->GetInt("hidden_size") == 4096);
  CHECK(config->GetNumber("hidden_size") == 4096.0);
  CHECK(config->GetNumber("rms_norm_eps") == 1e-05);
  CHECK(!config->GetInt("rms_norm_eps"));
  CHECK(config->GetString("rope_scaling.type") == "linear");
  CHECK(config->GetNumber("rope_scaling.factor") == 2.0);
  CHECK(config->Find("rope_scaling")->kind == ModelConfig::Kind::kObject);
  CHECK(config->Find("eos_token_id")->size == 2);
  CHECK(config->GetInt("eos_token_id.1") == 128009);
  CHECK(config->GetBool("tie_word_embeddings") == false);
  CHECK(config->Find("pad_token_id")->kind == ModelConfig::Kind::kNull);
  CHECK(config->Find("huge")->kind == ModelConfig::Kind::kFloat);
  CHECK(config->GetInt("deep.a.b") == -3);
  CHECK(config->GetStrings("architectures") == std::vector<std::string>{"LlamaForCausalLM"});
  CHECK(config->GetStrings("rope_scaling.type") == std::vector<std::string>{"linear"});
  CHECK(config->Find("missing") == nullptr);
  CHECK(Config(R"({"model_type": "gpt2"})")->architecture() == "gpt2");

  CHECK(Config("[1]").status().message() ==
        "config.json: offset 0 (0x0): config: must be a json object, is an array");
  CHECK(Config(R"({"a": 1, "b": {"c": 1, "c": 2}})").status().message() ==
        "config.json: offset 23 (0x17): config: duplicate key 'c'");
  // Offsets stay right across escaped quotes and backslashes in keys.
  CHECK(Config(R"({"q\"\\": 1, "q\"\\": 2})").status().message() ==
        "config.json: offset 13 (0xd): config: duplicate key 'q\"\\x5c'");
}

TEST_CASE("tensor dtype: one name space over both formats", "[safetensors]") {
  const TensorDtype q4 = TensorDtype::Ggml(GgmlType::kQ4_K);
  CHECK(q4.name() == "Q4_K");
  CHECK(q4.is_quantized());
  CHECK(q4.ggml() == GgmlType::kQ4_K);
  CHECK(!q4.safetensors());
  CHECK(q4.RowBytes(512) == 288);
  const TensorDtype bf16 = TensorDtype::Safetensors(SafetensorsDtype::kBF16);
  CHECK(bf16.name() == "BF16");
  CHECK(!bf16.is_quantized());
  CHECK(bf16.ggml() == GgmlType::kBF16);
  CHECK(bf16.RowBytes(3) == 6);
  const TensorDtype f8 = TensorDtype::Safetensors(SafetensorsDtype::kF8_E4M3);
  CHECK(f8.name() == "F8_E4M3");
  CHECK(!f8.ggml());
  CHECK(f8.safetensors() == SafetensorsDtype::kF8_E4M3);
  CHECK(TensorDtype() == TensorDtype::Ggml(GgmlType::kF32));
}

}  // namespace
}  // namespace qtk
