// gguf.SpecialVocab, step by step as vocab.py runs it.
#include "convert/special_vocab.h"

#include <algorithm>

#include "base/json_util.h"
#include "base/string_util.h"

namespace qtk {
namespace {

// The GGUF writer has an add_add_<type>_token handler for these.
constexpr std::string_view kAddFlagTypes[] = {"bos", "eos", "sep"};

bool HasAddFlagKey(std::string_view type) {
  return std::find(std::begin(kAddFlagTypes), std::end(kAddFlagTypes), type) !=
         std::end(kAddFlagTypes);
}

// Python truthiness of a JSON value (None, "", {}, [], 0 and false are false).
bool Truthy(const Json* value) {
  if (value == nullptr || value->is_null()) return false;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_string() || value->is_object() || value->is_array()) return !value->empty();
  if (value->is_number_integer()) return value->get<int64_t>() != 0;
  if (value->is_number()) return value->get<double>() != 0.0;
  return true;
}

// dict.get(key) for an object (nullptr when absent; null stays null).
const Json* Get(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

// element.get('SpecialToken', {}).get('id') / .get('Sequence', {}).get('id').
Json EntryId(const Json& element, std::string_view kind) {
  const Json* inner = Get(element, kind);
  if (inner == nullptr) return Json();
  const Json* id = Get(*inner, "id");
  return id == nullptr ? Json() : *id;
}

bool In(const Json& value, std::initializer_list<const Json*> candidates) {
  for (const Json* candidate : candidates) {
    if (value == (candidate == nullptr ? Json() : *candidate)) return true;
  }
  return false;
}

std::string Repr(const Json& value) {
  return value.is_string() ? "'" + Printable(value.get<std::string>()) + "'" : value.dump();
}

class Loader {
 public:
  Loader(const VocabSources& sources, std::optional<size_t> n_vocab, SpecialVocabResult& out)
      : sources_(sources), n_vocab_(n_vocab), out_(out) {}

  Status Run(bool load_merges) {
    QTK_RETURN_IF_ERROR(FromTokenizerJson(load_merges));
    QTK_RETURN_IF_ERROR(FromConfigJson());
    if (load_merges && out_.merges.empty()) {
      out_.warnings.push_back(
          "Adding merges requested but no merges found, output may be "
          "non-functional.");
    }
    WarnUnwritable();
    return Status::Ok();
  }

 private:
  // What SpecialVocab.add_to_gguf will skip: types GGUF has no key or handler for.
  void WarnUnwritable() {
    for (const auto& [type, id] : out_.special.ids) {
      if (SpecialTokenIdKey(type).empty()) {
        out_.warnings.push_back("No handler for special token type " + type + " with id " +
                                std::to_string(id) + " - skipping");
      }
    }
    for (const auto& [type, add] : out_.special.add_flags) {
      if (!HasAddFlagKey(type)) {
        out_.warnings.push_back("No handler for add_" + type + "_token with value " +
                                (add ? "True" : "False") + " - skipping");
      }
    }
  }

  // _set_special_token.
  // `what` names where the id came from in messages ("bos_token_id").
  Status SetSpecialToken(std::string_view type, const Json* id, std::string_view path,
                         const std::string& what) {
    if (id == nullptr) return Status::Ok();
    const std::optional<int64_t> value = PythonInt(*id);
    if (!value) return Status::Ok();
    if (*value < 0) {
      return Status::Corruption(std::string(path) + ": " + what + " is " + std::to_string(*value) +
                                ", must be >= 0");
    }
    if (!n_vocab_ || static_cast<uint64_t>(*value) < *n_vocab_) {
      auto& ids = out_.special.ids;
      if (std::none_of(ids.begin(), ids.end(), [type](const auto& e) { return e.first == type; })) {
        ids.emplace_back(std::string(type), static_cast<uint32_t>(*value));
      }
      return Status::Ok();
    }
    out_.warnings.push_back("Special token type " + std::string(type) + ", id " +
                            std::to_string(*value) + " out of range, must be under " +
                            std::to_string(*n_vocab_) + " - skipping");
    return Status::Ok();
  }

  void SetAddFlag(std::string_view type, bool add) {
    for (auto& [name, value] : out_.special.add_flags) {
      if (name == type) {
        value = add;
        return;
      }
    }
    out_.special.add_flags.emplace_back(std::string(type), add);
  }

  // `tokenizer` is unordered: a vocabulary of 150,000 keys in an ordered_json object would
  // take quadratic time to parse.
  Status LoadMerges(const nlohmann::json& tokenizer) {
    auto model = tokenizer.find("model");
    if (model == tokenizer.end() || !model->is_object()) return Status::Ok();
    auto merges_it = model->find("merges");
    if (merges_it == model->end()) return Status::Ok();
    const nlohmann::json* merges = &*merges_it;
    if (!merges->is_array() || merges->empty()) return Status::Ok();
    const nlohmann::json& first = (*merges)[0];
    const std::string& path = sources_.tokenizer_json_path;
    out_.merges.reserve(merges->size());
    if (first.is_string()) {
      for (size_t i = 0; i < merges->size(); ++i) {
        const nlohmann::json& merge = (*merges)[i];
        if (!merge.is_string()) {
          return Status::Corruption(path + ": model.merges[" + std::to_string(i) +
                                    "]: expected a string");
        }
        out_.merges.push_back(merge.get<std::string>());
      }
      return Status::Ok();
    }
    if (!(first.is_array() && first.size() == 2 && first[0].is_string())) {
      return Status::Corruption(path + ": model.merges: unknown tokenizer merges format");
    }
    bool spaces = false;
    for (size_t i = 0; i < merges->size(); ++i) {
      const nlohmann::json& pair = (*merges)[i];
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return Status::Corruption(path + ": model.merges[" + std::to_string(i) +
                                  "]: expected a pair of strings");
      }
      std::string joined;
      for (size_t part = 0; part < 2; ++part) {
        if (part == 1) joined += ' ';
        for (char c : pair[part].get_ref<const std::string&>()) {
          if (c == ' ') {
            joined += "\xC4\xA0";  // chr(ord(' ') + 256): U+0120
            spaces = true;
          } else {
            joined += c;
          }
        }
      }
      out_.merges.push_back(std::move(joined));
    }
    if (spaces) out_.warnings.push_back("Spaces in merges detected, encoding as 'Ġ'");
    return Status::Ok();
  }

  Status CheckNormalizer(const Json& normalizer) {
    const Json* type = Get(normalizer, "type");
    if (type == nullptr || !type->is_string()) return Status::Ok();
    const std::string& name = type->get_ref<const std::string&>();
    const Json* lowercase = Get(normalizer, "lowercase");
    if (name == "Lowercase" ||
        (name == "BertNormalizer" && (lowercase == nullptr || Truthy(lowercase)))) {
      return Status::Unsupported(sources_.tokenizer_json_path +
                                 ": normalizer: lowercasing vocabularies are not supported");
    }
    if (name == "Sequence") {
      if (const Json* list = Get(normalizer, "normalizers"); list != nullptr && list->is_array()) {
        for (const Json& inner : *list) QTK_RETURN_IF_ERROR(CheckNormalizer(inner));
      }
    }
    return Status::Ok();
  }

  // The TemplateProcessing branch: which special tokens the post-processor adds.
  void TemplateProcessing(const Json& processor) {
    const Json* single_json = Get(processor, "single");
    const Json* pair_json = Get(processor, "pair");
    const Json single =
        single_json != nullptr && single_json->is_array() ? *single_json : Json::array();
    Json pair = pair_json != nullptr && pair_json->is_array() ? *pair_json : Json::array();
    Json special_first;
    Json special_last;
    if (single.size() > 1) {
      special_first = EntryId(single.front(), "SpecialToken");
      if (Truthy(&special_first)) {
        if (!Truthy(&config_)) bos_ = special_first;
        const bool known = In(special_first, {&bos_, &cls_});
        SetAddFlag("bos", known);
        if (!known) {
          out_.warnings.push_back("Unknown leading special token " + Repr(special_first) +
                                  " in TemplateProcessing<single>");
        }
      }
      special_last = EntryId(single.back(), "SpecialToken");
      if (Truthy(&special_last)) {
        if (!Truthy(&config_)) {
          eos_ = special_last;
        } else if (special_last != eos_) {
          if (std::find(types_.begin(), types_.end(), "eot") == types_.end()) {
            types_.push_back("eot");
            config_["eot_token"] = eos_;
          } else if (std::find(types_.begin(), types_.end(), "eom") == types_.end()) {
            types_.push_back("eom");
            config_["eom_token"] = eos_;
          } else {
            out_.warnings.push_back("Overriding EOS token " + Repr(eos_) + " with " +
                                    Repr(special_last) + " without EOT/EOM fallback!");
          }
          config_["eos_token"] = eos_ = special_last;
        }
        SetAddFlag("eos", special_last == eos_);
      }
    }
    if (pair.empty()) return;
    const bool first = Truthy(&special_first);
    const bool last = Truthy(&special_last);
    const size_t start = first && EntryId(pair.front(), "SpecialToken") == special_first ? 1 : 0;
    const bool stop = last && EntryId(pair.back(), "SpecialToken") == special_last;
    if ((first && start == 0) || (last && !stop)) {
      out_.warnings.push_back(
          "TemplateProcessing<single> leading/trailing special tokens do not match "
          "TemplateProcessing<pair>");
    }
    const size_t end = pair.size() - (stop ? 1 : 0);
    if (start >= end) return;
    const Json middle_all(pair.begin() + static_cast<std::ptrdiff_t>(start),
                          pair.begin() + static_cast<std::ptrdiff_t>(end));
    const Json a = EntryId(middle_all.front(), "Sequence");
    const Json b = EntryId(middle_all.back(), "Sequence");
    if (a != "A" || b != "B") {
      out_.warnings.push_back("Unknown sequence " + Repr(a) + "..." + Repr(b) +
                              " in TemplateProcessing<pair>");
    }
    if (a != "A" || b != "B" || middle_all.size() <= 2) return;
    const Json middle(middle_all.begin() + 1, middle_all.end() - 1);
    bool add_sep = false;
    const Json entry = EntryId(middle[0], "SpecialToken");
    if (Truthy(&entry)) {
      if (In(entry, {&sep_, &eos_}) && !last) add_sep = true;
      if (!In(entry, {&sep_, &eos_})) {
        out_.warnings.push_back("Unknown separator token " + Repr(entry) +
                                " in TemplateProcessing<pair>");
      }
    } else {
      out_.warnings.push_back("Unknown middle sequence in TemplateProcessing<pair>");
    }
    if (middle.size() == 2) {
      const Json second = EntryId(middle[1], "SpecialToken");
      if (Truthy(&second)) {
        if (In(second, {&sep_, &eos_})) add_sep = true;
        if (!In(second, {&sep_, &eos_})) {
          out_.warnings.push_back("Unknown second separator token " + Repr(second) +
                                  " in TemplateProcessing<pair>");
        }
      } else {
        out_.warnings.push_back("Unknown second middle sequence in TemplateProcessing<pair>");
      }
    }
    SetAddFlag("sep", add_sep);
    if (add_sep && !Truthy(&sep_) && Truthy(&config_)) config_["sep_token"] = eos_;
  }

  void RobertaProcessing(const Json& processor) {
    SetAddFlag("bos", true);
    SetAddFlag("eos", true);
    SetAddFlag("sep", true);
    auto first_or = [&processor](std::string_view key, const Json& fallback) {
      const Json* list = Get(processor, key);
      return list != nullptr && list->is_array() && !list->empty() ? (*list)[0] : fallback;
    };
    if (!Truthy(&cls_) && Truthy(&config_)) config_["cls_token"] = cls_ = first_or("cls", bos_);
    if (!Truthy(&sep_) && Truthy(&config_)) config_["sep_token"] = sep_ = first_or("sep", eos_);
  }

  Status FromTokenizerJson(bool load_merges) {
    Json tokenizer = Json::object();  // its small fields, ordered; vocabulary and merges stay out
    bool have_tokenizer = false;      // the script's `if tokenizer:`: a non-empty object
    if (sources_.tokenizer_json) {
      const nlohmann::json whole =
          nlohmann::json::parse(*sources_.tokenizer_json, nullptr, /*allow_exceptions=*/false);
      if (!whole.is_object()) {
        // The precise complaint (offset, problem) from the checking parser.
        QTK_RETURN_IF_ERROR(
            ParseJsonObject(*sources_.tokenizer_json, sources_.tokenizer_json_path).status());
        return Status::Corruption(sources_.tokenizer_json_path + ": not a JSON object");
      }
      if (load_merges) QTK_RETURN_IF_ERROR(LoadMerges(whole));
      have_tokenizer = !whole.empty();
      for (const char* key : {"normalizer", "added_tokens", "post_processor"}) {
        if (auto it = whole.find(key); it != whole.end()) tokenizer[key] = Json::parse(it->dump());
      }
      if (const Json* normalizer = Get(tokenizer, "normalizer"); Truthy(normalizer)) {
        QTK_RETURN_IF_ERROR(CheckNormalizer(*normalizer));
      }
      if (const Json* added = Get(tokenizer, "added_tokens"); added != nullptr) added_ = *added;
    }
    if (sources_.tokenizer_config_json) {
      QTK_ASSIGN_OR_RETURN(config_, ParseJsonObject(*sources_.tokenizer_config_json,
                                                    sources_.tokenizer_config_path));
    }
    if (have_tokenizer) {
      auto config_value = [this](std::string_view key) {
        const Json* value = Get(config_, key);
        return value == nullptr ? Json() : *value;
      };
      bos_ = config_value("bos_token");
      cls_ = config_value("cls_token");
      eos_ = config_value("eos_token");
      sep_ = config_value("sep_token");
      if (!Truthy(&bos_) && Truthy(&cls_) && Truthy(&config_)) config_["bos_token"] = bos_ = cls_;
      if (!Truthy(&eos_) && Truthy(&sep_) && Truthy(&config_)) config_["eos_token"] = eos_ = sep_;
      if (const Json* post = Get(tokenizer, "post_processor"); Truthy(post)) {
        const Json* processors = Get(*post, "processors");
        const Json list = processors != nullptr ? *processors : Json::array({*post});
        if (list.is_array()) {
          for (const Json& processor : list) {
            const Json* type = Get(processor, "type");
            if (type == nullptr) continue;
            if (*type == "RobertaProcessing") RobertaProcessing(processor);
            if (*type == "TemplateProcessing") TemplateProcessing(processor);
          }
        }
      }
    }
    if (!Truthy(&config_)) return Status::Ok();
    const std::string& path = sources_.tokenizer_config_path;
    Json chat_template;
    if (const Json* value = Get(config_, "chat_template")) {
      chat_template = *value;
    } else if (sources_.chat_template_jinja) {
      chat_template = std::string(*sources_.chat_template_jinja);
    }
    if (chat_template.is_string()) {
      out_.special.chat_template = chat_template.get<std::string>();
    } else if (chat_template.is_array()) {
      return Status::Unsupported(path +
                                 ": chat_template: a list of named templates is not supported");
    } else if (!chat_template.is_null()) {
      out_.warnings.push_back("Bad type for chat_template field in " + path + " - ignoring");
    }
    for (const std::string& type : types_) {
      if (const Json* add = Get(config_, "add_" + type + "_token"); add && add->is_boolean()) {
        SetAddFlag(type, add->get<bool>());
      }
      const Json* entry = Get(config_, type + "_token");
      if (entry == nullptr) continue;
      const Json* content = entry;
      if (entry->is_object()) content = Get(*entry, "content");
      if (content == nullptr || !content->is_string()) continue;
      if (!added_.is_array()) continue;
      for (const Json& token : added_) {
        const Json* token_content = Get(token, "content");
        if (token_content != nullptr && *token_content == *content) {
          QTK_RETURN_IF_ERROR(SetSpecialToken(type, Get(token, "id"), sources_.tokenizer_json_path,
                                              "the id of added token " + Repr(*content)));
          break;
        }
      }
    }
    return Status::Ok();
  }

  Status FromConfigJson() {
    QTK_ASSIGN_OR_RETURN(const Json config,
                         ParseJsonObject(sources_.config_json, sources_.config_path));
    for (const std::string& type : types_) {
      const std::string key = type + "_token_id";
      const Json* id = FindNonNull(config, key);
      if (id == nullptr) {
        if (const Json* text_config = FindNonNull(config, "text_config")) {
          id = FindNonNull(*text_config, key);
        }
      }
      QTK_RETURN_IF_ERROR(SetSpecialToken(type, id, sources_.config_path, key));
    }
    return Status::Ok();
  }

  const VocabSources& sources_;
  std::optional<size_t> n_vocab_;
  SpecialVocabResult& out_;
  std::vector<std::string> types_ = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  Json config_ = Json::object();  // tokenizer_config.json, changed as the script changes it
  Json added_;                    // tokenizer.json's added_tokens
  Json bos_, cls_, eos_, sep_;    // special_bos, ... as the script tracks them
};

}  // namespace

bool DoesTokenLookSpecial(std::string_view token) {
  auto wrapped = [token](std::string_view open, std::string_view close) {
    return token.size() >= open.size() + close.size() && token.starts_with(open) &&
           token.ends_with(close);
  };
  return token == "<pad>" || token == "<mask>" || token == "<2mass>" || token == "[@BOS@]" ||
         wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") ||
         wrapped("<unused", ">");
}

std::string PreNormalizeSpaces(std::string token) {
  constexpr std::string_view kSpace = "\xE2\x96\x81";
  for (size_t at = 0; (at = token.find(kSpace, at)) != std::string::npos; ++at) {
    token.replace(at, kSpace.size(), " ");
  }
  return token;
}

Result<SpecialVocabResult> LoadSpecialVocab(const VocabSources& sources, bool load_merges,
                                            std::optional<size_t> n_vocab) {
  SpecialVocabResult result;
  QTK_RETURN_IF_ERROR(Loader(sources, n_vocab, result).Run(load_merges));
  return result;
}

std::vector<GgufKeyValue> SpecialVocabMetadata(const SpecialTokens& special,
                                               const std::vector<std::string>& merges) {
  std::vector<GgufKeyValue> metadata;
  if (!merges.empty())
    metadata.push_back({"tokenizer.ggml.merges", GgufValue::StringArray(merges)});
  for (const auto& [type, id] : special.ids) {
    const std::string key = SpecialTokenIdKey(type);
    if (!key.empty()) metadata.push_back({key, GgufValue::Uint32(id)});
  }
  for (const auto& [type, add] : special.add_flags) {
    if (HasAddFlagKey(type)) {
      metadata.push_back({"tokenizer.ggml.add_" + type + "_token", GgufValue::Bool(add)});
    }
  }
  if (special.chat_template) {
    metadata.push_back({"tokenizer.chat_template", GgufValue::String(*special.chat_template)});
  }
  return metadata;
}

}  // namespace qtk
