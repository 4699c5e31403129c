// The reference forward pass on a tiny handcrafted model, against a scalar implementation
// of the same formulas written out loop by loop; the causal mask; the same bits at any
// thread count.
#include "eval/forward.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "qtk/format/gguf_writer.h"
#include "qtk/model/model_input.h"

namespace qtk {
namespace {

// A 1-layer model: 8 wide, 2 query heads of 4 sharing one K/V head, ffn 6, vocabulary 11.
struct TinyModel {
  std::string architecture = "llama";
  int64_t n_embd = 8, n_head = 2, n_head_kv = 1, head_dim = 4, n_ff = 6, n_vocab = 11;
  int64_t n_expert = 0, n_expert_used = 0;  // qwen3moe: 3 experts of ffn 6, 2 per token
  float eps = 1e-5f, freq_base = 100.0f;
  std::vector<std::pair<std::string, std::vector<float>>> tensors;  // name, values
  std::vector<std::vector<int64_t>> shapes;

  const std::vector<float>& Get(const std::string& name) const {
    for (const auto& [n, values] : tensors) {
      if (n == name) return values;
    }
    FAIL("no tensor " << name);
    return tensors.front().second;
  }
};

float Pseudo(uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
}

TinyModel MakeTinyModel(const std::string& architecture) {
  TinyModel m;
  m.architecture = architecture;
  uint32_t state = 12345;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float bias) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> values(n);
    for (float& v : values) v = bias + scale * Pseudo(state);
    m.tensors.emplace_back(name, std::move(values));
    m.shapes.push_back(std::move(shape));
  };
  const int64_t q = m.n_head * m.head_dim, kv = m.n_head_kv * m.head_dim;
  add("token_embd.weight", {m.n_embd, m.n_vocab}, 2.0f, 0.0f);
  add("output_norm.weight", {m.n_embd}, 0.5f, 1.0f);
  add("output.weight", {m.n_embd, m.n_vocab}, 2.0f, 0.0f);
  add("blk.0.attn_norm.weight", {m.n_embd}, 0.5f, 1.0f);
  add("blk.0.attn_q.weight", {m.n_embd, q}, 1.5f, 0.0f);
  add("blk.0.attn_k.weight", {m.n_embd, kv}, 1.5f, 0.0f);
  add("blk.0.attn_v.weight", {m.n_embd, kv}, 1.5f, 0.0f);
  add("blk.0.attn_output.weight", {q, m.n_embd}, 1.0f, 0.0f);
  add("blk.0.ffn_norm.weight", {m.n_embd}, 0.5f, 1.0f);
  if (architecture == "qwen3moe") {
    m.n_expert = 3;
    m.n_expert_used = 2;
    add("blk.0.ffn_gate_inp.weight", {m.n_embd, m.n_expert}, 3.0f, 0.0f);
    add("blk.0.ffn_gate_exps.weight", {m.n_embd, m.n_ff, m.n_expert}, 1.5f, 0.0f);
    add("blk.0.ffn_up_exps.weight", {m.n_embd, m.n_ff, m.n_expert}, 1.5f, 0.0f);
    add("blk.0.ffn_down_exps.weight", {m.n_ff, m.n_embd, m.n_expert}, 1.0f, 0.0f);
  } else {
    add("blk.0.ffn_gate.weight", {m.n_embd, m.n_ff}, 1.5f, 0.0f);
    add("blk.0.ffn_up.weight", {m.n_embd, m.n_ff}, 1.5f, 0.0f);
    add("blk.0.ffn_down.weight", {m.n_ff, m.n_embd}, 1.0f, 0.0f);
  }
  if (architecture == "qwen2") {
    add("blk.0.attn_q.bias", {q}, 0.5f, 0.0f);
    add("blk.0.attn_k.bias", {kv}, 0.5f, 0.0f);
    add("blk.0.attn_v.bias", {kv}, 0.5f, 0.0f);
  }
  if (architecture == "qwen3" || architecture == "qwen3moe") {
    add("blk.0.attn_q_norm.weight", {m.head_dim}, 0.5f, 1.0f);
    add("blk.0.attn_k_norm.weight", {m.head_dim}, 0.5f, 1.0f);
  }
  return m;
}

std::unique_ptr<ModelInput> ToInput(const TinyModel& m) {
  const std::string& a = m.architecture;
  std::vector<GgufKeyValue> metadata = {
      {"general.architecture", GgufValue::String(a)},
      {a + ".block_count", GgufValue::Uint32(1)},
      {a + ".embedding_length", GgufValue::Uint32(static_cast<uint32_t>(m.n_embd))},
      {a + ".feed_forward_length", GgufValue::Uint32(static_cast<uint32_t>(m.n_ff))},
      {a + ".attention.head_count", GgufValue::Uint32(static_cast<uint32_t>(m.n_head))},
      {a + ".attention.head_count_kv", GgufValue::Uint32(static_cast<uint32_t>(m.n_head_kv))},
      {a + ".attention.layer_norm_rms_epsilon", GgufValue::Float32(m.eps)},
      {a + ".rope.freq_base", GgufValue::Float32(m.freq_base)},
  };
  if (m.n_expert > 0) {
    metadata.push_back({a + ".expert_count", GgufValue::Uint32(static_cast<uint32_t>(m.n_expert))});
    metadata.push_back(
        {a + ".expert_used_count", GgufValue::Uint32(static_cast<uint32_t>(m.n_expert_used))});
  }
  std::vector<GgufTensorInfo> infos;
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    GgufTensorInfo info;
    info.name = m.tensors[i].first;
    info.shape = m.shapes[i];
    info.type = GgmlType::kF32;
    infos.push_back(info);
  }
  MemorySink sink;
  Result<GgufWriter> writer = GgufWriter::Start(sink, metadata, infos);
  REQUIRE(writer.ok());
  for (const auto& [name, values] : m.tensors) {
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    REQUIRE(writer->WriteTensor(bytes).ok());
  }
  REQUIRE(writer->Finish().ok());
  Result<GgufFile> file = ParseGguf(MemorySource("tiny.gguf", sink.bytes()));
  REQUIRE(file.ok());
  return MakeGgufInput(std::move(*file));
}

using Vec = std::vector<double>;

// y = W x for W stored as GGUF [cols, rows] (row r is W[r*cols .. r*cols+cols)).
Vec MatVec(const std::vector<float>& w, const Vec& x, int64_t rows) {
  const int64_t cols = static_cast<int64_t>(x.size());
  Vec y(rows, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) y[r] += w[r * cols + c] * x[c];
  }
  return y;
}

Vec Norm(const Vec& x, const std::vector<float>& w, double eps, size_t offset, size_t n) {
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[offset + i] * x[offset + i];
  const double scale = 1 / std::sqrt(ss / static_cast<double>(n) + eps);
  Vec y = x;
  for (size_t i = 0; i < n; ++i) y[offset + i] = x[offset + i] * scale * w[i];
  return y;
}

// Rotates each head: llama pairs (2i, 2i+1), qwen pairs (i, i + d/2).
void Rotate(Vec& x, int64_t n_heads, int64_t d, int64_t pos, double base, bool neox) {
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t i = 0; i < d / 2; ++i) {
      const double theta = static_cast<double>(pos) * std::pow(base, -2.0 * i / d);
      const int64_t a = h * d + (neox ? i : 2 * i);
      const int64_t b = h * d + (neox ? i + d / 2 : 2 * i + 1);
      const double x0 = x[a], x1 = x[b];
      x[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
      x[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

// The logits of every position, written out step by step in double.
std::vector<Vec> ScalarForward(const TinyModel& m, const std::vector<int32_t>& tokens) {
  const bool neox = m.architecture != "llama";
  const int64_t T = static_cast<int64_t>(tokens.size()), d = m.head_dim;
  std::vector<Vec> x(T), q(T), k(T), v(T);
  for (int64_t t = 0; t < T; ++t) {
    const auto& e = m.Get("token_embd.weight");
    x[t].assign(e.begin() + tokens[t] * m.n_embd, e.begin() + (tokens[t] + 1) * m.n_embd);
    const Vec n = Norm(x[t], m.Get("blk.0.attn_norm.weight"), m.eps, 0, m.n_embd);
    q[t] = MatVec(m.Get("blk.0.attn_q.weight"), n, m.n_head * d);
    k[t] = MatVec(m.Get("blk.0.attn_k.weight"), n, m.n_head_kv * d);
    v[t] = MatVec(m.Get("blk.0.attn_v.weight"), n, m.n_head_kv * d);
    if (m.architecture == "qwen2") {
      for (size_t i = 0; i < q[t].size(); ++i) q[t][i] += m.Get("blk.0.attn_q.bias")[i];
      for (size_t i = 0; i < k[t].size(); ++i) k[t][i] += m.Get("blk.0.attn_k.bias")[i];
      for (size_t i = 0; i < v[t].size(); ++i) v[t][i] += m.Get("blk.0.attn_v.bias")[i];
    }
    if (m.architecture == "qwen3" || m.architecture == "qwen3moe") {
      for (int64_t h = 0; h < m.n_head; ++h)
        q[t] = Norm(q[t], m.Get("blk.0.attn_q_norm.weight"), m.eps, h * d, d);
      for (int64_t h = 0; h < m.n_head_kv; ++h)
        k[t] = Norm(k[t], m.Get("blk.0.attn_k_norm.weight"), m.eps, h * d, d);
    }
    Rotate(q[t], m.n_head, d, t, m.freq_base, neox);
    Rotate(k[t], m.n_head_kv, d, t, m.freq_base, neox);
  }
  std::vector<Vec> logits(T);
  for (int64_t t = 0; t < T; ++t) {
    Vec attention(m.n_head * d, 0.0);
    for (int64_t h = 0; h < m.n_head; ++h) {
      const int64_t g = h / (m.n_head / m.n_head_kv);
      Vec score(t + 1);
      double max = -1e300, sum = 0;
      for (int64_t j = 0; j <= t; ++j) {  // causal: keys up to t
        score[j] = 0;
        for (int64_t i = 0; i < d; ++i) score[j] += q[t][h * d + i] * k[j][g * d + i];
        score[j] /= std::sqrt(static_cast<double>(d));
        max = std::max(max, score[j]);
      }
      for (int64_t j = 0; j <= t; ++j) sum += (score[j] = std::exp(score[j] - max));
      for (int64_t j = 0; j <= t; ++j) {
        for (int64_t i = 0; i < d; ++i) attention[h * d + i] += score[j] / sum * v[j][g * d + i];
      }
    }
    Vec h = x[t];
    const Vec o = MatVec(m.Get("blk.0.attn_output.weight"), attention, m.n_embd);
    for (int64_t i = 0; i < m.n_embd; ++i) h[i] += o[i];
    const Vec n = Norm(h, m.Get("blk.0.ffn_norm.weight"), m.eps, 0, m.n_embd);
    if (m.n_expert == 0) {
      Vec gate = MatVec(m.Get("blk.0.ffn_gate.weight"), n, m.n_ff);
      const Vec up = MatVec(m.Get("blk.0.ffn_up.weight"), n, m.n_ff);
      for (int64_t i = 0; i < m.n_ff; ++i) gate[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
      const Vec down = MatVec(m.Get("blk.0.ffn_down.weight"), gate, m.n_embd);
      for (int64_t i = 0; i < m.n_embd; ++i) h[i] += down[i];
    } else {
      // Softmax router, the two most probable of three experts, weights renormalized.
      const Vec router = MatVec(m.Get("blk.0.ffn_gate_inp.weight"), n, m.n_expert);
      Vec p(m.n_expert);
      double sum = 0;
      for (int64_t e = 0; e < m.n_expert; ++e) sum += p[e] = std::exp(router[e]);
      for (double& probability : p) probability /= sum;
      const int64_t worst = std::min_element(p.begin(), p.end()) - p.begin();
      const double chosen = 1 - p[worst];
      for (int64_t e = 0; e < m.n_expert; ++e) {
        if (e == worst) continue;
        auto slice = [&](const char* name, int64_t rows, int64_t cols) {
          const auto& all = m.Get(name);
          return std::vector<float>(all.begin() + e * rows * cols,
                                    all.begin() + (e + 1) * rows * cols);
        };
        Vec gate = MatVec(slice("blk.0.ffn_gate_exps.weight", m.n_ff, m.n_embd), n, m.n_ff);
        const Vec up = MatVec(slice("blk.0.ffn_up_exps.weight", m.n_ff, m.n_embd), n, m.n_ff);
        for (int64_t i = 0; i < m.n_ff; ++i) gate[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
        const Vec down =
            MatVec(slice("blk.0.ffn_down_exps.weight", m.n_embd, m.n_ff), gate, m.n_embd);
        for (int64_t i = 0; i < m.n_embd; ++i) h[i] += p[e] / chosen * down[i];
      }
    }
    logits[t] = MatVec(m.Get("output.weight"),
                       Norm(h, m.Get("output_norm.weight"), m.eps, 0, m.n_embd), m.n_vocab);
  }
  return logits;
}

std::vector<Matrix> RunAll(const ForwardModel& model,
                           const std::vector<std::vector<int32_t>>& sequences, int n_threads,
                           int64_t first_row = 0) {
  std::vector<Matrix> out(sequences.size());
  const Status status = model.Run(sequences, first_row, n_threads,
                                  [&](size_t s, const Matrix& logits) { out[s] = logits; }, {});
  REQUIRE(status.ok());
  return out;
}

TEST_CASE("forward pass: a 1-layer model matches the formulas written out by hand", "[eval]") {
  for (const std::string architecture : {"llama", "qwen2", "qwen3", "qwen3moe"}) {
    INFO(architecture);
    const TinyModel tiny = MakeTinyModel(architecture);
    Result<std::unique_ptr<ForwardModel>> model = ForwardModel::Open(ToInput(tiny), {false});
    REQUIRE(model.ok());
    CHECK((*model)->n_vocab() == 11);
    const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6};
    const std::vector<Vec> expected = ScalarForward(tiny, tokens);
    const std::vector<Matrix> logits = RunAll(**model, {tokens}, 1);
    REQUIRE(logits[0].rows() == 8);
    for (int64_t t = 0; t < 8; ++t) {
      for (int64_t i = 0; i < tiny.n_vocab; ++i) {
        INFO("position " << t << ", logit " << i);
        CHECK(logits[0](t, i) == Approx(expected[t][i]).margin(1e-4).epsilon(1e-4));
      }
    }
    // first_row: only the later rows, the same values (up to the product's summation order,
    // which Eigen picks by matrix size).
    const std::vector<Matrix> tail = RunAll(**model, {tokens}, 1, 5);
    REQUIRE(tail[0].rows() == 3);
    CHECK((tail[0] - logits[0].bottomRows(3)).cwiseAbs().maxCoeff() < 1e-5f);

    // ggml's arithmetic (F16 q/k/v here: the weights are F32) moves the logits only a little.
    Result<std::unique_ptr<ForwardModel>> ggml = ForwardModel::Open(ToInput(tiny));
    REQUIRE(ggml.ok());
    const std::vector<Matrix> rounded = RunAll(**ggml, {tokens}, 1);
    CHECK(rounded[0] != logits[0]);
    CHECK((rounded[0] - logits[0]).cwiseAbs().maxCoeff() < 0.01);
  }
}

TEST_CASE("forward pass: a later token never changes earlier logits", "[eval]") {
  Result<std::unique_ptr<ForwardModel>> model = ForwardModel::Open(ToInput(MakeTinyModel("llama")));
  REQUIRE(model.ok());
  const std::vector<int32_t> a = {3, 1, 4, 1, 5, 9, 2, 6};
  std::vector<int32_t> b = a;
  b[5] = 10;
  b[7] = 0;
  const std::vector<Matrix> logits = RunAll(**model, {a, b}, 2);
  CHECK(logits[0].topRows(5) == logits[1].topRows(5));
  CHECK(logits[0].row(5) != logits[1].row(5));
}

TEST_CASE("forward pass: the same bits at any thread count", "[eval]") {
  Result<std::unique_ptr<ForwardModel>> model = ForwardModel::Open(ToInput(MakeTinyModel("qwen3")));
  REQUIRE(model.ok());
  std::vector<std::vector<int32_t>> sequences;
  for (int s = 0; s < 5; ++s) {
    std::vector<int32_t> tokens;
    for (int t = 0; t < 16; ++t) tokens.push_back((s * 7 + t * 3) % 11);
    sequences.push_back(tokens);
  }
  const std::vector<Matrix> one = RunAll(**model, sequences, 1);
  for (int n_threads : {2, 3, 8}) {
    const std::vector<Matrix> many = RunAll(**model, sequences, n_threads);
    for (size_t s = 0; s < sequences.size(); ++s) {
      CHECK(std::memcmp(one[s].data(), many[s].data(), one[s].size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("forward pass: the Hadamard rotation is orthonormal and its own inverse", "[eval]") {
  Matrix x(2, 8);
  x << 1, 0, 0, 0, 0, 0, 0, 0,  //
      1, 2, 3, 4, 5, 6, 7, 8;
  Matrix rotated = x;
  RotateHadamard(rotated, 4);
  // The first row's first block is H's first column over 2: all 0.5; its second block is 0.
  CHECK(rotated.row(0).head(4) == Eigen::RowVector4f(0.5f, 0.5f, 0.5f, 0.5f));
  CHECK(rotated.row(0).tail(4).isZero());
  // Sylvester's H₄ rows (1,1,1,1), (1,−1,1,−1), (1,1,−1,−1), (1,−1,−1,1) over 2.
  CHECK(rotated(1, 0) == Approx(5.0));
  CHECK(rotated(1, 1) == Approx(-1.0));
  CHECK(rotated(1, 2) == Approx(-2.0));
  CHECK(rotated(1, 3) == Approx(0.0).margin(1e-6));
  CHECK(rotated.row(1).norm() == Approx(x.row(1).norm()));
  RotateHadamard(rotated, 4);
  CHECK((rotated - x).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("forward pass: errors name the tensor and the token", "[eval]") {
  TinyModel tiny = MakeTinyModel("llama");
  tiny.shapes[4] = {8, 7};  // attn_q
  tiny.tensors[4].second.resize(56);
  Result<std::unique_ptr<ForwardModel>> bad = ForwardModel::Open(ToInput(tiny));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "tiny.gguf: tensor 'blk.0.attn_q.weight' has shape [8, 7], expected [8, 8]");

  Result<std::unique_ptr<ForwardModel>> model = ForwardModel::Open(ToInput(MakeTinyModel("llama")));
  REQUIRE(model.ok());
  const std::vector<std::vector<int32_t>> sequences = {{1, 2, 11}};
  const Status status = (*model)->Run(sequences, 0, 1, [](size_t, const Matrix&) {}, {});
  CHECK(status.message() == "token id 11 is outside the vocabulary of tiny.gguf (11 ids)");

  ForwardOptions q8_cache;
  q8_cache.kv_type = KvCacheType::kQ8_0;
  Result<std::unique_ptr<ForwardModel>> small_heads =
      ForwardModel::Open(ToInput(MakeTinyModel("llama")), q8_cache);
  REQUIRE_FALSE(small_heads.ok());
  CHECK(small_heads.status().code() == Status::Code::kInvalidArgument);

  TinyModel other = MakeTinyModel("gemma");
  Result<std::unique_ptr<ForwardModel>> unsupported = ForwardModel::Open(ToInput(other));
  REQUIRE_FALSE(unsupported.ok());
  CHECK(unsupported.status().message() ==
        "tiny.gguf: architecture 'gemma': qtk eval runs llama, qwen2, qwen3 and qwen3moe models");
}

}  // namespace
}  // namespace qtk
