#include "gate_args.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "qtk/base/units.h"

namespace qtk::cli {
namespace {

Result<double> ParseNumber(const std::string& option, const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(option + ": '" + text + "' is not a number");
}

Result<GgmlType> ParseKvType(const std::string& text) {
  const std::optional<GgmlType> type = GgmlTypeFromName(text);
  if (type &&
      (*type == GgmlType::kF32 || *type == GgmlType::kF16 || *type == GgmlType::kBF16 ||
       *type == GgmlType::kQ8_0 || *type == GgmlType::kQ4_0 || *type == GgmlType::kQ4_1 ||
       *type == GgmlType::kQ5_0 || *type == GgmlType::kQ5_1 || *type == GgmlType::kIQ4_NL)) {
    return *type;
  }
  return Status::InvalidArgument("--kv-types: '" + text +
                                 "' is not a kv cache type llama.cpp offers (f32, f16, bf16, "
                                 "q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl)");
}

Status Positive(const std::string& option, int64_t value, bool zero_allowed) {
  if (value > 0 || (zero_allowed && value == 0)) return Status::Ok();
  return Status::InvalidArgument(option + ": " + std::to_string(value) + " must be positive");
}

}  // namespace

std::vector<std::string> SplitCommaList(const std::vector<std::string>& lists) {
  std::vector<std::string> parts;
  for (const std::string& list : lists) {
    size_t begin = 0;
    while (begin <= list.size()) {
      const size_t comma = list.find(',', begin);
      const size_t end = comma == std::string::npos ? list.size() : comma;
      if (end > begin) parts.push_back(list.substr(begin, end - begin));
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
  }
  return parts;
}

void AddGateOptions(CLI::App& command, GateArgs& args) {
  command.add_option("--max-size", args.max_size,
                     "Gate: fail (exit 3) if an output is larger, e.g. 4GB or 3.5GiB");
  command.add_option("--min-snr", args.min_snr, "Gate: fail if the weight SNR (dB) is lower");
  command.add_option("--max-rmse", args.max_rmse, "Gate: fail if the weight RMSE is higher");
  command.add_option("--must-fit", args.must_fit,
                     "Gate: fail if weights + KV cache + overhead exceed this, e.g. 24GB");
}

void AddDeploymentOptions(CLI::App& command, DeploymentArgs& args, bool with_budgets) {
  command.add_option("--context", args.context,
                     "Context length for the KV cache (default: the model's)");
  command.add_option("--batch", args.batch, "Sequences served at once (default: 1)");
  command
      .add_option("--kv-types", args.kv_types,
                  "KV cache types, comma-separated (default: F16,Q8_0,Q4_0; the first one is "
                  "used by --must-fit)")
      ->allow_extra_args(false);
  if (with_budgets) {
    command
        .add_option("--budget", args.budgets,
                    "Memory budgets to check, comma-separated (default: 8GB,16GB,24GB,80GB)")
        ->allow_extra_args(false);
  }
  command.add_option("--overhead", args.overhead, "Fixed runtime overhead (default: 512MiB)");
  command.add_option("--overhead-percent", args.overhead_percent,
                     "Runtime overhead as a percentage of weights + KV cache (default: 5)");
  command.add_option("--layers", args.layers, "Layers, for the KV cache (default: the model's)");
  command.add_option("--kv-heads", args.kv_heads, "KV heads (default: the model's)");
  command.add_option("--head-dim", args.head_dim, "Head dimension (default: the model's)");
}

Result<Gates> InterpretGates(const GateArgs& args) {
  Gates gates;
  if (!args.max_size.empty()) {
    Result<uint64_t> n = ParseByteSize(args.max_size);
    if (!n.ok()) return n.status().WithPrefix("--max-size");
    gates.max_size_bytes = *n;
    gates.max_size_text = args.max_size;
  }
  if (!args.must_fit.empty()) {
    Result<uint64_t> n = ParseByteSize(args.must_fit);
    if (!n.ok()) return n.status().WithPrefix("--must-fit");
    gates.must_fit_bytes = *n;
    gates.must_fit_text = args.must_fit;
  }
  if (!args.min_snr.empty()) {
    QTK_ASSIGN_OR_RETURN(gates.min_snr_db, ParseNumber("--min-snr", args.min_snr));
  }
  if (!args.max_rmse.empty()) {
    QTK_ASSIGN_OR_RETURN(gates.max_rmse, ParseNumber("--max-rmse", args.max_rmse));
  }
  return gates;
}

Result<MemoryOptions> InterpretDeployment(const DeploymentArgs& args) {
  MemoryOptions options;
  QTK_RETURN_IF_ERROR(Positive("--context", args.context, true));
  QTK_RETURN_IF_ERROR(Positive("--batch", args.batch, false));
  QTK_RETURN_IF_ERROR(Positive("--layers", args.layers, true));
  QTK_RETURN_IF_ERROR(Positive("--kv-heads", args.kv_heads, true));
  QTK_RETURN_IF_ERROR(Positive("--head-dim", args.head_dim, true));
  options.context = args.context;
  options.batch = args.batch;
  if (args.layers > 0) options.shape_override.n_layers = args.layers;
  if (args.kv_heads > 0) options.shape_override.n_kv_heads = args.kv_heads;
  if (args.head_dim > 0) options.shape_override.head_dim = args.head_dim;
  const std::vector<std::string> kv_types = SplitCommaList(args.kv_types);
  if (!kv_types.empty()) {
    options.kv_types.clear();
    for (const std::string& text : kv_types) {
      QTK_ASSIGN_OR_RETURN(GgmlType type, ParseKvType(text));
      options.kv_types.push_back(type);
    }
  }
  const std::vector<std::string> budgets = SplitCommaList(args.budgets);
  if (!budgets.empty()) {
    options.budgets.clear();
    for (const std::string& text : budgets) {
      Result<uint64_t> n = ParseByteSize(text);
      if (!n.ok()) return n.status().WithPrefix("--budget");
      options.budgets.push_back({text, *n});
    }
  }
  Result<uint64_t> fixed = ParseByteSize(args.overhead);
  if (!fixed.ok()) return fixed.status().WithPrefix("--overhead");
  options.overhead.fixed_bytes = *fixed;
  if (!(args.overhead_percent >= 0 && args.overhead_percent <= 1000)) {
    return Status::InvalidArgument("--overhead-percent: must be between 0 and 1000");
  }
  options.overhead.fraction = args.overhead_percent / 100.0;
  return options;
}

int ReportBreaches(const std::vector<std::string>& breaches) {
  for (const std::string& line : breaches)
    std::fprintf(stderr, "qtk: gate failed: %s\n", line.c_str());
  return breaches.empty() ? kExitOk : kExitGateFailed;
}

}  // namespace qtk::cli
