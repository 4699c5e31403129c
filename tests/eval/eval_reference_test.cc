// qtk eval against llama-perplexity on the trained stories260K model and its quantized
// files (../shared/testdata/reference/llama.cpp/stories260K/quality): perplexity within
// 0.5 %, mean KLD within 5 % or 1e-4, on the token ids llama-perplexity evaluated.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "qtk/eval/eval_job.h"
#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

TEST_CASE("eval: stories260K perplexity and KLD agree with llama-perplexity", "[eval][reference]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const fs::path quality = testdata / "reference/llama.cpp/stories260K/quality";
  const nlohmann::json reference =
      nlohmann::json::parse(testing::ReadFileText(quality / "quality.json"));
  auto path_of = [&](const std::string& file) {
    const fs::path there = quality.parent_path() / file;
    return (fs::exists(there) ? there : quality / "files" / file).string();
  };
  EvalJob job;
  job.base = path_of("stories260K-convert-f32.gguf");
  for (const nlohmann::json& row : reference["rows"]) {
    job.models.push_back(path_of(row["file"].get<std::string>()));
  }
  job.tokens_file = (quality / "stories260K-eval-tokens.json").string();
  job.n_ctx = 128;
  job.n_threads = 2;
  Result<EvalResult> result = RunEvalJob(job);
  REQUIRE(result.ok());
  CHECK(result->n_chunks == 127);
  CHECK(result->n_scored == 8001);
  CHECK(result->bos_replaced);
  REQUIRE(result->results.size() == reference["rows"].size() + 1);
  CHECK(result->results[0].is_base);
  CHECK(result->results[0].perplexity.perplexity ==
        Approx(reference["rows"][0]["ppl"].get<double>()).epsilon(0.005));
  for (size_t i = 0; i < reference["rows"].size(); ++i) {
    const nlohmann::json& row = reference["rows"][i];
    const EvalModelResult& ours = result->results[i + 1];
    INFO(row["label"].get<std::string>()
         << ": PPL " << ours.perplexity.perplexity << " vs " << row["ppl"] << ", mean KLD "
         << ours.kld->mean << " vs " << row["mean_kld"]);
    CHECK(ours.perplexity.perplexity == Approx(row["ppl"].get<double>()).epsilon(0.005));
    CHECK(ours.perplexity.perplexity_error == Approx(row["ppl_err"].get<double>()).epsilon(0.05));
    REQUIRE(ours.kld.has_value());
    const double kld = row["mean_kld"].get<double>();
    CHECK(std::abs(ours.kld->mean - kld) <= std::max(0.05 * std::abs(kld), 1e-4));
    CHECK(ours.kld->same_top_p >= row["same_top_p_pct"].get<double>() / 100 - 0.02);
  }
}

// llama-perplexity -ctk T -ctv T -fa on against the default F16 cache, on synth-a (head size
// 64): llama.cpp rotates q/k/v by a Hadamard matrix before a quantized cache stores them.
TEST_CASE("eval: a quantized KV cache costs what llama-perplexity measures", "[eval][reference]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const nlohmann::json reference = nlohmann::json::parse(
      testing::ReadFileText(testdata / "reference/llama.cpp/synth-a/quality-kv.json"));
  const std::string model =
      (testdata / "reference/llama.cpp/synth-a/synth-a-convert-f32.gguf").string();
  for (const auto& [name, type] :
       {std::pair{"Q8_0", KvCacheType::kQ8_0}, std::pair{"Q4_0", KvCacheType::kQ4_0}}) {
    EvalJob job;
    job.base = model;
    job.models = {model};
    job.kv_type = type;
    job.tokens_file =
        (testdata / "reference/llama.cpp/stories260K/quality/stories260K-eval-tokens.json")
            .string();
    job.n_ctx = 128;
    job.n_threads = 2;
    Result<EvalResult> result = RunEvalJob(job);
    REQUIRE(result.ok());
    const nlohmann::json& row = reference["kv"][name];
    const EvalModelResult& ours = result->results[1];
    INFO(name << ": mean KLD " << ours.kld->mean << " vs " << row["kld_mean"] << ", PPL "
              << ours.perplexity.perplexity << " vs " << row["ppl_q"]);
    CHECK(ours.perplexity.perplexity == Approx(row["ppl_q"].get<double>()).epsilon(0.005));
    const double kld = row["kld_mean"].get<double>();
    CHECK(std::abs(ours.kld->mean - kld) <= std::max(0.05 * kld, 1e-4));
    CHECK(ours.kld->same_top_p == Approx(row["same_top_p_pct"].get<double>() / 100).margin(0.01));
  }
}

}  // namespace
}  // namespace qtk
