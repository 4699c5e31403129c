// llama.cpp's file types (llama_ftype): the names users pass to `llama-quantize` ("Q4_K_M"),
// the numeric ids stored in `general.file_type`, and each one's default tensor type.
#ifndef QTK_PLAN_FILE_TYPE_H_
#define QTK_PLAN_FILE_TYPE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "qtk/format/ggml_type.h"

namespace qtk {

enum class FileType : uint32_t {
  kAllF32 = 0,
  kMostlyF16 = 1,
  kMostlyQ4_0 = 2,
  kMostlyQ4_1 = 3,
  kMostlyQ8_0 = 7,
  kMostlyQ5_0 = 8,
  kMostlyQ5_1 = 9,
  kMostlyQ2_K = 10,
  kMostlyQ3_K_S = 11,
  kMostlyQ3_K_M = 12,
  kMostlyQ3_K_L = 13,
  kMostlyQ4_K_S = 14,
  kMostlyQ4_K_M = 15,
  kMostlyQ5_K_S = 16,
  kMostlyQ5_K_M = 17,
  kMostlyQ6_K = 18,
  kMostlyIQ2_XXS = 19,
  kMostlyIQ2_XS = 20,
  kMostlyQ2_K_S = 21,
  kMostlyIQ3_XS = 22,
  kMostlyIQ3_XXS = 23,
  kMostlyIQ1_S = 24,
  kMostlyIQ4_NL = 25,
  kMostlyIQ3_S = 26,
  kMostlyIQ3_M = 27,
  kMostlyIQ2_S = 28,
  kMostlyIQ2_M = 29,
  kMostlyIQ4_XS = 30,
  kMostlyIQ1_M = 31,
  kMostlyBF16 = 32,
  kMostlyTQ1_0 = 36,
  kMostlyTQ2_0 = 37,
  kMostlyMXFP4_MOE = 38,
};

struct FileTypeInfo {
  FileType type;
  std::string_view name;     // as llama-quantize spells it: "Q4_K_M"
  GgmlType default_type;     // the type most tensors get
  std::string_view summary;  // one line for --help
};

// Every file type, in id order.
std::span<const FileTypeInfo> AllFileTypes();

// REQUIRES: `type` is one of the enumerators.
const FileTypeInfo& Info(FileType type);

// A name ("q4_k_m", "Q4_K", "f16"; case-insensitive; "Q3_K", "Q4_K", "Q5_K" are the _M
// mixes as in llama-quantize) or a numeric id ("15"). nullopt if unknown.
std::optional<FileType> FileTypeFromName(std::string_view name);

// The file type a `general.file_type` value names, if known.
std::optional<FileType> FileTypeFromId(uint32_t id);

}  // namespace qtk

#endif  // QTK_PLAN_FILE_TYPE_H_
