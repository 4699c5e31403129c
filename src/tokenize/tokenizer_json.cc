// ParseTokenizerJson: tokenizer.json into TokenizerData, refusing what the encoder does not
// implement so that a tokenizer is either exact or not built.
#include <nlohmann/json.hpp>

#include "tokenize/byte_level.h"
#include "tokenize/tokenizer_data.h"

namespace qtk {
namespace {

using Json = nlohmann::json;

// Messages read "<path>: <field>: <problem>".
class TokenizerJsonParser {
 public:
  explicit TokenizerJsonParser(std::string_view path) : path_(path) {}

  Result<std::unique_ptr<TokenizerData>> Parse(std::string_view text) {
    Json root;
    try {
      root = Json::parse(text);
    } catch (const Json::parse_error& error) {
      return Status::Corruption(path_ + ": offset " + std::to_string(error.byte) +
                                ": not valid json");
    }
    if (!root.is_object()) return Status::Corruption(path_ + ": top level is not an object");
    data_ = std::make_unique<TokenizerData>();
    bpe_ = &std::get<ByteLevelBpe>(data_->encoder);
    QTK_RETURN_IF_ERROR(ParseModel(Field(root, "model")));
    QTK_RETURN_IF_ERROR(ParseAddedTokens(Field(root, "added_tokens")));
    QTK_RETURN_IF_ERROR(ParseNormalizer(Field(root, "normalizer"), "normalizer"));
    QTK_RETURN_IF_ERROR(ParsePreTokenizer(Field(root, "pre_tokenizer"), "pre_tokenizer"));
    QTK_RETURN_IF_ERROR(ParsePostProcessor(Field(root, "post_processor"), "post_processor"));
    return std::move(data_);
  }

 private:
  static const Json& Field(const Json& object, const char* key) {
    static const Json kNull;
    if (!object.is_object()) return kNull;
    auto it = object.find(key);
    return it == object.end() ? kNull : *it;
  }

  Status Wrong(std::string_view field, std::string_view expected) const {
    return Status::Corruption(path_ + ": " + std::string(field) + ": expected " +
                              std::string(expected));
  }
  Status NotImplemented(std::string_view field, const Json& value) const {
    return Status::Unsupported(path_ + ": " + std::string(field) + ": " + value.dump() +
                               " is not supported");
  }
  // A boolean that may be absent (then `fallback`).
  Result<bool> Flag(const Json& object, const char* key, std::string_view field, bool fallback) {
    const Json& value = Field(object, key);
    if (value.is_null()) return fallback;
    if (!value.is_boolean()) return Wrong(std::string(field) + "." + key, "true or false");
    return value.get<bool>();
  }
  // A string field that must be absent, null or empty (a feature this encoder leaves out).
  Status MustBeEmpty(const Json& object, const char* key, std::string_view field) {
    const Json& value = Field(object, key);
    if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) {
      return Status::Ok();
    }
    return NotImplemented(std::string(field) + "." + key, value);
  }

  Status ParseModel(const Json& model) {
    if (!model.is_object()) return Wrong("model", "an object");
    const Json& type = Field(model, "type");
    if (type != "BPE") return NotImplemented("model.type", type);
    QTK_RETURN_IF_ERROR(MustBeEmpty(model, "continuing_subword_prefix", "model"));
    QTK_RETURN_IF_ERROR(MustBeEmpty(model, "end_of_word_suffix", "model"));
    QTK_RETURN_IF_ERROR(MustBeEmpty(model, "unk_token", "model"));
    if (!Field(model, "dropout").is_null()) {
      return NotImplemented("model.dropout", Field(model, "dropout"));
    }
    QTK_ASSIGN_OR_RETURN(bool byte_fallback, Flag(model, "byte_fallback", "model", false));
    if (byte_fallback) return NotImplemented("model.byte_fallback", true);
    QTK_ASSIGN_OR_RETURN(bool ignore_merges, Flag(model, "ignore_merges", "model", false));
    bpe_->model.set_ignore_merges(ignore_merges);
    const Json& vocab = Field(model, "vocab");
    if (!vocab.is_object()) return Wrong("model.vocab", "an object of piece: id");
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
          it.value().get<int64_t>() > INT32_MAX) {
        return Wrong("model.vocab['" + it.key() + "']", "an id from 0 to 2^31-1");
      }
      if (!bpe_->model.AddPiece(it.key(), it.value().get<int32_t>())) {
        return Status::Corruption(path_ + ": model.vocab['" + it.key() + "']: id " +
                                  std::to_string(it.value().get<int32_t>()) + " is taken twice");
      }
    }
    const Json& merges = Field(model, "merges");
    if (!merges.is_array()) return Wrong("model.merges", "an array");
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      const Json& merge = merges[rank];
      std::string left, right;
      const std::string field = "model.merges[" + std::to_string(rank) + "]";
      if (merge.is_string()) {  // "a b"
        const std::string text = merge.get<std::string>();
        const size_t space = text.find(' ');
        if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
          return Wrong(field, "two pieces separated by one space");
        }
        left = text.substr(0, space);
        right = text.substr(space + 1);
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
                 merge[1].is_string()) {  // ["a", "b"]
        left = merge[0].get<std::string>();
        right = merge[1].get<std::string>();
      } else {
        return Wrong(field, "\"a b\" or [\"a\", \"b\"]");
      }
      Status added = bpe_->model.AddMerge(left, right, static_cast<int32_t>(rank));
      if (!added.ok()) return Status::Corruption(path_ + ": " + field + ": " + added.message());
    }
    return Status::Ok();
  }

  Status ParseAddedTokens(const Json& tokens) {
    if (tokens.is_null()) return Status::Ok();
    if (!tokens.is_array()) return Wrong("added_tokens", "an array");
    for (size_t i = 0; i < tokens.size(); ++i) {
      const Json& token = tokens[i];
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      const Json& id = Field(token, "id");
      const Json& content = Field(token, "content");
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
        return Wrong(field + ".id", "an id from 0 to 2^31-1");
      }
      if (!content.is_string() || content.get<std::string>().empty()) {
        return Wrong(field + ".content", "a non-empty string");
      }
      for (const char* unsupported : {"lstrip", "rstrip", "single_word"}) {
        QTK_ASSIGN_OR_RETURN(bool set, Flag(token, unsupported, field, false));
        if (set) return NotImplemented(field + "." + unsupported, true);
      }
      AddedToken added;
      added.content = content.get<std::string>();
      added.id = id.get<int32_t>();
      QTK_ASSIGN_OR_RETURN(added.special, Flag(token, "special", field, false));
      QTK_ASSIGN_OR_RETURN(added.normalized, Flag(token, "normalized", field, !added.special));
      const std::string_view known = bpe_->model.Piece(added.id);
      if (known.empty()) {
        if (!bpe_->model.AddPiece(added.content, added.id)) {
          return Status::Corruption(path_ + ": " + field + ": '" + added.content +
                                    "' is already in the vocabulary under another id");
        }
      } else if (known != added.content) {
        return Status::Corruption(path_ + ": " + field + ": id " + std::to_string(added.id) +
                                  " is '" + std::string(known) + "' in the vocabulary");
      }
      data_->added.push_back(std::move(added));
    }
    IndexAddedTokens(*data_);
    return Status::Ok();
  }

  Status ParseNormalizer(const Json& normalizer, const std::string& field) {
    if (normalizer.is_null()) return Status::Ok();
    const Json& type = Field(normalizer, "type");
    if (type == "NFC") {
      if (bpe_->normalizer != NormalizerKind::kNone) return NotImplemented(field, normalizer);
      bpe_->normalizer = NormalizerKind::kNfc;
      return Status::Ok();
    }
    if (type == "Sequence") {
      const Json& steps = Field(normalizer, "normalizers");
      if (!steps.is_array()) return Wrong(field + ".normalizers", "an array");
      for (size_t i = 0; i < steps.size(); ++i) {
        QTK_RETURN_IF_ERROR(
            ParseNormalizer(steps[i], field + ".normalizers[" + std::to_string(i) + "]"));
      }
      return Status::Ok();
    }
    return NotImplemented(field, normalizer);
  }

  Status ParsePreTokenizer(const Json& pre, const std::string& field) {
    if (pre.is_null()) return Status::Ok();
    const Json& type = Field(pre, "type");
    if (type == "Sequence") {
      const Json& steps = Field(pre, "pretokenizers");
      if (!steps.is_array()) return Wrong(field + ".pretokenizers", "an array");
      for (size_t i = 0; i < steps.size(); ++i) {
        QTK_RETURN_IF_ERROR(
            ParsePreTokenizer(steps[i], field + ".pretokenizers[" + std::to_string(i) + "]"));
      }
      return Status::Ok();
    }
    PreTokenizerStep step;
    if (type == "Split") {
      const Json& behavior = Field(pre, "behavior");
      if (behavior != "Isolated") return NotImplemented(field + ".behavior", behavior);
      QTK_ASSIGN_OR_RETURN(bool invert, Flag(pre, "invert", field, false));
      if (invert) return NotImplemented(field + ".invert", true);
      const Json& pattern = Field(Field(pre, "pattern"), "Regex");
      if (!pattern.is_string()) return NotImplemented(field + ".pattern", Field(pre, "pattern"));
      step.kind = PreTokenizerStep::Kind::kSplit;
      Result<std::unique_ptr<RegexSplitter>> regex =
          RegexSplitter::Compile(pattern.get<std::string>());
      if (!regex.ok())
        return Status::Corruption(path_ + ": " + field + ": " + regex.status().message());
      step.regex = std::move(regex).value();
    } else if (type == "ByteLevel") {
      step.kind = PreTokenizerStep::Kind::kByteLevel;
      QTK_ASSIGN_OR_RETURN(step.add_prefix_space, Flag(pre, "add_prefix_space", field, true));
      QTK_ASSIGN_OR_RETURN(bool use_regex, Flag(pre, "use_regex", field, true));
      if (use_regex) {
        QTK_ASSIGN_OR_RETURN(step.regex, RegexSplitter::Compile(kGpt2SplitRegex));
      }
    } else {
      return NotImplemented(field, pre);
    }
    bpe_->pre_tokenizer.push_back(std::move(step));
    return Status::Ok();
  }

  Status ParsePostProcessor(const Json& post, const std::string& field) {
    if (post.is_null()) return Status::Ok();
    const Json& type = Field(post, "type");
    if (type == "ByteLevel") return Status::Ok();  // offsets only
    if (type == "Sequence") {
      const Json& steps = Field(post, "processors");
      if (!steps.is_array()) return Wrong(field + ".processors", "an array");
      for (size_t i = 0; i < steps.size(); ++i) {
        QTK_RETURN_IF_ERROR(
            ParsePostProcessor(steps[i], field + ".processors[" + std::to_string(i) + "]"));
      }
      return Status::Ok();
    }
    if (type != "TemplateProcessing") return NotImplemented(field, post);
    const Json& single = Field(post, "single");
    if (!single.is_array()) return Wrong(field + ".single", "an array");
    bool seen_sequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
      const std::string item = field + ".single[" + std::to_string(i) + "]";
      if (Field(single[i], "Sequence").is_object()) {
        if (seen_sequence) return Wrong(item, "one sequence only");
        seen_sequence = true;
        continue;
      }
      const Json& name = Field(Field(single[i], "SpecialToken"), "id");
      if (!name.is_string()) return Wrong(item, "a SpecialToken or a Sequence");
      const Json& ids =
          Field(Field(Field(post, "special_tokens"), name.get<std::string>().c_str()), "ids");
      if (!ids.is_array()) return Wrong(item, "a special token listed in special_tokens");
      for (const Json& id : ids) {
        if (!id.is_number_integer()) return Wrong(item, "integer ids");
        (seen_sequence ? data_->special_suffix : data_->special_prefix)
            .push_back(id.get<int32_t>());
      }
    }
    return Status::Ok();
  }

  std::string path_;
  std::unique_ptr<TokenizerData> data_;
  ByteLevelBpe* bpe_ = nullptr;  // data_'s encoder
};

}  // namespace

Result<std::unique_ptr<TokenizerData>> ParseTokenizerJson(std::string_view text,
                                                          std::string_view path) {
  return TokenizerJsonParser(path).Parse(text);
}

}  // namespace qtk
