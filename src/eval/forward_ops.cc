// The forward pass's operations, ggml's definitions in F32.
#include "eval/forward_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace qtk {

namespace {

// y = x̂ Wᵀ over rows [first_row, first_row + n_rows) of w.
void LinearRows(const Matrix& x, const DenseWeight& w, int64_t first_row, int64_t n_rows,
                Matrix& y) {
  const auto rows = w.matrix().middleRows(first_row, n_rows);
  if (w.activations == ActivationFormat::kF32) {
    y.noalias() = x * rows.transpose();
    return;
  }
  Matrix rounded = x;
  for (int64_t r = 0; r < rounded.rows(); ++r) {
    RoundActivations(w.activations, std::span<float>(rounded.row(r).data(), rounded.cols()));
  }
  y.noalias() = rounded * rows.transpose();
}

}  // namespace

void Linear(const Matrix& x, const DenseWeight& w, const DenseWeight& bias, Matrix& y) {
  LinearRows(x, w, 0, w.rows, y);
  if (!bias.empty()) {
    y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.values.data(), bias.cols);
  }
}

void RmsNorm(Matrix& x, const DenseWeight& weight, float eps, int64_t group) {
  const int64_t n_groups = x.cols() / group;
  for (int64_t r = 0; r < x.rows(); ++r) {
    float* row = x.row(r).data();
    for (int64_t g = 0; g < n_groups; ++g) {
      float* values = row + g * group;
      double sum = 0;
      for (int64_t i = 0; i < group; ++i) sum += static_cast<double>(values[i]) * values[i];
      const float mean = static_cast<float>(sum / static_cast<double>(group));
      const float scale = 1.0f / std::sqrt(mean + eps);
      for (int64_t i = 0; i < group; ++i) values[i] = values[i] * scale * weight.values[i];
    }
  }
}

RopeTable MakeRopeTable(int64_t n_positions, int64_t n_rot, float freq_base, float freq_scale,
                        std::span<const float> freq_factors) {
  const int64_t n_pairs = n_rot / 2;
  RopeTable table{Matrix(n_positions, n_pairs), Matrix(n_positions, n_pairs)};
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  for (int64_t p = 0; p < n_positions; ++p) {
    float theta = static_cast<float>(p);
    for (int64_t i = 0; i < n_pairs; ++i) {
      const float factor = freq_factors.empty() ? 1.0f : freq_factors[i];
      const float angle = freq_scale * (theta / factor);
      table.cos(p, i) = std::cos(angle);
      table.sin(p, i) = std::sin(angle);
      theta *= theta_scale;
    }
  }
  return table;
}

void ApplyRope(Matrix& x, int64_t n_heads, int64_t head_dim, const RopeTable& table,
               RopeStyle style) {
  const int64_t n_pairs = table.cos.cols();
  // kNorm: pair i is (2i, 2i+1); kNeox: (i, i + n_pairs).
  const int64_t stride = style == RopeStyle::kNorm ? 2 : 1;
  const int64_t offset = style == RopeStyle::kNorm ? 1 : n_pairs;
  for (int64_t p = 0; p < x.rows(); ++p) {
    for (int64_t h = 0; h < n_heads; ++h) {
      float* head = x.row(p).data() + h * head_dim;
      for (int64_t i = 0; i < n_pairs; ++i) {
        float& a = head[i * stride];
        float& b = head[i * stride + offset];
        const float c = table.cos(p, i);
        const float s = table.sin(p, i);
        const float a0 = a;
        const float b0 = b;
        a = a0 * c - b0 * s;
        b = a0 * s + b0 * c;
      }
    }
  }
}

void CausalAttention(const Matrix& q, const Matrix& k, const Matrix& v, int64_t n_head,
                     int64_t n_head_kv, int64_t head_dim, Matrix& out) {
  const int64_t n_tokens = q.rows();
  const int64_t group = n_head / n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  out.resize(n_tokens, n_head * head_dim);
  Matrix scores(n_tokens, n_tokens);
  for (int64_t h = 0; h < n_head; ++h) {
    const int64_t g = h / group;
    scores.noalias() =
        q.middleCols(h * head_dim, head_dim) * k.middleCols(g * head_dim, head_dim).transpose();
    for (int64_t i = 0; i < n_tokens; ++i) {
      float* row = scores.row(i).data();
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j <= i; ++j) {
        row[j] *= scale;
        max = std::max(max, row[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j <= i; ++j) {
        row[j] = std::exp(row[j] - max);
        sum += row[j];
      }
      const float inverse = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j <= i; ++j) row[j] *= inverse;
      for (int64_t j = i + 1; j < n_tokens; ++j) row[j] = 0.0f;  // the causal mask
    }
    out.middleCols(h * head_dim, head_dim).noalias() =
        scores * v.middleCols(g * head_dim, head_dim);
  }
}

void MixtureOfExperts(const Matrix& x, const MoeWeights& w, Matrix& out) {
  Matrix logits;
  Linear(x, w.router, {}, logits);
  // routed[e]: (token, weight) of every token that chose expert e.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(w.n_expert);
  std::vector<float> probs(w.n_expert);
  std::vector<int64_t> order(w.n_expert);
  for (int64_t t = 0; t < x.rows(); ++t) {
    const float max = logits.row(t).maxCoeff();
    float sum = 0;
    for (int64_t e = 0; e < w.n_expert; ++e) sum += probs[e] = std::exp(logits(t, e) - max);
    for (float& p : probs) p /= sum;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
    float chosen = 0;
    for (int64_t k = 0; k < w.n_used; ++k) chosen += probs[order[k]];
    for (int64_t k = 0; k < w.n_used; ++k) {
      routed[order[k]].emplace_back(t, probs[order[k]] / chosen);
    }
  }
  out = Matrix::Zero(x.rows(), w.down.rows / w.n_expert);
  const int64_t n_ff = w.gate.rows / w.n_expert;
  const int64_t n_out = w.down.rows / w.n_expert;
  for (int64_t e = 0; e < w.n_expert; ++e) {
    if (routed[e].empty()) continue;
    Matrix tokens(static_cast<int64_t>(routed[e].size()), x.cols());
    for (size_t i = 0; i < routed[e].size(); ++i) tokens.row(i) = x.row(routed[e][i].first);
    Matrix gate, up, down;
    LinearRows(tokens, w.gate, e * n_ff, n_ff, gate);
    LinearRows(tokens, w.up, e * n_ff, n_ff, up);
    SwiGlu(gate, up);
    LinearRows(gate, w.down, e * n_out, n_out, down);
    for (size_t i = 0; i < routed[e].size(); ++i) {
      out.row(routed[e][i].first) += routed[e][i].second * down.row(i);
    }
  }
}

void RotateHadamard(Matrix& x, int64_t block) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(block));
  for (int64_t r = 0; r < x.rows(); ++r) {
    for (int64_t b = 0; b < x.cols(); b += block) {
      float* v = x.row(r).data() + b;
      for (int64_t half = 1; half < block; half *= 2) {
        for (int64_t i = 0; i < block; i += 2 * half) {
          for (int64_t j = i; j < i + half; ++j) {
            const float a = v[j];
            const float c = v[j + half];
            v[j] = a + c;
            v[j + half] = a - c;
          }
        }
      }
      for (int64_t i = 0; i < block; ++i) v[i] *= scale;
    }
  }
}

void RoundRows(Matrix& x, ActivationFormat format) {
  for (int64_t r = 0; r < x.rows(); ++r) {
    RoundActivations(format, std::span<float>(x.row(r).data(), x.cols()));
  }
}

void SwiGlu(Matrix& gate, const Matrix& up) {
  for (int64_t r = 0; r < gate.rows(); ++r) {
    float* g = gate.row(r).data();
    const float* u = up.row(r).data();
    for (int64_t i = 0; i < gate.cols(); ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
}

}  // namespace qtk
