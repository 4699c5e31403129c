// Synthetic weights with the statistics of trained LLM weights (see qtk/synth/synth.h).
//
// Every row has its own random stream, seeded from (seed, tensor name, row), so any split of
// the rows across threads or chunks gives the same bytes. Only IEEE +, -, *, / and sqrt are
// used (all correctly rounded), and the library is compiled without FMA contraction, so the
// values are the same on every platform.
#include <algorithm>
#include <cmath>

#include "qtk/synth/synth.h"

namespace qtk {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t state = a ^ (b * 0xD1B54A32D192ED03ull);
  return SplitMix64(state);
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001B3ull;
  }
  return hash;
}

// xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 24 bits: exact in float.
  float Uniform() { return static_cast<float>(Next() >> 40) * 0x1.0p-24f; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

float Uniform24(uint64_t bits) { return static_cast<float>(bits & 0xFFFFFFu) * 0x1.0p-24f; }

// A heavy-tailed, unit-variance sample: an Irwin-Hall(4) core (sum of four uniforms,
// centred and scaled to unit variance) times a scale mixture 1/sqrt(0.04 + 0.96 u), whose
// mean square ln(25)/0.96 is normalised away. Kurtosis ~6, like a Laplace distribution.
float HeavyTailed(Rng& rng) {
  const uint64_t a = rng.Next();
  const uint64_t b = rng.Next();
  const float u1 = Uniform24(a >> 40);
  const float u2 = Uniform24(a >> 8);
  const float u3 = Uniform24(b >> 40);
  const float u4 = Uniform24(b >> 8);
  const float core = ((u1 + u2) + (u3 + u4) - 2.0f) * 1.7320508f;
  const float mixture = 0.54612f / std::sqrt(0.04f + 0.96f * rng.Uniform());
  return core * mixture;
}

// The hidden dimensions that carry outlier features in every matrix reading the residual
// stream (real models have a handful: "massive activations").
std::vector<float> HiddenOutlierFactors(const SynthShape& shape, uint64_t seed) {
  std::vector<float> factors(static_cast<size_t>(shape.hidden_size), 1.0f);
  Rng rng(Mix(seed, Fnv1a("hidden-outliers")));
  const int64_t n_outliers = std::max<int64_t>(1, shape.hidden_size / 512);
  for (int64_t placed = 0; placed < n_outliers;) {
    const auto dim = static_cast<size_t>(rng.Next() % static_cast<uint64_t>(shape.hidden_size));
    if (factors[dim] != 1.0f) continue;
    factors[dim] = 8.0f + 16.0f * rng.Uniform();
    ++placed;
  }
  return factors;
}

// Outlier columns of a matrix that does not read the residual stream (o_proj, down_proj).
std::vector<float> OwnOutlierFactors(const SynthTensor& tensor, uint64_t seed) {
  const int64_t n = tensor.row_length();
  std::vector<float> factors(static_cast<size_t>(n), 1.0f);
  Rng rng(Mix(seed, Fnv1a(tensor.name) ^ 0x5A5A5A5Aull));
  const int64_t n_outliers = std::max<int64_t>(1, n / 512);
  for (int64_t placed = 0; placed < n_outliers;) {
    const auto column = static_cast<size_t>(rng.Next() % static_cast<uint64_t>(n));
    if (factors[column] != 1.0f) continue;
    factors[column] = 4.0f + 8.0f * rng.Uniform();
    ++placed;
  }
  return factors;
}

bool ReadsResidualStream(const SynthTensor& tensor) {
  if (tensor.kind != SynthTensorKind::kLinear) return true;
  const std::string& n = tensor.name;
  return n.find("o_proj") == std::string::npos && n.find("down_proj") == std::string::npos;
}

float BaseScale(const SynthTensor& tensor) {
  switch (tensor.kind) {
    case SynthTensorKind::kEmbedding:
      return 0.02f;
    case SynthTensorKind::kNorm:
      return 0.05f;
    case SynthTensorKind::kBias:
      return 0.1f;
    case SynthTensorKind::kOutput:
    case SynthTensorKind::kLinear:
      return 0.5f / std::sqrt(static_cast<float>(tensor.row_length()));
  }
  return 0.02f;
}

// Layer 0's edge rows (expert 0's in a mixture of experts): quantizers must survive an
// all-zero row and a row of tiny values.
float EdgeRowFactor(const SynthTensor& tensor, int64_t row) {
  const std::string& n = tensor.name;
  if (row == 1 && (n == "model.layers.0.mlp.down_proj.weight" ||
                   n == "model.layers.0.mlp.experts.0.down_proj.weight")) {
    return 0.0f;
  }
  if (row == 2 && (n == "model.layers.0.mlp.up_proj.weight" ||
                   n == "model.layers.0.mlp.experts.0.up_proj.weight")) {
    return 1e-6f;
  }
  return 1.0f;
}

// The per-column factors of a tensor's rows; none for a bias (it reads no input).
std::vector<float> ColumnFactors(const SynthShape& shape, const SynthTensor& tensor,
                                 uint64_t seed) {
  if (tensor.kind == SynthTensorKind::kBias) return {};
  return ReadsResidualStream(tensor) ? HiddenOutlierFactors(shape, seed)
                                     : OwnOutlierFactors(tensor, seed);
}

}  // namespace

void GenerateSynthRows(const SynthShape& shape, const SynthTensor& tensor, uint64_t seed,
                       int64_t row_begin, int64_t row_end, std::span<float> out) {
  const int64_t row_length = tensor.row_length();
  const std::vector<float> columns = ColumnFactors(shape, tensor, seed);
  const bool use_columns = static_cast<int64_t>(columns.size()) == row_length;
  const float base = BaseScale(tensor);
  const uint64_t tensor_seed = Mix(seed, Fnv1a(tensor.name));
  for (int64_t row = row_begin; row < row_end; ++row) {
    Rng rng(Mix(tensor_seed, static_cast<uint64_t>(row)));
    float* dst = out.data() + (row - row_begin) * row_length;
    if (tensor.kind == SynthTensorKind::kNorm) {
      // RMSNorm gains: around 1, larger on the outlier dimensions.
      for (int64_t i = 0; i < row_length; ++i) {
        const float gain = use_columns && columns[static_cast<size_t>(i)] != 1.0f ? 3.0f : 1.0f;
        dst[i] = (1.0f + base * HeavyTailed(rng)) * gain;
      }
      continue;
    }
    const float edge = EdgeRowFactor(tensor, row);
    if (edge == 0.0f) {
      std::fill(dst, dst + row_length, 0.0f);  // +0, not the sign of a random value
      continue;
    }
    const float v = rng.Uniform();
    const float row_scale = (0.3f + 1.7f * (v * v)) * base * edge;
    for (int64_t i = 0; i < row_length; ++i) {
      const float column = use_columns ? columns[static_cast<size_t>(i)] : 1.0f;
      dst[i] = HeavyTailed(rng) * row_scale * column;
    }
  }
}

}  // namespace qtk
