// The byte-level BPE ("gpt2") vocabulary convert_hf_to_gguf.py makes of a tokenizer.json
// (TextModel.get_vocab_base, get_vocab_base_pre and _set_vocab_gpt2): Llama 3, Qwen2/2.5/3
// and the MoE models of those families.
//
// tokenizer.ggml.model "gpt2"; tokenizer.ggml.pre from the pre-tokenizer check (the ids of a
// fixed text, hashed; the table of known hashes is bpe_pre_hashes.cc); tokens for ids
// 0..vocab_size-1 (config.json's vocab_size, else the vocabulary's size), "[PAD<id>]" of type
// UNUSED where the tokenizer has no token; added tokens CONTROL when special or when they look
// special ("<|...|>"), USER_DEFINED otherwise; then gguf.SpecialVocab: merges, special ids,
// add_*_token flags, chat template. An added token that is not normalized is written as the
// tokenizer decodes it back, which for the byte-level BPE tokenizers qtk reads is its content.
// Implemented in bpe_vocab.cc and bpe_pre_hashes.cc.
#ifndef QTK_CONVERT_BPE_VOCAB_H_
#define QTK_CONVERT_BPE_VOCAB_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "qtk/base/status.h"
#include "qtk/convert/architecture.h"
#include "qtk/convert/sentencepiece.h"

namespace qtk {

// The text convert_hf_to_gguf.py encodes to identify a pre-tokenizer (chktxt).
std::string_view BpeCheckText();

// SHA-256 (hex) of Python's str() of the id list: "[1, 2, 3]" (chkhsh).
std::string BpeCheckHash(std::span<const int32_t> ids);

// get_vocab_base_pre's table, then qtk synth's made-up vocabularies: the tokenizer.ggml.pre
// name of a chkhsh; nullopt if unknown.
std::optional<std::string_view> BpePreTokenizerName(std::string_view chkhsh);

// The tokenizer.* metadata for a model directory's tokenizer.json (`sources.tokenizer_json`
// must be set; `sources.config_json` is ignored, the config's own text is used).
// `vocab_pre` (--vocab-pre) names the pre-tokenizer instead of the check.
// Errors: Unsupported for an unknown chkhsh without `vocab_pre` (the message has the hash)
// and for tokenizers qtk's encoder refuses; Corruption for malformed files and for a
// vocab_size smaller than the largest id.
Result<ModelMetadata> BuildBpeTokenizerMetadata(const HfModelConfig& config, VocabSources sources,
                                                const std::optional<std::string>& vocab_pre);

}  // namespace qtk

#endif  // QTK_CONVERT_BPE_VOCAB_H_
