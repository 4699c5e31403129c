#include "format/gguf_split.h"

#include <charconv>
#include <cstdio>
#include <unordered_set>

#include "base/string_util.h"

namespace qtk {
namespace {

std::optional<uint64_t> UintValue(const GgufFile& file, std::string_view key) {
  const GgufValue* value = file.FindValue(key);
  if (value == nullptr) return std::nullopt;
  return value->AsUint();
}

bool ParseDigits(std::string_view text, size_t* value) {
  if (text.size() != 5) return false;
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && ptr == text.data() + text.size();
}

Status CheckSplit(const GgufFile& file, size_t index, size_t count) {
  const std::optional<uint64_t> number = UintValue(file, kSplitNoKey);
  const std::optional<uint64_t> total = UintValue(file, kSplitCountKey);
  if (!number || !total) {
    return Status::Corruption(file.path() + ": split " + std::to_string(index + 1) + " of " +
                              std::to_string(count) + " has no split.no/split.count metadata");
  }
  if (*total != count) {
    return Status::Corruption(file.path() + ": split.count is " + std::to_string(*total) +
                              ", the first split says " + std::to_string(count));
  }
  if (*number != index) {
    return Status::Corruption(file.path() + ": split.no is " + std::to_string(*number) +
                              ", its name says " + std::to_string(index));
  }
  return Status::Ok();
}

}  // namespace

std::string SplitPath(std::string_view prefix, size_t index, size_t count) {
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "-%05zu-of-%05zu.gguf", index + 1, count);
  return std::string(prefix) + suffix;
}

std::optional<SplitName> ParseSplitPath(std::string_view path) {
  // "-00001-of-00003.gguf" is 20 characters.
  if (path.size() < 20 || path.substr(path.size() - 5) != ".gguf") return std::nullopt;
  const std::string_view tail = path.substr(path.size() - 20);
  if (tail[0] != '-' || tail.substr(6, 4) != "-of-") return std::nullopt;
  SplitName name;
  if (!ParseDigits(tail.substr(1, 5), &name.index) ||
      !ParseDigits(tail.substr(10, 5), &name.count) || name.index == 0 || name.index > name.count) {
    return std::nullopt;
  }
  --name.index;
  name.prefix = std::string(path.substr(0, path.size() - 20));
  return name;
}

Result<std::vector<GgufFile>> OpenGgufSplits(GgufFile file) {
  std::vector<GgufFile> files;
  const std::optional<uint64_t> count = UintValue(file, kSplitCountKey);
  if (!count || *count <= 1) {
    files.push_back(std::move(file));
    return files;
  }
  const std::optional<SplitName> name = ParseSplitPath(file.path());
  if (!name || name->count != *count) {
    return Status::Corruption(file.path() + ": split.count is " + std::to_string(*count) +
                              ", but the name is not <prefix>-0000i-of-" + std::to_string(*count) +
                              ".gguf, so the other splits cannot be found");
  }
  uint64_t n_tensors = 0;
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < *count; ++i) {
    GgufFile split;
    if (i == name->index) {
      split = std::move(file);
    } else {
      const std::string path = SplitPath(name->prefix, i, *count);
      Result<GgufFile> read = ReadGgufFile(path);
      if (!read.ok()) return read.status();
      split = std::move(read).value();
    }
    QTK_RETURN_IF_ERROR(CheckSplit(split, i, *count));
    for (const GgufTensorInfo& info : split.tensors()) {
      if (!names.insert(info.name).second) {
        return Status::Corruption(split.path() + ": tensor '" + Printable(info.name) +
                                  "' is also in an earlier split");
      }
    }
    n_tensors += split.tensors().size();
    files.push_back(std::move(split));
  }
  const std::optional<uint64_t> expected = UintValue(files[0], kSplitTensorsCountKey);
  if (expected && *expected != n_tensors) {
    return Status::Corruption(files[0].path() + ": split.tensors.count is " +
                              std::to_string(*expected) + ", the splits hold " +
                              std::to_string(n_tensors));
  }
  return files;
}

}  // namespace qtk
