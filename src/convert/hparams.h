// config.json as the converter reads it (internal; implemented in hf_metadata.cc).
#ifndef QTK_CONVERT_HPARAMS_H_
#define QTK_CONVERT_HPARAMS_H_

#include <cstdint>
#include <string_view>

#include "base/json_util.h"
#include "qtk/base/status.h"

namespace qtk {

// ModelBase.load_hparams + TextModel.__init__: the file's object with text_config's keys
// moved to the top level.
Result<Json> LoadHparams(std::string_view text, std::string_view path);

// Vocabularies are padded to config.json's vocab_size with "[PADn]" tokens, so a hostile
// config could ask for any amount of memory; the largest real vocabularies have about 2^18
// tokens. Larger vocab_size values are refused.
inline constexpr int64_t kMaxVocabSize = int64_t{1} << 24;

}  // namespace qtk

#endif  // QTK_CONVERT_HPARAMS_H_
