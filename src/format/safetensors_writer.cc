// safetensors writing (layout in qtk/format/safetensors_writer.h).
#include "qtk/format/safetensors_writer.h"

#include <array>
#include <map>
#include <unordered_set>

#include "base/json_util.h"
#include "base/string_util.h"
#include "qtk/format/safetensors.h"

namespace qtk {

size_t SafetensorsDtypeSize(std::string_view dtype) {
  const std::optional<SafetensorsDtype> known = SafetensorsDtypeFromName(dtype);
  return known ? static_cast<size_t>(SafetensorsDtypeSize(*known)) : 0;
}

namespace {

Status CheckTensor(const SafetensorsTensorSpec& spec, std::unordered_set<std::string_view>& seen,
                   uint64_t& n_bytes) {
  const std::string subject = "tensor '" + Printable(spec.name) + "'";
  if (spec.name.empty()) return Status::InvalidArgument("safetensors: a tensor name is empty");
  if (spec.name == "__metadata__") {
    return Status::InvalidArgument("safetensors: '__metadata__' is reserved, not a tensor name");
  }
  if (!IsValidUtf8(spec.name)) return Status::InvalidArgument(subject + ": name is not UTF-8");
  if (!seen.insert(spec.name).second) return Status::InvalidArgument(subject + ": duplicate name");
  const size_t element_bytes = SafetensorsDtypeSize(spec.dtype);
  if (element_bytes == 0) {
    return Status::InvalidArgument(subject + ": unknown dtype '" + Printable(spec.dtype) + "'");
  }
  n_bytes = element_bytes;
  for (int64_t dim : spec.shape) {
    if (dim < 0)
      return Status::InvalidArgument(subject + ": negative dimension " + std::to_string(dim));
    const auto d = static_cast<uint64_t>(dim);
    if (d != 0 && n_bytes > UINT64_MAX / d) {
      return Status::InvalidArgument(subject + ": byte size overflows 64 bits");
    }
    n_bytes *= d;
  }
  return Status::Ok();
}

}  // namespace

Result<SafetensorsLayout> LayOutSafetensors(
    const std::vector<SafetensorsTensorSpec>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  SafetensorsLayout layout;
  Json header = Json::object();
  if (!metadata.empty()) {
    Json entries = Json::object();
    for (const auto& [key, value] : metadata) {
      if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
        return Status::InvalidArgument("safetensors: __metadata__ entry is not UTF-8");
      }
      entries[key] = value;
    }
    header["__metadata__"] = std::move(entries);
  }
  std::unordered_set<std::string_view> seen;
  for (const SafetensorsTensorSpec& spec : tensors) {
    uint64_t n_bytes = 0;
    QTK_RETURN_IF_ERROR(CheckTensor(spec, seen, n_bytes));
    if (layout.data_bytes > UINT64_MAX - n_bytes) {
      return Status::InvalidArgument("safetensors: total size overflows 64 bits");
    }
    header[spec.name] = {{"dtype", spec.dtype},
                         {"shape", spec.shape},
                         {"data_offsets", {layout.data_bytes, layout.data_bytes + n_bytes}}};
    layout.data_bytes += n_bytes;
    layout.tensor_bytes.push_back(n_bytes);
  }
  std::string text = header.dump();
  // The data section starts 8-aligned, as the reference writer pads it.
  text.resize((text.size() + 7) / 8 * 8, ' ');
  layout.header.resize(8 + text.size());
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    layout.header[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  std::copy(text.begin(), text.end(), layout.header.begin() + 8);
  return layout;
}

Result<SafetensorsWriter> SafetensorsWriter::Start(
    ByteSink& sink, const std::vector<SafetensorsTensorSpec>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  QTK_ASSIGN_OR_RETURN(SafetensorsLayout layout, LayOutSafetensors(tensors, metadata));
  QTK_RETURN_IF_ERROR(sink.Write(layout.header));
  SafetensorsWriter writer(sink, std::move(layout));
  writer.SkipEmptyTensors();
  return writer;
}

void SafetensorsWriter::SkipEmptyTensors() {
  while (current_ < layout_.tensor_bytes.size() &&
         written_in_current_ == layout_.tensor_bytes[current_]) {
    ++current_;
    written_in_current_ = 0;
  }
}

Status SafetensorsWriter::Write(std::span<const uint8_t> bytes) {
  uint64_t left_in_file = 0;
  for (size_t i = current_; i < layout_.tensor_bytes.size(); ++i)
    left_in_file += layout_.tensor_bytes[i];
  left_in_file -= written_in_current_;
  if (bytes.size() > left_in_file) {
    return Status::InvalidArgument("safetensors: " + std::to_string(bytes.size()) +
                                   " bytes written but only " + std::to_string(left_in_file) +
                                   " are left in the file's tensors");
  }
  QTK_RETURN_IF_ERROR(sink_->Write(bytes));
  uint64_t n = bytes.size();
  while (n > 0) {
    const uint64_t room = layout_.tensor_bytes[current_] - written_in_current_;
    const uint64_t step = std::min(room, n);
    written_in_current_ += step;
    n -= step;
    SkipEmptyTensors();
  }
  return Status::Ok();
}

Status SafetensorsWriter::Finish() {
  if (current_ != layout_.tensor_bytes.size()) {
    return Status::InvalidArgument("safetensors: finished after " + std::to_string(current_) +
                                   " of " + std::to_string(layout_.tensor_bytes.size()) +
                                   " tensors");
  }
  return sink_->Commit();
}

std::string SafetensorsIndexJson(
    uint64_t total_size, const std::vector<std::pair<std::string, std::string>>& weight_map) {
  // nlohmann::json (not ordered_json) keeps object keys sorted, like sort_keys=True.
  nlohmann::json index;
  index["metadata"]["total_size"] = total_size;
  index["weight_map"] = nlohmann::json::object();
  for (const auto& [name, file] : weight_map) index["weight_map"][name] = file;
  return index.dump(2) + "\n";
}

}  // namespace qtk
