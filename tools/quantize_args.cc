#include "quantize_args.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>

namespace qtk::cli {
namespace {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = text.find(',', begin);
    const size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > begin) parts.push_back(text.substr(begin, end - begin));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return parts;
}

bool IsTypeList(const std::string& text) {
  const std::vector<std::string> parts = SplitList(text);
  if (parts.empty()) return false;
  for (const std::string& part : parts) {
    if (!FileTypeFromName(part) && !ParseScheme(part).ok()) return false;
  }
  return true;
}

std::optional<int> ParseInt(const std::string& text) {
  int value = 0;
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

Result<GgmlType> ParseGgmlTypeOption(const std::string& option, const std::string& text) {
  if (auto type = GgmlTypeFromName(text)) return *type;
  return Status::InvalidArgument(option + ": unknown tensor type '" + text +
                                 "' (ggml types: f32, f16, bf16, q8_0, q4_k, q6_k, ...)");
}

Status ReadTensorTypeFile(const std::string& path, std::vector<std::string>& out) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot read --tensor-type-file");
  std::string line;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    const size_t end = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(start, end - start + 1));
  }
  return Status::Ok();
}

// IN [OUT] TYPE [NTHREADS], with TYPE optional when --type is given.
struct Positionals {
  std::string input;
  std::string output;
  std::vector<std::string> types;
  int threads = 0;
};

Result<Positionals> SplitPositionals(const QuantizeArgs& args) {
  const auto& p = args.positionals;
  if (p.empty())
    return Status::InvalidArgument("missing the input model (qtk quantize IN [OUT] TYPE)");
  Positionals out;
  out.input = p[0];
  size_t next = 1;
  // With --type, the positionals are IN [OUT] [NTHREADS]: a number is a thread count.
  const bool types_given = !args.types.empty();
  auto is_type = [&](const std::string& text) {
    return !(types_given && ParseInt(text)) && IsTypeList(text);
  };
  if (next < p.size() && !is_type(p[next]) && !ParseInt(p[next])) out.output = p[next++];
  if (next < p.size() && is_type(p[next])) out.types = SplitList(p[next++]);
  if (next < p.size()) {
    auto threads = ParseInt(p[next]);
    if (!threads || *threads < 0) {
      return Status::InvalidArgument("'" + p[next] +
                                     "' is neither a quantization type nor a "
                                     "thread count (see qtk quantize --help for the types)");
    }
    out.threads = *threads;
    ++next;
  }
  if (next < p.size()) return Status::InvalidArgument("unexpected argument '" + p[next] + "'");
  return out;
}

Status ResolveOutputs(const QuantizeArgs& args, const Positionals& positionals, QuantizeJob& job) {
  std::vector<std::string> types = positionals.types;
  for (const std::string& list : args.types) {
    for (const std::string& type : SplitList(list)) types.push_back(type);
  }
  if (types.empty()) {
    return Status::InvalidArgument("missing the quantization type (e.g. Q4_K_M, Q8_0, F16)");
  }
  std::string pattern = !args.output_pattern.empty() ? args.output_pattern : positionals.output;
  if (!args.output_pattern.empty() && !positionals.output.empty()) {
    return Status::InvalidArgument("give the output either as OUT or with -o, not both");
  }
  if (types.size() > 1 && !pattern.empty() && pattern.find("{type}") == std::string::npos) {
    return Status::InvalidArgument(
        "several types need '{type}' in the output name, e.g. -o "
        "'model-{type}.gguf'");
  }
  for (const std::string& name : types) {
    QTK_ASSIGN_OR_RETURN(QuantizeTarget target, ParseQuantizeTarget(name));
    const std::string& canonical = target.name;
    std::string path = pattern.empty() ? DefaultOutputPath(positionals.input, canonical) : pattern;
    for (size_t at = path.find("{type}"); at != std::string::npos; at = path.find("{type}")) {
      path.replace(at, 6, canonical);
    }
    job.outputs.push_back({path, target.file_type, target.scheme});
  }
  return Status::Ok();
}

Result<NanPolicy> ParseNanPolicy(const std::string& text) {
  if (text == "refuse") return NanPolicy::kRefuse;
  if (text == "zero") return NanPolicy::kZero;
  if (text == "keep") return NanPolicy::kKeep;
  return Status::InvalidArgument("--nan-policy: '" + text + "' is not refuse, zero or keep");
}

Status ResolvePlanOptions(const QuantizeArgs& args, PlanOptions& plan) {
  plan.pure = args.pure;
  plan.leave_output_tensor = args.leave_output_tensor;
  if (!args.output_tensor_type.empty()) {
    QTK_ASSIGN_OR_RETURN(plan.output_tensor_type,
                         ParseGgmlTypeOption("--output-tensor-type", args.output_tensor_type));
  }
  if (!args.token_embedding_type.empty()) {
    QTK_ASSIGN_OR_RETURN(plan.token_embedding_type,
                         ParseGgmlTypeOption("--token-embedding-type", args.token_embedding_type));
  }
  std::vector<std::string> overrides = args.tensor_types;
  if (!args.tensor_type_file.empty()) {
    QTK_RETURN_IF_ERROR(ReadTensorTypeFile(args.tensor_type_file, overrides));
  }
  for (const std::string& text : overrides) {
    QTK_ASSIGN_OR_RETURN(TensorTypeOverride override, ParseTensorTypeOverride(text));
    plan.tensor_types.push_back(std::move(override));
  }
  return Status::Ok();
}

}  // namespace

Result<QuantizeTarget> ParseQuantizeTarget(const std::string& name) {
  if (const std::optional<FileType> file_type = FileTypeFromName(name)) {
    return QuantizeTarget{std::string(Info(*file_type).name), *file_type, std::nullopt};
  }
  const bool looks_like_scheme = name.rfind("int", 0) == 0 || name.rfind("nf4", 0) == 0 ||
                                 name.rfind("fp4", 0) == 0 || name.rfind("INT", 0) == 0 ||
                                 name.rfind("NF4", 0) == 0 || name.rfind("FP4", 0) == 0;
  Result<Scheme> scheme = ParseScheme(name);
  if (scheme.ok()) return QuantizeTarget{SchemeName(*scheme), FileType::kAllF32, *scheme};
  if (looks_like_scheme) return scheme.status();
  return Status::InvalidArgument("unknown quantization type '" + name +
                                 "' (llama.cpp types such as Q4_K_M, Q8_0, F16, or qtk schemes "
                                 "such as int8-channel, int4-g128, nf4; see qtk quantize --help)");
}

std::string DefaultOutputPath(const std::string& input, const std::string& type_name) {
  std::filesystem::path path(input);
  std::filesystem::path dir = std::filesystem::is_directory(path) ? path : path.parent_path();
  return (dir / ("ggml-model-" + type_name + ".gguf")).string();
}

Result<GgufKeyValue> ParseOverrideKv(const std::string& text) {
  const size_t equals = text.find('=');
  const size_t colon = equals == std::string::npos ? std::string::npos : text.find(':', equals);
  if (equals == std::string::npos || equals == 0 || colon == std::string::npos) {
    return Status::InvalidArgument("--override-kv '" + text +
                                   "': expected KEY=TYPE:VALUE, e.g. general.name=str:my-model");
  }
  const std::string key = text.substr(0, equals);
  const std::string type = text.substr(equals + 1, colon - equals - 1);
  const std::string value = text.substr(colon + 1);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--override-kv '" + text + "': " + why);
  };
  if (type == "str") return GgufKeyValue{key, GgufValue::String(value)};
  if (type == "bool") {
    if (value == "true" || value == "false")
      return GgufKeyValue{key, GgufValue::Bool(value == "true")};
    return bad("bool values are true or false");
  }
  if (type == "int") {
    int64_t v = 0;
    auto [ptr, error] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (error != std::errc() || ptr != value.data() + value.size() || v < 0 ||
        v > std::numeric_limits<uint32_t>::max()) {
      return bad(
          "int values are whole numbers from 0 to 4294967295 (stored as u32, as "
          "llama-quantize does)");
    }
    return GgufKeyValue{key, GgufValue::Uint32(static_cast<uint32_t>(v))};
  }
  if (type == "float") {
    try {
      size_t used = 0;
      const float v = std::stof(value, &used);
      if (used == value.size()) return GgufKeyValue{key, GgufValue::Float32(v)};
    } catch (const std::exception&) {
    }
    return bad("not a number");
  }
  return bad("type must be int, float, bool or str");
}

Result<QuantizeJob> InterpretQuantizeArgs(const QuantizeArgs& args) {
  QuantizeJob job;
  QTK_ASSIGN_OR_RETURN(Positionals positionals, SplitPositionals(args));
  job.input = positionals.input;
  QTK_RETURN_IF_ERROR(ResolveOutputs(args, positionals, job));
  QTK_RETURN_IF_ERROR(ResolvePlanOptions(args, job.options.plan));
  job.options.n_threads = args.threads > 0 ? args.threads : positionals.threads;
  job.options.allow_requantize = args.allow_requantize;
  job.options.keep_split = args.keep_split;
  job.options.overwrite = args.force;
  QTK_ASSIGN_OR_RETURN(job.options.nan_policy, ParseNanPolicy(args.nan_policy));
  for (const std::string& text : args.override_kv) {
    QTK_ASSIGN_OR_RETURN(GgufKeyValue kv, ParseOverrideKv(text));
    job.options.metadata_overrides.push_back(std::move(kv));
  }
  job.imatrix_path = args.imatrix;
  if (!args.vocab_pre.empty()) job.input_options.vocab_pre = args.vocab_pre;
  job.imatrix_include = args.include_weights;
  job.imatrix_exclude = args.exclude_weights;
  job.dry_run = args.dry_run;
  if ((!args.include_weights.empty() || !args.exclude_weights.empty()) && args.imatrix.empty()) {
    return Status::InvalidArgument("--include-weights and --exclude-weights need --imatrix");
  }
  if (!args.include_weights.empty() && !args.exclude_weights.empty()) {
    return Status::InvalidArgument("use --include-weights or --exclude-weights, not both");
  }
  return job;
}

}  // namespace qtk::cli
