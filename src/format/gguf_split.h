// Split GGUF models: gguf-split's and llama-quantize --keep-split's
// "<prefix>-00001-of-00003.gguf" files (internal).
//
// Every split is a complete GGUF file. The first carries the model's metadata; every split
// carries split.no (u16, 0-based), split.count (u16) and split.tensors.count (i32, the
// tensors of all splits together).
#ifndef QTK_FORMAT_GGUF_SPLIT_H_
#define QTK_FORMAT_GGUF_SPLIT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/format/gguf.h"

namespace qtk {

inline constexpr std::string_view kSplitNoKey = "split.no";
inline constexpr std::string_view kSplitCountKey = "split.count";
inline constexpr std::string_view kSplitTensorsCountKey = "split.tensors.count";

// "<prefix>-<index + 1, 5 digits>-of-<count, 5 digits>.gguf", as llama_split_path.
std::string SplitPath(std::string_view prefix, size_t index, size_t count);

struct SplitName {
  std::string prefix;
  size_t index = 0;  // 0-based
  size_t count = 0;
};
// The parts of a split file name, if `path` is one.
std::optional<SplitName> ParseSplitPath(std::string_view path);

// `file` alone when it is not split (no split.count, or 1); otherwise every split of its
// model, in order (whichever split `file` is), checked to belong together.
// Errors: NotFound for a missing split, Corruption for splits that disagree.
Result<std::vector<GgufFile>> OpenGgufSplits(GgufFile file);

}  // namespace qtk

#endif  // QTK_FORMAT_GGUF_SPLIT_H_
