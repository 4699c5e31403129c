// RunQuantizeJob: all of `qtk quantize` as one library call, as any program would make it.
#include "qtk/pipeline/quantize_job.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "test_support.h"

namespace qtk {
namespace {

namespace fs = std::filesystem;

fs::path SynthADir(const fs::path& testdata) { return testdata / "reference/llama.cpp/synth-a"; }

QuantizeJob JobFor(const fs::path& testdata, const testing::TempDir& tmp) {
  QuantizeJob job;
  job.input = (SynthADir(testdata) / "synth-a-convert-f32.gguf").string();
  job.outputs = {{(tmp / "q4km.gguf").string(), FileType::kMostlyQ4_K_M, std::nullopt},
                 {(tmp / "q8.gguf").string(), FileType::kMostlyQ8_0, std::nullopt}};
  job.options.n_threads = 2;
  return job;
}

struct Recorder {
  std::vector<std::pair<LogLevel, std::string>> lines;
  int n_planned = 0;
  size_t n_plans = 0;
  bool outputs_existed_when_planned = false;

  QuantizeJobCallbacks Callbacks(const testing::TempDir& tmp) {
    QuantizeJobCallbacks callbacks;
    callbacks.log = [this](LogLevel level, const std::string& line) {
      lines.emplace_back(level, line);
    };
    callbacks.planned = [this, &tmp](const std::vector<OutputPlan>& plans) {
      ++n_planned;
      n_plans = plans.size();
      outputs_existed_when_planned = fs::exists(tmp / "q4km.gguf") || fs::exists(tmp / "q8.gguf");
    };
    return callbacks;
  }
};

TEST_CASE("quantize job: one call writes what llama-quantize writes", "[pipeline][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  Recorder recorder;
  Result<QuantizeJobResult> result = RunQuantizeJob(JobFor(testdata, tmp), recorder.Callbacks(tmp));
  REQUIRE(result.ok());
  CHECK(result->passed());
  REQUIRE(result->summary.has_value());
  CHECK(result->summary->outputs.size() == 2);
  CHECK(result->plans.size() == 2);
  CHECK(recorder.n_planned == 1);
  CHECK(recorder.n_plans == 2);
  CHECK_FALSE(recorder.outputs_existed_when_planned);
  CHECK(recorder.lines.empty());
  CHECK(testing::ReadFileBytes(tmp / "q4km.gguf") ==
        testing::ReadFileBytes(SynthADir(testdata) / "synth-a-mix-Q4_K_M.gguf"));
  CHECK(testing::ReadFileBytes(tmp / "q8.gguf") ==
        testing::ReadFileBytes(SynthADir(testdata) / "synth-a-mix-Q8_0.gguf"));
}

TEST_CASE("quantize job: a dry run plans and writes nothing", "[pipeline][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  QuantizeJob job = JobFor(testdata, tmp);
  job.dry_run = true;
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(job), {});
  REQUIRE(result.ok());
  CHECK_FALSE(result->summary.has_value());
  REQUIRE(result->plans.size() == 2);
  CHECK(result->plans[1].layout.file_bytes() ==
        fs::file_size(SynthADir(testdata) / "synth-a-mix-Q8_0.gguf"));
  CHECK(fs::is_empty(tmp.path()));
}

TEST_CASE("quantize job: a size gate breach writes nothing", "[pipeline][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  QuantizeJob job = JobFor(testdata, tmp);
  job.gates.max_size_bytes = 1000;
  job.gates.max_size_text = "1000";
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(job), {});
  REQUIRE(result.ok());
  CHECK_FALSE(result->passed());
  CHECK(result->size_breaches.size() == 2);
  CHECK(result->size_breaches[0].rfind("Q4_K_M: size ", 0) == 0);
  CHECK_FALSE(result->summary.has_value());
  CHECK(fs::is_empty(tmp.path()));
}

TEST_CASE("quantize job: error gates are measured on what was written", "[pipeline][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  QuantizeJob job = JobFor(testdata, tmp);
  job.gates.min_snr_db = 1000;  // no quantization reaches it
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(job), {});
  REQUIRE(result.ok());
  CHECK(result->summary.has_value());
  CHECK(result->error_breaches.size() == 2);
  CHECK(fs::exists(tmp / "q8.gguf"));  // kept for inspection
}

TEST_CASE("quantize job: the log gets the importance matrix and the warnings",
          "[pipeline][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  QuantizeJob job = JobFor(testdata, tmp);
  job.outputs.resize(1);
  job.imatrix_path = (SynthADir(testdata) / "imatrix/synth-a.imatrix.gguf").string();
  job.options.keep_split = true;
  job.dry_run = true;
  Recorder recorder;
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(job), recorder.Callbacks(tmp));
  REQUIRE(result.ok());
  REQUIRE(recorder.lines.size() >= 2);
  CHECK(recorder.lines[0].first == LogLevel::kInfo);
  CHECK(recorder.lines[0].second.find("synth-a.imatrix.gguf: ") != std::string::npos);
  CHECK(recorder.lines[0].second.find(" entries, ") != std::string::npos);
  CHECK(recorder.lines[1].first == LogLevel::kWarning);
  CHECK(recorder.lines[1].second.rfind("--keep-split: ", 0) == 0);
}

TEST_CASE("quantize job: a stop request leaves no output", "[pipeline][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  QuantizeJob job = JobFor(testdata, tmp);
  int n_polls = 0;
  job.options.should_stop = [&n_polls] { return ++n_polls > 3; };
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(job), {});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == Status::Code::kCancelled);
  CHECK(fs::is_empty(tmp.path()));
}

TEST_CASE("quantize job: a missing input is an error naming it", "[pipeline]") {
  testing::TempDir tmp;
  QuantizeJob job;
  job.input = (tmp / "missing").string();
  job.outputs = {{(tmp / "out.gguf").string(), FileType::kMostlyQ8_0, std::nullopt}};
  Result<QuantizeJobResult> result = RunQuantizeJob(std::move(job), {});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message() == (tmp / "missing").string() + ": no such file or directory");
  CHECK(fs::is_empty(tmp.path()));
}

}  // namespace
}  // namespace qtk
