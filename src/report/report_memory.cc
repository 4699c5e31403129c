// Deployment memory: weights + KV cache + runtime overhead, against memory budgets.
#include <algorithm>
#include <cmath>
#include <set>

#include "qtk/report/report.h"

namespace qtk {
namespace {

constexpr int64_t kDefaultContext = 4096;
// The contexts the KV-cache table always shows besides the chosen one.
constexpr int64_t kSweepContexts[] = {4096, 32768, 131072};

const GgufValue* Find(const std::vector<GgufKeyValue>& metadata, std::string_view key) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

std::string Architecture(const std::vector<GgufKeyValue>& metadata) {
  const GgufValue* value = Find(metadata, "general.architecture");
  return value != nullptr && value->AsString() ? *value->AsString() : "";
}

// A positive integer value; for a per-layer array (some architectures vary head counts by
// layer) the largest element, which sizes the cache conservatively.
std::optional<int64_t> PositiveInt(const std::vector<GgufKeyValue>& metadata,
                                   const std::string& key) {
  const GgufValue* value = Find(metadata, key);
  if (value == nullptr) return std::nullopt;
  std::optional<int64_t> result;
  if (!value->is_array()) {
    result = value->AsInt();
  } else if (value->element_type() == GgufValueType::kUint32 ||
             value->element_type() == GgufValueType::kInt32) {
    for (size_t i = 0; i < value->array_size(); ++i) {
      const int64_t element = value->element_type() == GgufValueType::kUint32
                                  ? value->Element<uint32_t>(i)
                                  : value->Element<int32_t>(i);
      result = std::max(result.value_or(0), element);
    }
  }
  if (result && *result > 0) return result;
  return std::nullopt;
}

bool MultiplyInto(uint64_t* total, uint64_t factor) {
  return !__builtin_mul_overflow(*total, factor, total);
}

}  // namespace

std::optional<int64_t> ModelContextLength(const std::vector<GgufKeyValue>& metadata) {
  return PositiveInt(metadata, Architecture(metadata) + ".context_length");
}

Result<KvShape> ResolveKvShape(const std::vector<GgufKeyValue>& metadata,
                               const KvShapeOverride& override, std::string* source) {
  const std::string arch = Architecture(metadata);
  const std::optional<int64_t> n_head = PositiveInt(metadata, arch + ".attention.head_count");
  std::optional<int64_t> n_layers = PositiveInt(metadata, arch + ".block_count");
  std::optional<int64_t> n_kv_heads = PositiveInt(metadata, arch + ".attention.head_count_kv");
  if (!n_kv_heads) n_kv_heads = n_head;
  std::optional<int64_t> head_dim = PositiveInt(metadata, arch + ".attention.key_length");
  const std::optional<int64_t> n_embd = PositiveInt(metadata, arch + ".embedding_length");
  if (!head_dim && n_embd && n_head) head_dim = *n_embd / *n_head;
  std::vector<std::string> given;
  if (override.n_layers) given.push_back("--layers");
  if (override.n_kv_heads) given.push_back("--kv-heads");
  if (override.head_dim) given.push_back("--head-dim");
  n_layers = override.n_layers ? override.n_layers : n_layers;
  n_kv_heads = override.n_kv_heads ? override.n_kv_heads : n_kv_heads;
  head_dim = override.head_dim ? override.head_dim : head_dim;
  const std::string where = arch.empty() ? "the model" : "the " + arch + " metadata";
  if (!n_layers) return Status::NotFound(where + " has no block_count (give --layers)");
  if (!n_kv_heads)
    return Status::NotFound(where + " has no attention head count (give --kv-heads)");
  if (!head_dim || *head_dim <= 0) {
    return Status::NotFound(where + " gives no head dimension (give --head-dim)");
  }
  std::string text = given.size() == 3 ? "" : "model metadata";
  for (const std::string& flag : given) text += (text.empty() ? "" : ", ") + flag;
  if (source != nullptr) *source = text;
  return KvShape{*n_layers, *n_kv_heads, *head_dim};
}

Result<uint64_t> KvCacheBytes(const KvShape& shape, GgmlType cache_type, int64_t context,
                              int64_t batch) {
  if (shape.n_layers <= 0 || shape.n_kv_heads <= 0 || shape.head_dim <= 0 || context <= 0 ||
      batch <= 0) {
    return Status::InvalidArgument(
        "kv cache: layers, kv heads, head dim, context and batch "
        "must all be positive");
  }
  uint64_t row_elements = static_cast<uint64_t>(shape.n_kv_heads);
  if (!MultiplyInto(&row_elements, static_cast<uint64_t>(shape.head_dim)) ||
      row_elements > static_cast<uint64_t>(INT64_MAX)) {
    return Status::InvalidArgument("kv cache: kv_heads × head_dim overflows");
  }
  const int64_t block = GgmlBlockSize(cache_type);
  if (row_elements % static_cast<uint64_t>(block) != 0) {
    return Status::InvalidArgument("kv cache type " + std::string(GgmlTypeName(cache_type)) +
                                   ": kv_heads × head_dim is " + std::to_string(row_elements) +
                                   ", not a multiple of its block size " + std::to_string(block));
  }
  uint64_t total = GgmlRowBytes(cache_type, static_cast<int64_t>(row_elements));
  if (!MultiplyInto(&total, 2) || !MultiplyInto(&total, static_cast<uint64_t>(shape.n_layers)) ||
      !MultiplyInto(&total, static_cast<uint64_t>(context)) ||
      !MultiplyInto(&total, static_cast<uint64_t>(batch))) {
    return Status::InvalidArgument("kv cache: the size overflows 64 bits");
  }
  return total;
}

uint64_t OverheadBytes(const RuntimeOverhead& overhead, uint64_t weights_bytes, uint64_t kv_bytes) {
  const double scaled =
      overhead.fraction * (static_cast<double>(weights_bytes) + static_cast<double>(kv_bytes));
  return overhead.fixed_bytes + static_cast<uint64_t>(std::llround(std::max(0.0, scaled)));
}

double MemoryRow::kv_share() const {
  const uint64_t total = total_bytes();
  return total == 0 ? 0 : static_cast<double>(kv_bytes) / static_cast<double>(total);
}

Result<MemoryReport> ReportMemory(const std::vector<GgufKeyValue>& metadata,
                                  const std::vector<std::pair<std::string, uint64_t>>& weights,
                                  const MemoryOptions& options) {
  MemoryReport report;
  report.options = options;
  Result<KvShape> shape = ResolveKvShape(metadata, options.shape_override, &report.shape_source);
  if (!shape.ok()) {
    report.unavailable = shape.status().message();
    return report;
  }
  report.shape = *shape;
  const std::optional<int64_t> model_context = ModelContextLength(metadata);
  report.context = options.context > 0 ? options.context : model_context.value_or(kDefaultContext);
  report.context_source = options.context > 0 ? "--context"
                          : model_context     ? "the model's context_length"
                                              : "default";
  std::vector<uint64_t> kv_bytes;
  for (GgmlType type : options.kv_types) {
    QTK_ASSIGN_OR_RETURN(uint64_t n,
                         KvCacheBytes(report.shape, type, report.context, options.batch));
    kv_bytes.push_back(n);
  }
  for (const auto& [target, weights_bytes] : weights) {
    for (size_t k = 0; k < options.kv_types.size(); ++k) {
      MemoryRow row;
      row.target = target;
      row.kv_type = options.kv_types[k];
      row.weights_bytes = weights_bytes;
      row.kv_bytes = kv_bytes[k];
      row.overhead_bytes = OverheadBytes(options.overhead, weights_bytes, kv_bytes[k]);
      for (const MemoryBudget& budget : options.budgets) {
        row.fits.push_back(row.total_bytes() <= budget.n_bytes);
      }
      report.rows.push_back(std::move(row));
    }
  }
  std::set<int64_t> contexts(std::begin(kSweepContexts), std::end(kSweepContexts));
  contexts.insert(report.context);
  for (int64_t context : contexts) {
    KvAtContext at{context, {}};
    for (GgmlType type : options.kv_types) {
      QTK_ASSIGN_OR_RETURN(uint64_t n, KvCacheBytes(report.shape, type, context, options.batch));
      at.n_bytes.push_back(n);
    }
    report.kv_by_context.push_back(std::move(at));
  }
  return report;
}

}  // namespace qtk
