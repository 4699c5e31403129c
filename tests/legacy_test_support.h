// Helpers for the legacy block format tests: a table describing each format's block, and a
// reference check that runs one row quantizer (e.g. a scalar or an AVX2 path) directly.
#ifndef QTK_TESTS_LEGACY_TEST_SUPPORT_H_
#define QTK_TESTS_LEGACY_TEST_SUPPORT_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "qtk/base/sha256.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"
#include "quant/quant_legacy.h"
#include "reference_support.h"

namespace qtk::testing {

using RowQuantizer = void (*)(const float* x, uint8_t* y, int64_t n);
using WeightedRowQuantizer = void (*)(const float* x, uint8_t* y, int64_t n, const float* w);

struct LegacyFormat {
  GgmlType type;
  const char* name;
  int block_bytes;
  bool has_min;  // x = level * d + m rather than level * d
  // The level of element j (0..31) of a block: x_hat = level * d (+ m).
  int (*level)(const uint8_t* block, int j);
  int min_level;
  int max_level;
  int clamped_level;  // the far end the reference clamps to (a whole step away), if any
  RowQuantizer reference;
  WeightedRowQuantizer weighted;  // nullptr: importance is ignored
};

inline int Nibble(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 0x0F : qs[j - 16] >> 4; }

inline int FifthBit(const uint8_t* qh, int j) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  return static_cast<int>((bits >> j) & 1u) << 4;
}

inline constexpr int kNoClamp = 1 << 20;

inline constexpr std::array<LegacyFormat, 5> kLegacyFormats = {{
    {GgmlType::kQ4_0, "Q4_0", 18, false,
     [](const uint8_t* b, int j) { return Nibble(b + 2, j) - 8; }, -8, 7, 7, QuantizeRowQ4_0Ref,
     QuantizeRowQ4_0Weighted},
    {GgmlType::kQ4_1, "Q4_1", 20, true, [](const uint8_t* b, int j) { return Nibble(b + 4, j); }, 0,
     15, kNoClamp, QuantizeRowQ4_1Ref, QuantizeRowQ4_1Weighted},
    {GgmlType::kQ5_0, "Q5_0", 22, false,
     [](const uint8_t* b, int j) { return (Nibble(b + 6, j) | FifthBit(b + 2, j)) - 16; }, -16, 15,
     15, QuantizeRowQ5_0Ref, QuantizeRowQ5_0Weighted},
    {GgmlType::kQ5_1, "Q5_1", 24, true,
     [](const uint8_t* b, int j) { return Nibble(b + 8, j) | FifthBit(b + 4, j); }, 0, 31, kNoClamp,
     QuantizeRowQ5_1Ref, QuantizeRowQ5_1Weighted},
    {GgmlType::kQ8_0, "Q8_0", 34, false,
     [](const uint8_t* b, int j) { return static_cast<int>(static_cast<int8_t>(b[2 + j])); }, -127,
     127, kNoClamp, QuantizeRowQ8_0Ref, nullptr},
}};

// One block's bytes: d (F16), then `middle` (m and/or qh), then `qs`.
inline std::vector<uint8_t> Block(uint16_t d, const std::vector<uint8_t>& middle,
                                  const std::vector<uint8_t>& qs) {
  std::vector<uint8_t> bytes;
  bytes.reserve(2 + middle.size() + qs.size());
  bytes.push_back(static_cast<uint8_t>(d & 0xFF));
  bytes.push_back(static_cast<uint8_t>(d >> 8));
  for (uint8_t byte : middle) bytes.push_back(byte);
  for (uint8_t byte : qs) bytes.push_back(byte);
  return bytes;
}

// Like DiffAgainstReference, but for the tensors of `type` only, quantized by calling
// `quantize` on each row (no dispatch). Adds the number of tensors compared to *n_compared.
inline std::string DiffRowQuantizer(const std::filesystem::path& f32_file,
                                    const std::filesystem::path& directory,
                                    const std::string& reference_file, GgmlType type,
                                    RowQuantizer quantize, int* n_compared) {
  Result<GgufFile> source = ReadGgufFile(f32_file.string());
  if (!source.ok()) return source.status().message() + "\n";
  std::string diff;
  for (const ManifestTensor& expected : ReadManifest(directory, reference_file)) {
    if (expected.type != type) continue;
    const GgufTensorInfo* info = source->FindTensor(expected.name);
    if (info == nullptr || info->type != GgmlType::kF32) {
      diff += expected.name + ": no F32 tensor\n";
      continue;
    }
    const auto* x = reinterpret_cast<const float*>(source->TensorData(*info).data());
    const int64_t row_length = info->row_length();
    const uint64_t row_bytes = GgmlRowBytes(type, row_length);
    std::vector<uint8_t> out(static_cast<size_t>(info->n_rows()) * row_bytes);
    for (int64_t row = 0; row < info->n_rows(); ++row) {
      quantize(x + row * row_length, out.data() + static_cast<uint64_t>(row) * row_bytes,
               row_length);
    }
    ++*n_compared;
    const std::string actual = Sha256Hex(out);
    if (actual != expected.sha256) {
      diff += expected.name + ": sha256 " + actual + ", expected " + expected.sha256 + "\n";
    }
  }
  return diff;
}

}  // namespace qtk::testing

#endif  // QTK_TESTS_LEGACY_TEST_SUPPORT_H_
