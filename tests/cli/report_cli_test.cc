// `qtk report` and `qtk compare` driven as a user drives them: the sizes equal the files
// `qtk quantize` really writes (and llama-quantize's where they exist), the JSON validates
// against docs/report-schema.json, the SVG is well-formed XML with one bar per type, and
// the gates exit 3 with one line per breach.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "json_schema_subset.h"
#include "test_support.h"

namespace qtk {
namespace {

using testing::RunQtk;

std::filesystem::path Reference(const std::filesystem::path& testdata, const std::string& model) {
  return testdata / "reference/llama.cpp" / model;
}

std::string ConvertF32(const std::filesystem::path& testdata, const std::string& model) {
  return (Reference(testdata, model) / (model + "-convert-f32.gguf")).string();
}

// Every type `qtk quantize` can write without an importance matrix, and qtk's schemes.
constexpr const char* kAllTypes =
    "F32,F16,BF16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q2_K,Q3_K_S,Q3_K_M,Q3_K_L,Q4_K_S,Q4_K_M,Q5_K_S,"
    "Q5_K_M,Q6_K,IQ4_NL,IQ4_XS,TQ1_0,TQ2_0,MXFP4_MOE,int8-channel,int8-tensor,int8-g32,"
    "int4-g32,int4-g128,int4-g64-asym,int2-g16-asym,nf4,nf4-dq,fp4";

nlohmann::json Schema() {
  std::ifstream in(std::string(QTK_SOURCE_DIR) + "/docs/report-schema.json");
  return nlohmann::json::parse(in);
}

std::vector<std::string> SchemaErrors(const std::string& json_text) {
  return testing::SchemaSubsetValidator(Schema()).Validate(nlohmann::json::parse(json_text));
}

// name -> file_bytes of a JSON report.
std::map<std::string, uint64_t> ReportedSizes(const std::string& json_text) {
  std::map<std::string, uint64_t> sizes;
  const nlohmann::json doc = nlohmann::json::parse(json_text);
  for (const auto& target : doc["targets"]) {
    sizes[target["name"].get<std::string>()] = target["file_bytes"].get<uint64_t>();
  }
  return sizes;
}

void CheckSizesMatchQuantize(const std::filesystem::path& testdata, const std::string& model,
                             bool pure) {
  testing::TempDir tmp;
  std::vector<std::string> flags = {"--type", kAllTypes};  // report takes --types too
  if (pure) flags.push_back("--pure");
  std::vector<std::string> report_args = {"report", ConvertF32(testdata, model), "--format", "json",
                                          "--no-quality"};
  report_args.insert(report_args.end(), flags.begin(), flags.end());
  const auto report = RunQtk(report_args);
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  const auto sizes = ReportedSizes(report.out);
  REQUIRE(sizes.size() == 32);
  std::vector<std::string> quantize_args = {"quantize",
                                            "-q",
                                            "-j",
                                            "2",
                                            "-o",
                                            (tmp / "{type}.gguf").string(),
                                            ConvertF32(testdata, model)};
  quantize_args.insert(quantize_args.end(), flags.begin(), flags.end());
  const auto quantize = RunQtk(quantize_args);
  INFO(quantize.err);
  REQUIRE(quantize.exit_code == 0);
  int n_references = 0;
  for (const auto& [type, n_bytes] : sizes) {
    INFO(model << " " << type);
    CHECK(std::filesystem::file_size(tmp / (type + ".gguf")) == n_bytes);
    // And llama-quantize's own file, where there is one.
    const auto reference =
        Reference(testdata, model) / (model + (pure ? "-pure-" : "-mix-") + type + ".gguf");
    if (std::filesystem::exists(reference)) {
      CHECK(std::filesystem::file_size(reference) == n_bytes);
      ++n_references;
    }
  }
  // synth-a has 9 mix and 15 pure reference files; stories260K 5 mix files.
  CHECK(n_references >= (model == "stories260K" ? 5 : 9));
}

TEST_CASE("report sizes are what qtk quantize writes, for every type", "[cli][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckSizesMatchQuantize(testdata, "synth-a", false);
  CheckSizesMatchQuantize(testdata, "stories260K", false);
}

TEST_CASE("report sizes with --pure match llama-quantize --pure's files",
          "[cli][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  CheckSizesMatchQuantize(testdata, "synth-a", true);
}

TEST_CASE("the JSON report validates against docs/report-schema.json", "[cli][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {},
           {"--types", "F32,Q4_K_M,nf4-dq", "--params", "7e9", "--sample", "8"},
           {"--no-quality", "--kv-types", "q8_0", "--budget", "1GB,2GiB", "--context", "32768"}}) {
    std::vector<std::string> args = {"report", ConvertF32(testdata, "synth-a"), "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = RunQtk(args);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto errors = SchemaErrors(result.out);
    INFO(nlohmann::json(errors).dump(2));
    CHECK(errors.empty());
  }
  const auto doc = nlohmann::json::parse(
      RunQtk({"report", ConvertF32(testdata, "synth-a"), "--format", "json", "--types", "F32,Q8_0"})
          .out);
  CHECK(doc["targets"][0]["quality"]["snr_db"].is_null());  // F32 from F32: exact
  CHECK(doc["targets"][0]["quality"]["n_tensors"] == 0);
  CHECK(doc["targets"][1]["quality"]["snr_db"].get<double>() > 30);
  CHECK(doc["memory"]["context"] == 2048);
  CHECK(doc["memory"]["shape"]["head_dim"] == 64);
}

TEST_CASE("the validator rejects what the schema forbids", "[report][schema]") {
  const testing::SchemaSubsetValidator validator(Schema());
  CHECK(!validator.Validate(nlohmann::json{{"schema", "qtk.report/2"}}).empty());
  nlohmann::json compare = {
      {"schema", "qtk.compare/1"},
      {"a", {{"path", "a"}, {"description", "d"}, {"file_bytes", 1}, {"tensor_bytes", 1}}},
      {"b", {{"path", "b"}, {"description", "d"}, {"file_bytes", 1}, {"tensor_bytes", 1}}},
      {"total",
       {{"n_elements", 1}, {"rmse", 0}, {"snr_db", nullptr}, {"cosine", 1}, {"max_abs_error", 0}}},
      {"only_in_a", nlohmann::json::array()},
      {"only_in_b", nlohmann::json::array()},
      {"tensors", nlohmann::json::array()}};
  CHECK(validator.Validate(compare).empty());
  compare["total"]["rmse"] = -1;
  CHECK(!validator.Validate(compare).empty());
  compare["total"]["rmse"] = 0;
  compare["extra"] = 1;
  CHECK(!validator.Validate(compare).empty());
  compare.erase("extra");
  compare.erase("tensors");
  CHECK(!validator.Validate(compare).empty());
}

TEST_CASE("a model without a known shape reports memory as unavailable", "[cli][report]") {
  testing::TempDir tmp;
  testing::Bytes file;
  file.Raw("GGUF").Put<uint32_t>(3).Put<int64_t>(1).Put<int64_t>(0);
  file.GgufString("w.weight").Put<uint32_t>(2).Put<int64_t>(32).Put<int64_t>(2);
  file.Put<uint32_t>(0).Put<uint64_t>(0).PadTo(32);
  for (int i = 0; i < 64; ++i) file.Put<float>(static_cast<float>(i % 7) - 3.0f);
  testing::WriteFileBytes(tmp / "tiny.gguf", file.bytes());
  const auto result =
      RunQtk({"report", (tmp / "tiny.gguf").string(), "--format", "json", "--types", "Q8_0"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(SchemaErrors(result.out).empty());
  const auto doc = nlohmann::json::parse(result.out);
  CHECK(doc["memory"]["available"] == false);
  CHECK(doc["memory"]["unavailable"] == "the model has no block_count (give --layers)");
  const auto gated = RunQtk(
      {"report", (tmp / "tiny.gguf").string(), "--types", "Q8_0", "--must-fit", "1GB", "-q"});
  CHECK(gated.exit_code == 3);
  CHECK(gated.err ==
        "qtk: gate failed: Q8_0: the deployment memory is unknown, so --must-fit cannot pass\n");
}

// A tiny XML well-formedness check: tags nest and close, attributes are quoted, entities are
// the predefined ones. Returns an empty string or what is wrong.
std::string XmlProblem(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
  const std::regex entity("&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);");
  while (i < xml.size()) {
    const size_t lt = xml.find('<', i);
    const std::string text = xml.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    for (size_t amp = text.find('&'); amp != std::string::npos; amp = text.find('&', amp + 1)) {
      if (!std::regex_search(text.substr(amp), entity, std::regex_constants::match_continuous)) {
        return "bad entity near " + text.substr(amp, 10);
      }
    }
    if (lt == std::string::npos) break;
    const size_t gt = xml.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    std::string tag = xml.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1))
        return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    if (self_closing) tag.pop_back();
    static const std::regex kTag(
        R"(^([A-Za-z_][\w:.-]*)(\s+[A-Za-z_][\w:.-]*\s*=\s*("[^"<]*"|'[^'<]*'))*\s*$)");
    std::smatch match;
    if (!std::regex_match(tag, match, kTag)) return "malformed tag <" + tag + ">";
    if (!self_closing) open.push_back(match[1]);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST_CASE("the xml check catches broken documents", "[report][svg]") {
  CHECK(XmlProblem("<svg a=\"1\"><g><rect/></g></svg>").empty());
  CHECK(!XmlProblem("<svg><g></svg>").empty());
  CHECK(!XmlProblem("<svg a=1></svg>").empty());
  CHECK(!XmlProblem("<svg><text>a & b</text></svg>").empty());
  CHECK(XmlProblem("<svg><text>a &amp; b</text></svg>").empty());
}

TEST_CASE("report --plot writes a well-formed SVG with one bar per type",
          "[cli][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string svg = (tmp / "fig.svg").string();
  const auto result = RunQtk({"report", ConvertF32(testdata, "synth-a"), "--types",
                              "F16,Q8_0,Q4_K_M,int4-g128,nf4", "--params", "7B", "--plot", svg});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const std::string text = testing::ReadFileText(svg);
  CHECK(XmlProblem(text).empty());
  CHECK(text.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(Count(text, "<rect class=\"bar\"") == 5);
  CHECK(Count(text, "<circle class=\"point\"") == 5);
  CHECK(text.find(">14.0 GB</text>") != std::string::npos);  // F16 of 7B parameters
  CHECK(text.find("<script") == std::string::npos);
  CHECK(text.find("href") == std::string::npos);  // self-contained
}

TEST_CASE("the text report fits in 100 columns and states what it assumed",
          "[cli][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const auto result = RunQtk({"report", ConvertF32(testdata, "stories260K"), "--sample", "4"});
  REQUIRE(result.exit_code == 0);
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK(line.size() <= 100);
  }
  CHECK(result.out.find("sampled: 4 evenly spaced rows of each tensor (--sample)") !=
        std::string::npos);
  CHECK(result.out.find("overhead = 512.00 MiB + 5% of (weights + KV cache)") != std::string::npos);
  CHECK(result.out.find("F16 2, Q8_0 34/32, Q4_0 18/32") != std::string::npos);
  CHECK(result.out.find("   32,768  ") != std::string::npos);  // the KV cache by context
  const auto markdown = RunQtk({"report", ConvertF32(testdata, "stories260K"), "--no-quality",
                                "--format", "markdown", "--types", "Q8_0"});
  CHECK(markdown.out.find("| type | file bytes |") != std::string::npos);
  const auto csv = RunQtk({"report", ConvertF32(testdata, "stories260K"), "--no-quality",
                           "--format", "csv", "--table", "memory", "--types", "Q8_0"});
  CHECK(csv.out.rfind("type,kv_type,context,batch,weights_bytes,kv_bytes,overhead_bytes,"
                      "total_bytes,kv_share,fits_8GB,fits_16GB,fits_24GB,fits_80GB\n",
                      0) == 0);
  CHECK(Count(csv.out, "\n") == 4);  // header + one row per cache type
}

TEST_CASE("report gates exit 3 with one line per breach", "[cli][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const std::string model = ConvertF32(testdata, "synth-a");
  auto result = RunQtk({"report", model, "--types", "Q8_0,Q4_0", "--format", "json", "--max-size",
                        "1.5MB", "--min-snr", "20"});
  CHECK(result.exit_code == 3);
  CHECK(result.err ==
        "qtk: gate failed: Q8_0: size 1,828,192 bytes (1.83 MB) is above --max-size 1.5MB "
        "(1,500,000 bytes)\n"
        "qtk: gate failed: Q4_0: snr 17.49 dB is below --min-snr 20\n");
  CHECK(nlohmann::json::parse(result.out)["gate_breaches"].size() == 2);
  result = RunQtk({"report", model, "--types", "Q8_0", "--must-fit", "24GB", "--max-rmse", "0.01",
                   "--min-snr", "20", "--max-size", "4GB"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  // 7B parameters in Q4_K_M (4.3 GB) with a Llama-2-7B shape at context 32768: the F16
  // cache (16 GiB) is most of the memory and breaks a 16GB budget.
  result = RunQtk({"report", model, "--types", "Q4_K_M", "--no-quality", "--params", "7e9",
                   "--context", "32768", "--layers", "32", "--kv-heads", "32", "--head-dim", "128",
                   "--must-fit", "16GB"});
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("qtk: gate failed: Q4_K_M: needs ") == 0);
  CHECK(result.out.find("the KV cache is larger than the weights") != std::string::npos);
  result = RunQtk({"report", model, "--min-snr", "x"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "qtk: error: --min-snr: 'x' is not a number\n");
  result = RunQtk({"report", model, "--no-quality", "--min-snr", "20"});
  CHECK(result.exit_code == 2);
}

TEST_CASE("quantize gates: size before writing, error on the written file",
          "[cli][quantize][report][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string model = ConvertF32(testdata, "synth-a");
  const std::string out = (tmp / "q4.gguf").string();
  auto result = RunQtk({"quantize", "-q", model, out, "Q4_0", "--max-size", "1MB"});
  CHECK(result.exit_code == 3);
  CHECK(result.err ==
        "qtk: gate failed: Q4_0: size 1,010,016 bytes (1.01 MB) is above "
        "--max-size 1MB (1,000,000 bytes)\n");
  CHECK(!std::filesystem::exists(out));  // a size breach writes nothing
  result = RunQtk({"quantize", "-q", model, out, "Q4_0", "--min-snr", "20", "--max-size", "2MB"});
  CHECK(result.exit_code == 3);
  CHECK(result.err == "qtk: gate failed: Q4_0: snr 17.49 dB is below --min-snr 20\n");
  CHECK(std::filesystem::exists(out));  // kept for inspection
  result = RunQtk({"quantize", "-q", "-f", model, out, "Q4_0", "--min-snr", "17", "--max-rmse",
                   "0.02", "--must-fit", "1GB"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  result = RunQtk({"quantize", "--dry-run", "-q", model, (tmp / "dry.gguf").string(), "Q4_0",
                   "--min-snr", "20"});
  CHECK(result.exit_code == 3);
  CHECK(result.err == "qtk: gate failed: Q4_0: snr 17.49 dB is below --min-snr 20\n");
  CHECK(!std::filesystem::exists(tmp / "dry.gguf"));
}

TEST_CASE("compare: a file against itself, and pure Q4_0 against its source",
          "[cli][compare][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  const std::string f32 = ConvertF32(testdata, "synth-a");
  auto result = RunQtk({"compare", f32, f32, "--format", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(SchemaErrors(result.out).empty());
  auto doc = nlohmann::json::parse(result.out);
  CHECK(doc["total"]["rmse"] == 0.0);
  CHECK(doc["total"]["snr_db"].is_null());
  CHECK(doc["tensors"].size() == 20);

  const std::string q4 = (Reference(testdata, "synth-a") / "synth-a-pure-Q4_0.gguf").string();
  result = RunQtk({"compare", f32, q4, "--format", "json"});
  REQUIRE(result.exit_code == 0);
  CHECK(SchemaErrors(result.out).empty());
  doc = nlohmann::json::parse(result.out);
  const double snr = doc["total"]["snr_db"].get<double>();
  CHECK(snr > 15);  // 4-bit with 32-element blocks: about 6 dB per bit, less the outliers
  CHECK(snr < 22);
  CHECK(doc["b"]["file_bytes"] == 976224);
  // Worst first: the F32 norms (exact) come last.
  CHECK(doc["tensors"][0]["type_b"] == "Q4_0");
  CHECK(doc["tensors"][19]["snr_db"].is_null());
  for (size_t i = 1; i < 15; ++i) {
    CHECK(doc["tensors"][i - 1]["snr_db"].get<double>() <=
          doc["tensors"][i]["snr_db"].get<double>());
  }
  result = RunQtk({"compare", f32, q4});
  CHECK(result.out.find("Per tensor, worst first") != std::string::npos);
  result = RunQtk({"compare", f32, q4, "--format", "csv"});
  CHECK(Count(result.out, "\n") == 21);
}

TEST_CASE("compare reads qtk's generic layouts and refuses different models",
          "[cli][compare][testdata]") {
  QTK_REQUIRE_TESTDATA(testdata);
  testing::TempDir tmp;
  const std::string f32 = ConvertF32(testdata, "synth-a");
  const std::string nf4 = (tmp / "nf4.gguf").string();
  REQUIRE(RunQtk({"quantize", "-q", f32, nf4, "nf4-dq"}).exit_code == 0);
  auto result = RunQtk({"compare", f32, nf4, "--format", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto doc = nlohmann::json::parse(result.out);
  CHECK(doc["tensors"].size() == 20);  // companions counted with their tensor, not listed
  CHECK(doc["tensors"][0]["type_b"] == "nf4-dq");
  CHECK(doc["only_in_b"].empty());
  // The same per-tensor error the report measures in memory.
  const auto report = nlohmann::json::parse(
      RunQtk({"report", f32, "--types", "nf4-dq", "--format", "json", "--no-quality"}).out);
  CHECK(report["targets"][0]["file_bytes"] == std::filesystem::file_size(nf4));
  result = RunQtk({"compare", f32, ConvertF32(testdata, "stories260K")});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("qtk: error: tensor 'token_embd.weight': shape [256, 512] in ") == 0);
}

}  // namespace
}  // namespace qtk
