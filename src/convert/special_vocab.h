// gguf.SpecialVocab: the special token ids, add_*_token flags, chat template and BPE merges
// that convert_hf_to_gguf.py takes from a model directory's small JSON files (internal; the
// SentencePiece and the BPE vocabularies both use it).
//
// In the script's order: tokenizer.json (merges; the post-processor's TemplateProcessing or
// RobertaProcessing, which set add_bos/add_eos/add_sep and may turn a trailing EOS into EOT),
// then tokenizer_config.json (chat_template, else chat_template.jinja; add_<type>_token; each
// <type>_token's content looked up among tokenizer.json's added_tokens), then config.json's
// <type>_token_id (also under text_config). The first id found for a type wins; ids are kept
// in the order they were found, and written in that order.
#ifndef QTK_CONVERT_SPECIAL_VOCAB_H_
#define QTK_CONVERT_SPECIAL_VOCAB_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/convert/sentencepiece.h"
#include "qtk/format/gguf.h"

namespace qtk {

struct SpecialVocabResult {
  SpecialTokens special;
  std::vector<std::string> merges;  // "a b", spaces inside a part written as U+0120
  std::vector<std::string> warnings;
};

// TextModel.does_token_look_special: added tokens some models forget to mark special
// ("<|...|>", "<｜...｜>", "<unused...>", "<pad>", "<mask>", "<2mass>", "[@BOS@]").
bool DoesTokenLookSpecial(std::string_view token);

// A user-defined added token as the script writes it: each U+2581 ("▁") a space.
std::string PreNormalizeSpaces(std::string token);

// `load_merges`: read tokenizer.json's model.merges (the BPE path). `n_vocab`: ids at or above
// it are skipped with a warning (the SentencePiece path passes the vocabulary size; the BPE
// path passes none, as the script does).
// Errors: Corruption for malformed JSON, a merges list of an unknown form, a negative id;
// Unsupported for a list of named chat templates or a lowercasing normalizer.
Result<SpecialVocabResult> LoadSpecialVocab(const VocabSources& sources, bool load_merges,
                                            std::optional<size_t> n_vocab);

// SpecialVocab.add_to_gguf: tokenizer.ggml.merges (if any), the special token ids, the
// add_*_token flags, tokenizer.chat_template; types without a GGUF key are left out (and were
// warned about by LoadSpecialVocab).
std::vector<GgufKeyValue> SpecialVocabMetadata(const SpecialTokens& special,
                                               const std::vector<std::string>& merges = {});

}  // namespace qtk

#endif  // QTK_CONVERT_SPECIAL_VOCAB_H_
