// `qtk synth`'s made-up byte-level BPE tokenizers: tokenizer.json and tokenizer_config.json
// laid out as Llama 3's and Qwen2/Qwen3's are (the same keys, pre-tokenizer regexes,
// post-processors and special tokens), over a small generated vocabulary.
#include "synth/synth_bpe.h"

#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "qtk/synth/synth.h"

namespace qtk {
namespace {

using OrderedJson = nlohmann::ordered_json;

// The families' pre-tokenizer Split regexes, as their tokenizer.json files have them (Llama 3
// groups digits by three, Qwen2 takes them one by one): convert_hf_to_gguf.py's "llama-bpe"
// and "qwen2".
constexpr std::string_view kLlama3SplitRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2SplitRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The first special tokens of Llama 3.1 and of Qwen2/Qwen3, in their order, after the
// regular pieces.
constexpr std::string_view kLlama3Specials[] = {"<|begin_of_text|>",
                                                "<|end_of_text|>",
                                                "<|reserved_special_token_0|>",
                                                "<|reserved_special_token_1|>",
                                                "<|finetune_right_pad_id|>",
                                                "<|reserved_special_token_2|>",
                                                "<|start_header_id|>",
                                                "<|end_header_id|>",
                                                "<|eom_id|>",
                                                "<|eot_id|>",
                                                "<|python_tag|>"};
constexpr std::string_view kQwenSpecials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

// Qwen's embedding has rows no token uses (151669 tokens, 151936 rows); so do these.
constexpr int64_t kQwenUnusedIds = 8;

// Chat templates in the families' formats (Llama 3's headers, Qwen's ChatML), minimal.
constexpr std::string_view kLlama3ChatTemplate =
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}";
constexpr std::string_view kQwenChatTemplate =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}";

// Merged pieces are made of these, most frequent in English first.
constexpr std::string_view kLetters = "etaoinshrdlcumwfgypbvkjxqz";

bool IsLlama3(const SynthShape& s) { return s.arch == SynthArch::kLlama3; }

std::span<const std::string_view> FamilySpecialTokens(const SynthShape& s) {
  if (IsLlama3(s)) return kLlama3Specials;
  return kQwenSpecials;
}

// Ids [0, FirstSpecialId) are the regular pieces, then come the special tokens.
int64_t FirstSpecialId(const SynthShape& s) {
  const auto n_special = static_cast<int64_t>(FamilySpecialTokens(s).size());
  return s.vocab_size - n_special - (IsLlama3(s) ? 0 : kQwenUnusedIds);
}

// UTF-8 of a code point below U+0800 (all the byte-level alphabet needs).
std::string Utf8(uint32_t code_point) {
  if (code_point < 0x80) return std::string(1, static_cast<char>(code_point));
  return {static_cast<char>(0xC0 | (code_point >> 6)),
          static_cast<char>(0x80 | (code_point & 0x3F))};
}

// GPT-2's bytes_to_unicode, in vocabulary order: the printable Latin-1 bytes stand for
// themselves and come first; the others stand for U+0100 onwards, in byte order ("Ġ" is the
// space). Real vocabularies give these 256 characters ids 0-255 in this order.
std::vector<std::string> ByteLevelAlphabet() {
  const auto printable = [](int b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  std::vector<std::string> alphabet;
  for (int b = 0; b < 256; ++b) {
    if (printable(b)) alphabet.push_back(Utf8(static_cast<uint32_t>(b)));
  }
  uint32_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    if (!printable(b)) alphabet.push_back(Utf8(next++));
  }
  return alphabet;
}

struct Merge {
  std::string left;
  std::string right;
};

// `n` merges over letters: every word of length 1, then 2, ..., in letter-frequency order,
// first after a space ("Ġ" + word) and then bare (a bare letter is already a byte); each
// merge joins a piece made before it with the word's last letter ("Ġth" = "Ġt" + "h").
std::vector<Merge> GeneratedMerges(int64_t n) {
  const std::string space = Utf8(0x120);
  std::vector<Merge> merges;
  const auto full = [&merges, n] { return static_cast<int64_t>(merges.size()) >= n; };
  for (size_t length = 1; !full(); ++length) {
    std::vector<size_t> digits(length, 0);
    for (bool more = true; more && !full();) {
      std::string word;
      for (size_t d : digits) word += kLetters[d];
      const std::string stem = word.substr(0, length - 1);
      const std::string last = word.substr(length - 1);
      merges.push_back({space + stem, last});
      if (length > 1 && !full()) merges.push_back({stem, last});
      more = false;
      for (size_t i = length; i-- > 0;) {  // the next word of this length
        if (++digits[i] < kLetters.size()) {
          more = true;
          break;
        }
        digits[i] = 0;
      }
    }
  }
  return merges;
}

OrderedJson ByteLevelStep(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

OrderedJson PreTokenizer(const SynthShape& s) {
  const OrderedJson split = {
      {"type", "Split"},
      {"pattern", {{"Regex", IsLlama3(s) ? kLlama3SplitRegex : kQwen2SplitRegex}}},
      {"behavior", "Isolated"},
      {"invert", false}};
  return {{"type", "Sequence"},
          {"pretokenizers", {split, ByteLevelStep(false, IsLlama3(s), false)}}};
}

// Llama 3 puts <|begin_of_text|> before every sequence; Qwen adds nothing.
OrderedJson PostProcessor(const SynthShape& s) {
  if (!IsLlama3(s)) return ByteLevelStep(false, false, false);
  const std::string_view bos = kLlama3Specials[0];
  const auto special = [bos](int type_id) {
    return OrderedJson{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}};
  };
  const auto sequence = [](std::string_view id, int type_id) {
    return OrderedJson{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
  };
  OrderedJson special_tokens;
  special_tokens[std::string(bos)] = {
      {"id", bos}, {"ids", {SynthSpecialTokenId(s, bos)}}, {"tokens", {bos}}};
  const OrderedJson templates = {
      {"type", "TemplateProcessing"},
      {"single", {special(0), sequence("A", 0)}},
      {"pair", {special(0), sequence("A", 0), special(1), sequence("B", 1)}},
      {"special_tokens", special_tokens}};
  return {{"type", "Sequence"}, {"processors", {ByteLevelStep(true, false, true), templates}}};
}

OrderedJson Model(const SynthShape& s) {
  const std::vector<std::string> alphabet = ByteLevelAlphabet();
  const std::vector<Merge> merges =
      GeneratedMerges(FirstSpecialId(s) - static_cast<int64_t>(alphabet.size()));
  // Appended in id order without ordered_json's per-key search (32000 pieces for 1b).
  OrderedJson vocab = OrderedJson::object();
  auto& pieces = vocab.get_ref<OrderedJson::object_t&>();
  pieces.reserve(alphabet.size() + merges.size());
  for (const std::string& piece : alphabet) pieces.emplace_back(piece, pieces.size());
  for (const Merge& merge : merges) pieces.emplace_back(merge.left + merge.right, pieces.size());
  // Llama 3 writes merges as "a b", Qwen as ["a", "b"] (tokenizers >= 0.20).
  OrderedJson merge_list = OrderedJson::array();
  for (const Merge& merge : merges) {
    if (IsLlama3(s)) {
      merge_list.push_back(merge.left + " " + merge.right);
    } else {
      merge_list.push_back({merge.left, merge.right});
    }
  }
  const OrderedJson affix = IsLlama3(s) ? OrderedJson(nullptr) : OrderedJson("");
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", affix},
          {"end_of_word_suffix", affix},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", IsLlama3(s)},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merge_list)}};
}

}  // namespace

int32_t SynthSpecialTokenId(const SynthShape& shape, std::string_view content) {
  const std::span<const std::string_view> specials = FamilySpecialTokens(shape);
  for (size_t i = 0; i < specials.size(); ++i) {
    if (specials[i] == content) {
      return static_cast<int32_t>(FirstSpecialId(shape) + static_cast<int64_t>(i));
    }
  }
  return -1;
}

std::string SynthTokenizerJson(const SynthShape& shape) {
  OrderedJson added = OrderedJson::array();
  for (std::string_view content : FamilySpecialTokens(shape)) {
    added.push_back({{"id", SynthSpecialTokenId(shape, content)},
                     {"content", content},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  OrderedJson tokenizer;
  tokenizer["version"] = "1.0";
  tokenizer["truncation"] = nullptr;
  tokenizer["padding"] = nullptr;
  tokenizer["added_tokens"] = std::move(added);
  tokenizer["normalizer"] = IsLlama3(shape) ? OrderedJson(nullptr) : OrderedJson{{"type", "NFC"}};
  tokenizer["pre_tokenizer"] = PreTokenizer(shape);
  tokenizer["post_processor"] = PostProcessor(shape);
  tokenizer["decoder"] =
      IsLlama3(shape) ? ByteLevelStep(true, true, true) : ByteLevelStep(false, false, false);
  tokenizer["model"] = Model(shape);
  return tokenizer.dump(2);
}

std::string SynthTokenizerConfigJson(const SynthShape& shape) {
  nlohmann::json config;  // keys sorted, as transformers writes them
  for (std::string_view content : FamilySpecialTokens(shape)) {
    config["added_tokens_decoder"][std::to_string(SynthSpecialTokenId(shape, content))] = {
        {"content", content}, {"lstrip", false},      {"normalized", false},
        {"rstrip", false},    {"single_word", false}, {"special", true}};
  }
  config["model_max_length"] = shape.context_length;
  if (IsLlama3(shape)) {
    config["bos_token"] = "<|begin_of_text|>";
    config["eos_token"] = "<|eot_id|>";
    config["chat_template"] = kLlama3ChatTemplate;
    config["clean_up_tokenization_spaces"] = true;
    config["model_input_names"] = {"input_ids", "attention_mask"};
    config["tokenizer_class"] = "PreTrainedTokenizerFast";
  } else {
    config["add_bos_token"] = false;
    config["add_prefix_space"] = false;
    config["additional_special_tokens"] = {"<|im_start|>", "<|im_end|>"};
    config["bos_token"] = nullptr;
    config["eos_token"] = "<|im_end|>";
    config["pad_token"] = "<|endoftext|>";
    config["unk_token"] = nullptr;
    config["chat_template"] = kQwenChatTemplate;
    config["clean_up_tokenization_spaces"] = false;
    config["errors"] = "replace";
    config["split_special_tokens"] = false;
    config["tokenizer_class"] = "Qwen2Tokenizer";
  }
  return config.dump(2) + "\n";
}

}  // namespace qtk
