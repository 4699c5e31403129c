// The operations of the reference forward pass on one sequence, in F32 with Eigen, each as
// ggml's CPU backend defines it (internal to eval/). Activations are row-major matrices, one
// row per token; weights are GGUF matrices, one row per output feature (W is out × in, and
// y = x Wᵀ), which is how ggml_mul_mat reads them.
//
// Every function runs on the calling thread: the forward pass parallelizes over sequences,
// so each sequence's numbers are the same at any thread count.
#ifndef QTK_EVAL_FORWARD_OPS_H_
#define QTK_EVAL_FORWARD_OPS_H_

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "eval/activation_rounding.h"
#include "eval/model_config.h"

namespace qtk {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A weight decoded to F32: `rows` rows of `cols` values (GGUF shape [cols, rows]).
struct DenseWeight {
  std::vector<float> values;
  int64_t rows = 0;
  int64_t cols = 0;
  // What the activations are rounded through before the product (ggml's vec_dot_type).
  ActivationFormat activations = ActivationFormat::kF32;

  bool empty() const { return values.empty(); }
  Eigen::Map<const Matrix> matrix() const {
    return Eigen::Map<const Matrix>(values.data(), rows, cols);
  }
};

// y = x̂ Wᵀ (+ bias when `bias` is not empty), x̂ = x rounded through w.activations.
// REQUIRES: x.cols() == w.cols.
void Linear(const Matrix& x, const DenseWeight& w, const DenseWeight& bias, Matrix& y);

// ggml_rms_norm then ggml_mul: each row (or each `group`-wide slice of a row, for the
// per-head q/k norms) scaled by 1 / sqrt(mean(x²) + eps) (the mean summed in double), then
// multiplied element-wise by `weight` (group values).
void RmsNorm(Matrix& x, const DenseWeight& weight, float eps, int64_t group);

// cos and sin of the rotation angle of each position and rotated pair, as ggml_rope_ext
// computes them without YaRN: theta = p · freq_scale · base^(−2i/n_rot) / factor_i, the
// power built by repeated multiplication as ggml does.
struct RopeTable {
  Matrix cos;  // n_positions × n_rot/2
  Matrix sin;
};
RopeTable MakeRopeTable(int64_t n_positions, int64_t n_rot, float freq_base, float freq_scale,
                        std::span<const float> freq_factors);

// Rotates the first n_rot values of each head of each row in place. kNorm rotates the
// pairs (2i, 2i+1) (llama: GGUF's q/k rows are permuted for it), kNeox (i, i + n_rot/2).
void ApplyRope(Matrix& x, int64_t n_heads, int64_t head_dim, const RopeTable& table,
               RopeStyle style);

// Causal multi-head attention with grouped K/V heads: for head h (K/V head h / (n_head /
// n_head_kv)), softmax(q_h k_gᵀ / sqrt(head_dim), masked above the diagonal) v_g, heads
// side by side in `out` (n_tokens × n_head·head_dim).
void CausalAttention(const Matrix& q, const Matrix& k, const Matrix& v, int64_t n_head,
                     int64_t n_head_kv, int64_t head_dim, Matrix& out);

// The mixture-of-experts FFN: router logits x Rᵀ, softmax over the experts, the n_used most
// probable (ties: the lower index), their probabilities divided by their sum; each chosen
// expert e computes down_e(silu(gate_e x) ⊙ up_e x) and the results are summed with those
// weights. gate/up/down hold every expert's matrix one after the other (GGUF [cols, rows,
// n_expert]), so expert e's rows are [e·rows/n_expert, (e+1)·rows/n_expert).
struct MoeWeights {
  const DenseWeight& router;
  const DenseWeight& gate;
  const DenseWeight& up;
  const DenseWeight& down;
  int64_t n_expert = 0;
  int64_t n_used = 0;
};
void MixtureOfExperts(const Matrix& x, const MoeWeights& w, Matrix& out);

// Multiplies each `block`-wide slice of every row by the orthonormal Hadamard matrix
// H/sqrt(block) (Sylvester's order: H₂ₙ = [[H, H], [H, −H]]), by the fast Walsh–Hadamard
// transform. H/sqrt(block) is symmetric and its own inverse. llama.cpp (PR 21038) rotates
// q, k and v this way before a quantized KV cache stores them, and the attention output
// back. REQUIRES: block is a power of two dividing x.cols().
void RotateHadamard(Matrix& x, int64_t block);

// Rounds every row through `format` (RoundActivations): the KV cache's storage, and the
// query as flash attention converts it to the cache's dot-product type.
void RoundRows(Matrix& x, ActivationFormat format);

// silu(gate) ⊙ up, in place in `gate`: silu(x) = x / (1 + e^−x).
void SwiGlu(Matrix& gate, const Matrix& up);

}  // namespace qtk

#endif  // QTK_EVAL_FORWARD_OPS_H_
