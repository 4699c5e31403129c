// gguf-py's Metadata naming heuristics, step by step as metadata.py runs them.
#include "convert/hf_naming.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>
#include <set>
#include <vector>

namespace qtk {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool FullMatchIgnoreCase(const std::string& text, const char* pattern) {
  return std::regex_match(text, std::regex(pattern, std::regex::ECMAScript | std::regex::icase));
}

bool AllAlpha(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsAlpha(c)) return false;
  }
  return true;
}

// Python str.islower(): some cased character and no upper-case one.
bool IsLowerWord(std::string_view s) {
  bool cased = false;
  for (char c : s) {
    if (IsUpper(c)) return false;
    if (IsAlpha(c)) cased = true;
  }
  return cased;
}

// Python str.title(): a letter is upper-cased after a non-letter, lower-cased after a letter.
std::string Title(std::string_view s) {
  std::string out;
  bool previous_cased = false;
  for (char c : s) {
    out += previous_cased ? ToLower(c) : ToUpper(c);
    previous_cased = IsAlpha(c);
  }
  return out;
}

std::string NormalizeSizeLabel(std::string label) {
  for (char& c : label) {
    if (c == '_') c = '.';
  }
  // bloom-7b1 notation: "7b1" -> "7.1b"
  if (label.size() >= 2 && IsDigit(label.back())) {
    label = label.substr(0, label.size() - 2) + "." + label.back() + label[label.size() - 2];
  }
  if (label.size() > 1 && IsDigit(label[label.size() - 2])) {
    const char last = label.back();
    if (last == 'k' || last == 'm' || last == 'b' || last == 't') label.back() = ToUpper(last);
  }
  return label;
}

// float(label[:-1]) * 1000 ** " KMBT".find(label[-1]); nullopt where Python raises ValueError.
std::optional<double> SizeLabelParams(const std::string& label) {
  if (label.empty()) return std::nullopt;
  const std::string number = label.substr(0, label.size() - 1);
  if (!std::regex_match(number, std::regex(R"(\d+(\.\d*)?|\.\d+)"))) return std::nullopt;
  const double value = std::strtod(number.c_str(), nullptr);
  const size_t scale = std::string_view(" KMBT").find(label.back());
  const double factor = scale == std::string_view::npos ? 0.001 : std::pow(1000.0, scale);
  return value * factor;
}

bool IsActiveParamsLabel(const std::string& label) {
  return FullMatchIgnoreCase(label, R"(A\d+([._]\d+)?[KMBT][\d]?)");
}

using Types = std::set<std::string>;

// The size-label branch of the annotation loop.
void AnnotateSize(std::vector<std::string>& parts, std::vector<Types>& types, size_t i,
                  int64_t total_params) {
  std::string part = NormalizeSizeLabel(parts[i]);
  if (total_params != 0) {
    const std::optional<double> label_params = SizeLabelParams(part);
    const double total = static_cast<double>(total_params);
    const int64_t magnitude = total_params < 0 ? -total_params : total_params;
    if (label_params) {
      bool followed_by_active = false;
      bool raised = false;
      if (i + 1 < parts.size()) {
        const std::string next = NormalizeSizeLabel(parts[i + 1]);
        if (IsActiveParamsLabel(next)) {
          const std::optional<double> active = SizeLabelParams(next.substr(1));
          raised = !active;
          followed_by_active = active && std::fabs(*active - static_cast<double>(magnitude)) <=
                                             static_cast<double>(7 * magnitude / 8);
        }
      }
      const bool too_far =
          (total_params < 0 && *label_params < static_cast<double>(magnitude / 8)) ||
          (total_params > 0 &&
           std::fabs(*label_params - total) > static_cast<double>(7 * total_params / 8));
      if (!raised && !followed_by_active && too_far) {
        types[i].insert("finetune");  // likely a context length: "8k"
        part.back() = ToLower(part.back());
      }
    }
  }
  if (types[i].empty()) types[i].insert("size_label");
  parts[i] = part;
}

void Annotate(std::vector<std::string>& parts, std::vector<Types>& types, int64_t total_params) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (FullMatchIgnoreCase(part, R"((v|iter)?\d+([.]\d+)*)")) {
      types[i].insert("version");
    } else if (FullMatchIgnoreCase(part, R"(i?q\d(_\w)*|b?fp?(16|32))")) {
      types[i].insert("type");
      for (char& c : parts[i]) c = ToUpper(c);
    } else if (i > 0 &&
               FullMatchIgnoreCase(
                   part,
                   R"((([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl))")) {
      AnnotateSize(parts, types, i, total_params);
    } else if (i > 0 && FullMatchIgnoreCase(part, "chat|instruct|vision|lora")) {
      const bool lora = FullMatchIgnoreCase(part, "lora");
      types[i].insert(total_params < 0 && lora ? "type" : "finetune");
    }
  }
}

std::optional<std::string> Join(const std::vector<std::string>& parts,
                                const std::vector<Types>& types, const char* type,
                                const char* excluded = nullptr, bool dedupe = false) {
  std::string out;
  std::set<std::string> seen;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!types[i].contains(type) || (excluded != nullptr && types[i].contains(excluded))) continue;
    if (dedupe && !seen.insert(parts[i]).second) continue;
    if (!out.empty()) out += "-";
    out += parts[i];
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

ModelIdComponents GetModelIdComponents(std::string_view model_id, int64_t total_params) {
  ModelIdComponents result;
  if (model_id.find(' ') != std::string_view::npos) {
    result.full_name = std::string(model_id);  // a human sentence, not an id
    return result;
  }
  std::string_view full = model_id;
  if (const size_t slash = model_id.find('/'); slash != std::string_view::npos) {
    const std::string_view organization = model_id.substr(0, slash);
    full = model_id.substr(slash + 1);
    if (organization.empty() || organization[0] != '.')
      result.organization = std::string(organization);
  }
  result.full_name = std::string(full);

  std::vector<std::string> parts;
  for (size_t start = 0; start <= full.size();) {
    const size_t end = std::min(full.find('-', start), full.size());
    if (end > start) parts.emplace_back(full.substr(start, end - start));
    start = end + 1;
  }
  std::vector<Types> types(parts.size());
  Annotate(parts, types, total_params);

  // Ignore word-based size labels when a number-based one is present.
  bool numeric_size = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!types[i].contains("size_label")) continue;
    for (char c : parts[i]) numeric_size = numeric_size || IsDigit(c);
  }
  if (numeric_size) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if (types[i].contains("size_label") && AllAlpha(parts[i])) types[i].erase("size_label");
    }
  }
  // The basename is the leading run of plain words and versions.
  bool at_start = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (at_start && ((types[i].empty() && IsAlpha(parts[i][0])) || types[i].contains("version"))) {
      types[i].insert("basename");
    } else {
      at_start = false;
      if (types[i].empty()) types[i].insert("finetune");
    }
  }
  for (size_t i = parts.size(); i-- > 0;) {
    if (!types[i].contains("basename") || types[i].size() <= 1) break;
    types[i].erase("basename");
  }
  result.basename = Join(parts, types, "basename");
  result.size_label = Join(parts, types, "size_label", nullptr, /*dedupe=*/true);
  result.finetune = Join(parts, types, "finetune");
  result.version = Join(parts, types, "version", "basename");
  if (!result.size_label && !result.finetune && !result.version) result.basename.reset();
  return result;
}

std::string IdToTitle(std::string_view id) {
  std::string text(id);
  for (char& c : text) {
    if (c == '-') c = ' ';
  }
  static const std::regex kKeep(R"(^(v\d+(?:\.\d+)*|\d.*)$)");
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t begin = text.find_first_not_of(" \t\n\r\f\v", start);
    if (begin == std::string::npos) break;
    const size_t end = std::min(text.find_first_of(" \t\n\r\f\v", begin), text.size());
    const std::string word = text.substr(begin, end - begin);
    if (!out.empty()) out += ' ';
    const bool keep = !IsLowerWord(word) || std::regex_search(word, kKeep);
    out += keep ? word : Title(word);
    start = end;
  }
  return out;
}

std::string SizeLabel(uint64_t total_params) {
  const double n = static_cast<double>(total_params);
  double scaled = n * 1e-3;
  char suffix = 'K';
  if (n > 1e12) {
    scaled = n * 1e-12;
    suffix = 'T';
  } else if (n > 1e9) {
    scaled = n * 1e-9;
    suffix = 'B';
  } else if (n > 1e6) {
    scaled = n * 1e-6;
    suffix = 'M';
  }
  // Python's round() is round-half-even, like nearbyint in the default rounding mode.
  const double rounded = std::nearbyint(scaled);
  std::string digits = std::to_string(static_cast<uint64_t>(rounded));
  digits.erase(0, digits.find_first_not_of('0') == std::string::npos
                      ? digits.size()
                      : digits.find_first_not_of('0'));
  const int fix = std::max(2 - static_cast<int>(digits.size()), 0);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f%c", fix, scaled, suffix);
  return buffer;
}

namespace {

void FillFrom(const ModelIdComponents& c, std::optional<std::string>& name, ModelNaming& naming) {
  if (!name && c.full_name) name = IdToTitle(*c.full_name);
  if (!naming.organization && c.organization) naming.organization = IdToTitle(*c.organization);
  if (!naming.basename && c.basename) naming.basename = c.basename;
  if (!naming.finetune && c.finetune) naming.finetune = c.finetune;
  if (!naming.version && c.version) naming.version = c.version;
  if (!naming.size_label && c.size_label) naming.size_label = c.size_label;
}

}  // namespace

std::string SizeLabel(const ParameterCount& count) {
  if (count.expert_count > 0) {
    return std::to_string(count.expert_count) + "x" + SizeLabel(count.shared + count.expert);
  }
  return SizeLabel(count.total);
}

ModelNaming NameModel(std::optional<std::string_view> name_or_path, std::string_view directory_name,
                      const ParameterCount& count) {
  const uint64_t total_params = count.total;
  ModelNaming naming;
  std::optional<std::string> name;
  const auto total = static_cast<int64_t>(total_params);
  if (name_or_path && std::count(name_or_path->begin(), name_or_path->end(), '/') <= 1) {
    FillFrom(GetModelIdComponents(*name_or_path, total), name, naming);
  }
  FillFrom(GetModelIdComponents(directory_name, total), name, naming);
  naming.name = name.value_or(std::string(directory_name));
  if (!naming.size_label && total_params > 0) naming.size_label = SizeLabel(count);
  return naming;
}

}  // namespace qtk
