// The ggml tensor types: ids as stored in GGUF files, names, block sizes and bytes per block.
//
// This table is the single source of truth for tensor sizes in qtk. A tensor of type T with
// n elements in a row occupies n / block_size(T) * type_size(T) bytes per row; n must be a
// multiple of block_size(T). Ids 4, 5 and 31..33, 36..38 belonged to types llama.cpp removed;
// they are not in the table and files using them are rejected.
#ifndef QTK_FORMAT_GGML_TYPE_H_
#define QTK_FORMAT_GGML_TYPE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace qtk {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;  // as gguf-py spells it: "Q4_K", "IQ4_NL", "BF16"
  int64_t block_size;     // elements per block (1 for plain types)
  int64_t type_size;      // bytes per block
  bool is_quantized;      // a block format (not a plain float or integer type)
};

// Every known type, in id order.
std::span<const GgmlTypeTraits> AllGgmlTypes();

// The traits of a type id read from a file; nullptr for an unknown or removed id.
const GgmlTypeTraits* FindGgmlType(uint32_t id);

// REQUIRES: `type` is one of the enumerators.
const GgmlTypeTraits& Traits(GgmlType type);

inline std::string_view GgmlTypeName(GgmlType type) { return Traits(type).name; }
inline int64_t GgmlBlockSize(GgmlType type) { return Traits(type).block_size; }
inline int64_t GgmlTypeSize(GgmlType type) { return Traits(type).type_size; }
inline bool IsQuantized(GgmlType type) { return Traits(type).is_quantized; }

// Case-insensitive lookup by name ("q4_k", "Q4_K", "bf16").
std::optional<GgmlType> GgmlTypeFromName(std::string_view name);

// Bytes taken by `n_elements` consecutive elements of `type`.
// REQUIRES: n_elements >= 0 and n_elements % GgmlBlockSize(type) == 0.
inline uint64_t GgmlRowBytes(GgmlType type, int64_t n_elements) {
  const GgmlTypeTraits& traits = Traits(type);
  return static_cast<uint64_t>(n_elements / traits.block_size) *
         static_cast<uint64_t>(traits.type_size);
}

}  // namespace qtk

#endif  // QTK_FORMAT_GGML_TYPE_H_
