// Generic quantization schemes by name, and how their output lives in a GGUF file.
//
// A scheme is named the way users type it:
//   int<bits>-<granularity>[-sym|-asym][-f16|-f32][-search]   bits 2..8; granularity is
//       "tensor", "channel" (one scale per row) or "g<size>" (groups of <size> along a row);
//       symmetric and F16 scales unless told otherwise; "-search" turns on the scale search.
//   nf4[-b<size>][-dq] and fp4[-b<size>][-dq]                  bitsandbytes' 4-bit codes, absmax
//       blocks of <size> (default 64), "-dq" for double quantization of the absmax values.
// e.g. int8-channel, int8-g128, int4-g128, int4-g64-asym, int4-channel, nf4, nf4-dq, fp4.
//
// ggml has no tensor type for most of these, so qtk writes them as plain tensors plus
// metadata (docs/FORMAT.md has the full description):
//   <name>            I8   the codes (4-bit and smaller codes packed into bytes)
//   <name>.scale      F16/F32 affine scales          <name>.zero  affine zero points
//   <name>.absmax     F32 (or I8 codes with -dq)     <name>.dq_scale, <name>.dq_offset  (-dq)
//   qtk.quant.<name>.scheme  string  the canonical scheme name
//   qtk.quant.<name>.shape   i64[]   the tensor's logical shape (GGUF order)
//   qtk.quant.<name>.code    f32[16] the 4-bit decode table (nf4/fp4)
//   qtk.quant.<name>.dq_code f32[256] the 8-bit decode table of the absmax codes (-dq)
// Where a scheme is exactly a ggml type, qtk writes that type instead, so llama.cpp runs it:
// int8-g32 (symmetric, F16 scales) is Q8_0, byte for byte what llama-quantize writes, and
// int4-g32 is stored as Q4_0 (the same decoded values; llama-quantize's own Q4_0 chooses its
// scales differently). That needs rows that are a multiple of 32.
//
// Implemented in scheme.cc (names and layouts) and scheme_codec.cc (the bytes).
#ifndef QTK_SCHEME_SCHEME_H_
#define QTK_SCHEME_SCHEME_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/ggml_type.h"
#include "qtk/format/gguf.h"
#include "qtk/quant/metrics.h"
#include "qtk/scheme/affine.h"
#include "qtk/scheme/nf4.h"

namespace qtk {

enum class SchemeKind : uint8_t { kAffine, kFourBit };

struct Scheme {
  SchemeKind kind = SchemeKind::kAffine;
  AffineSpec affine;     // when kind == kAffine
  FourBitSpec four_bit;  // when kind == kFourBit
};

// Parses a user-facing name (case-insensitive).
// Errors: InvalidArgument naming the name and what is wrong with it, e.g.
// "scheme 'int9-g32': bits is 9, must be 2..8".
Result<Scheme> ParseScheme(std::string_view name);

// The canonical name (defaults omitted): ParseScheme(SchemeName(s)) gives s back.
std::string SchemeName(const Scheme& scheme);

// The ggml type that holds `scheme` exactly for rows of row_length elements, if there is one.
std::optional<GgmlType> SchemeGgmlType(const Scheme& scheme, int64_t row_length);

// One tensor the scheme writes.
struct SchemeTensor {
  std::string name;
  GgmlType type = GgmlType::kI8;
  std::vector<int64_t> shape;  // GGUF order
};

struct SchemePlan {
  std::vector<SchemeTensor> tensors;   // the codes tensor first, then its companions
  std::vector<GgufKeyValue> metadata;  // the qtk.quant.<name>.* keys (none for ggml types)
};

// What quantizing tensor `tensor_name` of `shape` (GGUF order) with `scheme` writes; known
// before any data is computed.
// Errors: InvalidArgument for a shape with no elements or more than 4 dimensions, or a
// companion name longer than GGUF allows (63 bytes).
Result<SchemePlan> PlanScheme(std::string_view tensor_name, std::span<const int64_t> shape,
                              const Scheme& scheme);

// The bytes of each tensor PlanScheme lists, in the same order.
// REQUIRES: values.size() is the product of shape.
// Errors: as PlanScheme, and the quantizer's (NaN or infinity in values, ...).
Result<std::vector<std::vector<uint8_t>>> QuantizeScheme(const Scheme& scheme,
                                                         std::span<const int64_t> shape,
                                                         std::span<const float> values,
                                                         int n_threads = 1);

// True if every statistic of `scheme` is local to one row of `row_length` values: then
// QuantizeScheme on consecutive runs of whole rows gives, part by part and concatenated in
// row order, the bytes it gives on the whole tensor (per-channel and group-wise affine; NF4
// and FP4 without double quantization when blocks do not straddle rows). False for a
// per-tensor scale and for double quantization (global statistics).
bool SchemeIsRowLocal(const Scheme& scheme, int64_t row_length);

// Decodes tensor `tensor_name` of `file` to F32 (all elements, GGUF order): through its
// qtk.quant.* keys when it has them, otherwise as a plain ggml tensor (DequantizeRows).
// Errors: NotFound for a missing tensor or companion; Corruption when the keys or companion
// tensors do not match the scheme they name; Unsupported for a type qtk cannot decode.
Result<std::vector<float>> DequantizeFromGguf(const GgufFile& file, std::string_view tensor_name,
                                              int n_threads = 1);

// The names of tensors in `file` that are companions of a qtk layout (".scale", ...), so that
// tools listing weights can skip them.
std::vector<std::string> SchemeCompanionNames(const GgufFile& file);

// Quantizes and decodes `values` in memory and compares: the error `scheme` makes on them.
Result<ErrorStats> MeasureScheme(const Scheme& scheme, std::span<const int64_t> shape,
                                 std::span<const float> values, int n_threads = 1);

}  // namespace qtk

#endif  // QTK_SCHEME_SCHEME_H_
