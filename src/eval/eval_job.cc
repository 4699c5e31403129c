// RunEvalJob: every model over the same chunks, a batch of chunks at a time, the base's
// log-probabilities kept (16-bit, as llama-perplexity's base file) only for the batch.
#include "qtk/eval/eval_job.h"

#include <algorithm>
#include <memory>

#include "base/parallel.h"
#include "eval/eval_stats.h"
#include "eval/eval_tokens.h"
#include "eval/forward.h"
#include "qtk/model/model_input.h"

namespace qtk {
namespace {

// What the batch's hidden states and base log-probabilities may take.
constexpr int64_t kBatchBudgetBytes = int64_t{512} << 20;

Status CheckJob(const EvalJob& job) {
  if (job.models.empty()) return Status::InvalidArgument("no model to evaluate");
  if (job.text_file.empty() == job.tokens_file.empty()) {
    return Status::InvalidArgument("give either a text file or a token file");
  }
  if (job.n_ctx < 4) {
    return Status::InvalidArgument("context " + std::to_string(job.n_ctx) +
                                   " is too small: at least 4 tokens, half of them scored");
  }
  return Status::Ok();
}

Result<std::vector<std::unique_ptr<ForwardModel>>> OpenModels(const EvalJob& job) {
  std::vector<std::string> paths;
  if (job.base) paths.push_back(*job.base);
  paths.insert(paths.end(), job.models.begin(), job.models.end());
  std::vector<std::unique_ptr<ForwardModel>> models;
  for (const std::string& path : paths) {
    QTK_ASSIGN_OR_RETURN(std::unique_ptr<ModelInput> input, OpenModelInput(path));
    ForwardOptions options;
    options.ggml_arithmetic = job.ggml_arithmetic;
    // The base is the reference: llama.cpp's default F16 cache.
    if (!(job.base && models.empty())) options.kv_type = job.kv_type;
    QTK_ASSIGN_OR_RETURN(std::unique_ptr<ForwardModel> model,
                         ForwardModel::Open(std::move(input), options));
    if (!models.empty() && model->n_vocab() != models.front()->n_vocab()) {
      return Status::InvalidArgument(path + ": vocabulary of " + std::to_string(model->n_vocab()) +
                                     " ids, but " + models.front()->path() + " has " +
                                     std::to_string(models.front()->n_vocab()) +
                                     ": not the same model");
    }
    models.push_back(std::move(model));
  }
  return models;
}

// Chunks per batch: enough for every thread, as many as the budget holds.
int64_t BatchSize(const std::vector<std::unique_ptr<ForwardModel>>& models, int64_t n_ctx,
                  int64_t n_chunks, int n_threads) {
  int64_t per_chunk = 0;
  for (const auto& model : models) {
    per_chunk = std::max(per_chunk, n_ctx * model->config().n_embd * 4);
  }
  per_chunk += (n_ctx / 2) * models.front()->n_vocab() * 2;  // the base's 16-bit log-probs
  const int64_t fits = std::max<int64_t>(1, kBatchBudgetBytes / per_chunk);
  return std::clamp<int64_t>(fits, std::min<int64_t>(ResolveThreadCount(n_threads), n_chunks),
                             n_chunks);
}

// One model's contribution for one chunk of a batch.
struct ChunkScores {
  std::vector<double> nll;
  std::vector<KldPosition> kld;
};

}  // namespace

Result<EvalResult> RunEvalJob(const EvalJob& job) {
  QTK_RETURN_IF_ERROR(CheckJob(job));
  QTK_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<ForwardModel>> models, OpenModels(job));
  std::vector<int32_t> tokens;
  if (!job.tokens_file.empty()) {
    QTK_ASSIGN_OR_RETURN(tokens, ReadTokenFile(job.tokens_file));
  } else {
    QTK_ASSIGN_OR_RETURN(tokens, TokenizeTextFile(job.models.front(), job.text_file));
  }
  const std::string& source = job.tokens_file.empty() ? job.text_file : job.tokens_file;
  const int64_t n_vocab = models.front()->n_vocab();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= n_vocab) {
      return Status::Corruption(source + ": token " + std::to_string(i) + " is " +
                                std::to_string(tokens[i]) + ", outside the vocabulary of " +
                                models.front()->path() + " (" + std::to_string(n_vocab) + " ids)");
    }
  }
  const int64_t n_ctx = job.n_ctx;
  if (static_cast<int64_t>(tokens.size()) < 2 * n_ctx) {
    return Status::InvalidArgument(source + ": " + std::to_string(tokens.size()) +
                                   " tokens; a context of " + std::to_string(n_ctx) +
                                   " needs at least " + std::to_string(2 * n_ctx));
  }
  const EvalModelConfig& first_config = models.front()->config();
  const int32_t bos = first_config.add_bos ? first_config.bos_id : -1;
  const std::vector<std::vector<int32_t>> chunks = MakeChunks(tokens, n_ctx, job.max_chunks, bos);
  const int64_t n_chunks = static_cast<int64_t>(chunks.size());
  const int64_t first = n_ctx / 2;
  const int64_t n_scored_per_chunk = n_ctx - 1 - first;
  const bool has_base = job.base.has_value();

  std::vector<PerplexityAccumulator> perplexity(models.size());
  std::vector<KldAccumulator> kld(models.size());
  const int64_t batch_size = BatchSize(models, n_ctx, n_chunks, job.n_threads);
  EvalProgress progress{0, n_chunks * static_cast<int64_t>(models.size())};
  for (int64_t k0 = 0; k0 < n_chunks; k0 += batch_size) {
    const int64_t n_batch = std::min(batch_size, n_chunks - k0);
    const std::span<const std::vector<int32_t>> batch(chunks.data() + k0, n_batch);
    std::vector<std::vector<BaseLogProbs>> base(has_base ? n_batch : 0);
    for (size_t m = 0; m < models.size(); ++m) {
      const bool is_base = has_base && m == 0;
      std::vector<ChunkScores> scores(n_batch);
      auto on_logits = [&](size_t s, const Matrix& logits) {
        const int32_t* next = tokens.data() + (k0 + static_cast<int64_t>(s)) * n_ctx + first + 1;
        ChunkScores& out = scores[s];
        if (is_base) base[s].resize(n_scored_per_chunk);
        for (int64_t r = 0; r < n_scored_per_chunk; ++r) {
          const std::span<const float> row(logits.row(r).data(), logits.cols());
          out.nll.push_back(NegativeLogLikelihood(row, next[r]));
          if (is_base) base[s][r] = EncodeBaseLogProbs(row);
          if (has_base && !is_base) out.kld.push_back(ComparePosition(base[s][r], row, next[r]));
        }
      };
      QTK_RETURN_IF_ERROR(models[m]->Run(batch, first, job.n_threads, on_logits, job.should_stop));
      for (const ChunkScores& chunk : scores) {  // chunk order: the same sums at any thread count
        for (double nll : chunk.nll) perplexity[m].Add(nll);
        for (const KldPosition& position : chunk.kld) kld[m].Add(position);
      }
      progress.done += n_batch;
      if (job.progress) job.progress(progress);
    }
  }

  EvalResult result;
  result.n_ctx = n_ctx;
  result.n_chunks = n_chunks;
  result.n_tokens = static_cast<int64_t>(tokens.size());
  result.n_scored = n_chunks * n_scored_per_chunk;
  result.bos_replaced = bos >= 0;
  result.ggml_arithmetic = job.ggml_arithmetic;
  result.kv_type = job.kv_type;
  for (size_t m = 0; m < models.size(); ++m) {
    EvalModelResult model;
    model.path = models[m]->path();
    model.type = models[m]->type_name();
    model.is_base = has_base && m == 0;
    model.perplexity = perplexity[m].Finish();
    if (has_base && m > 0) {
      model.kld = kld[m].Finish();
      model.kld->ppl_ratio = model.perplexity.perplexity / result.results[0].perplexity.perplexity;
    }
    result.results.push_back(std::move(model));
  }
  return result;
}

}  // namespace qtk
