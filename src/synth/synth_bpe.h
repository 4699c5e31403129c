// The made-up byte-level BPE vocabularies of `qtk synth`'s BPE families (llama3, qwen2,
// qwen3, qwen3moe), internal to synth/: the ids of their special tokens, which config.json
// and generation_config.json name. The files themselves are SynthTokenizerJson and
// SynthTokenizerConfigJson (qtk/synth/synth.h), implemented in synth_bpe.cc.
#ifndef QTK_SYNTH_SYNTH_BPE_H_
#define QTK_SYNTH_SYNTH_BPE_H_

#include <cstdint>
#include <string_view>

#include "qtk/synth/synth.h"

namespace qtk {

// The id of the special token `content` ("<|eot_id|>") in the family's vocabulary.
// REQUIRES: shape.arch is a BPE family that has the token.
int32_t SynthSpecialTokenId(const SynthShape& shape, std::string_view content);

}  // namespace qtk

#endif  // QTK_SYNTH_SYNTH_BPE_H_
