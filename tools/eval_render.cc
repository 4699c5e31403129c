#include "eval_render.h"

#include <cstdarg>
#include <cstdio>
#include <filesystem>

#include "json_fields.h"

namespace qtk::cli {
namespace {

const char* KvTypeName(KvCacheType type) {
  switch (type) {
    case KvCacheType::kQ8_0:
      return "Q8_0";
    case KvCacheType::kQ4_0:
      return "Q4_0";
    case KvCacheType::kF16:
      break;
  }
  return "F16";
}

std::string Printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  return buffer;
}

std::string FileName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

std::string FormatEvalText(const EvalResult& result) {
  std::string out = Printf(
      "%lld chunks of %lld tokens, %lld scored per model%s; %s\n\n",
      static_cast<long long>(result.n_chunks), static_cast<long long>(result.n_ctx),
      static_cast<long long>(result.n_scored),
      result.bos_replaced ? " (each chunk starts with BOS)" : "",
      result.ggml_arithmetic ? "activations as ggml's CPU backend rounds them" : "F32 activations");
  if (result.kv_type != KvCacheType::kF16) {
    out.insert(out.size() - 2,
               std::string("; K/V of the evaluated models in ") + KvTypeName(result.kv_type));
  }
  out += Printf("%-36s %-12s %20s %22s %10s %16s %9s\n", "model", "type", "PPL", "mean KLD",
                "99% KLD", "same top p", "RMS dp");
  for (const EvalModelResult& model : result.results) {
    const std::string ppl =
        Printf("%.4f +/- %.5f", model.perplexity.perplexity, model.perplexity.perplexity_error);
    out +=
        Printf("%-36s %-12s %20s", FileName(model.path).c_str(), model.type.c_str(), ppl.c_str());
    if (model.kld) {
      const KldStats& k = *model.kld;
      out += Printf(" %22s %10.6f %16s %8.3f%%\n",
                    Printf("%.6f +/- %.6f", k.mean, k.mean_error).c_str(), k.p99,
                    Printf("%.3f +/- %.3f%%", 100 * k.same_top_p, 100 * k.same_top_p_error).c_str(),
                    100 * k.rms_dp);
    } else {
      out += model.is_base ? "   (base)\n" : "\n";
    }
  }
  for (const EvalModelResult& model : result.results) {
    if (!model.kld) continue;
    const KldStats& k = *model.kld;
    out += "\n" + FileName(model.path) + " against the base:\n";
    out += Printf(
        "  KLD: mean %.6f +/- %.6f, median %.6f, 90%% %.6f, 95%% %.6f, 99%% %.6f, "
        "99.9%% %.6f, max %.6f\n",
        k.mean, k.mean_error, k.median, k.p90, k.p95, k.p99, k.p99_9, k.max);
    out += Printf(
        "  same top p %.3f +/- %.3f %%, mean dp %.3f +/- %.3f %%, RMS dp %.3f +/- "
        "%.3f %%\n",
        100 * k.same_top_p, 100 * k.same_top_p_error, 100 * k.mean_dp, 100 * k.mean_dp_error,
        100 * k.rms_dp, 100 * k.rms_dp_error);
    out += Printf(
        "  PPL ratio %.6f; mean ln(PPL(Q)/PPL(base)) %.6f +/- %.6f against the "
        "16-bit base (PPL %.6f)\n",
        k.ppl_ratio, k.ln_ppl_ratio, k.ln_ppl_ratio_error, k.ppl_base_16bit);
  }
  return out;
}

std::string FormatEvalJson(const EvalResult& result) {
  Json doc;
  doc["schema"] = "qtk.eval/1";
  doc["n_ctx"] = result.n_ctx;
  doc["n_chunks"] = result.n_chunks;
  doc["n_tokens"] = result.n_tokens;
  doc["n_scored"] = result.n_scored;
  doc["bos_replaced"] = result.bos_replaced;
  doc["activations"] = result.ggml_arithmetic ? "ggml" : "f32";
  doc["kv_type"] = KvTypeName(result.kv_type);
  Json results = Json::array();
  for (const EvalModelResult& model : result.results) {
    Json entry;
    entry["path"] = model.path;
    entry["type"] = model.type;
    entry["is_base"] = model.is_base;
    entry["perplexity"] = FiniteJson(model.perplexity.perplexity);
    entry["perplexity_error"] = FiniteJson(model.perplexity.perplexity_error);
    if (model.kld) {
      const KldStats& k = *model.kld;
      entry["kld_mean"] = FiniteJson(k.mean);
      entry["kld_mean_error"] = FiniteJson(k.mean_error);
      entry["kld_median"] = FiniteJson(k.median);
      entry["kld_p90"] = FiniteJson(k.p90);
      entry["kld_p95"] = FiniteJson(k.p95);
      entry["kld_p99"] = FiniteJson(k.p99);
      entry["kld_p99_9"] = FiniteJson(k.p99_9);
      entry["kld_max"] = FiniteJson(k.max);
      entry["same_top_p"] = FiniteJson(k.same_top_p);
      entry["same_top_p_error"] = FiniteJson(k.same_top_p_error);
      entry["mean_dp"] = FiniteJson(k.mean_dp);
      entry["mean_dp_error"] = FiniteJson(k.mean_dp_error);
      entry["rms_dp"] = FiniteJson(k.rms_dp);
      entry["rms_dp_error"] = FiniteJson(k.rms_dp_error);
      entry["ppl_ratio"] = FiniteJson(k.ppl_ratio);
      entry["ln_ppl_ratio"] = FiniteJson(k.ln_ppl_ratio);
      entry["ln_ppl_ratio_error"] = FiniteJson(k.ln_ppl_ratio_error);
      entry["ppl_base_16bit"] = FiniteJson(k.ppl_base_16bit);
    }
    results.push_back(std::move(entry));
  }
  doc["results"] = std::move(results);
  return doc.dump(2) + "\n";
}

}  // namespace qtk::cli
