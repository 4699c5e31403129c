// GGUF v3 writing, in spec order (see qtk/format/gguf.h for the layout).
#include "qtk/format/gguf_writer.h"

#include <limits>
#include <unordered_set>

#include "base/string_util.h"

namespace qtk {
namespace {

uint64_t AlignUp(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

class HeaderBuilder {
 public:
  template <typename T>
  void Put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void PutRaw(std::span<const uint8_t> raw) { bytes_.insert(bytes_.end(), raw.begin(), raw.end()); }
  void PutValue(const GgufValue& value) {
    Put<uint32_t>(static_cast<uint32_t>(value.type()));
    if (value.type() == GgufValueType::kString) {
      PutString(*value.AsString());
    } else if (value.is_array()) {
      Put<uint32_t>(static_cast<uint32_t>(value.element_type()));
      Put<uint64_t>(value.array_size());
      if (value.element_type() == GgufValueType::kString) {
        for (const std::string& s : value.strings()) PutString(s);
      } else {
        PutRaw(value.raw());
      }
    } else {
      PutRaw(value.raw());
    }
  }
  void PadTo(uint64_t alignment) { bytes_.resize(AlignUp(bytes_.size(), alignment), 0); }
  std::vector<uint8_t> Take() { return std::move(bytes_); }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

uint64_t StringBytes(const std::string& s) { return 8 + s.size(); }

uint64_t ValueBytes(const GgufValue& value) {
  uint64_t n = 4;
  if (value.type() == GgufValueType::kString) return n + StringBytes(*value.AsString());
  if (!value.is_array()) return n + value.raw().size();
  n += 4 + 8;
  if (value.element_type() != GgufValueType::kString) return n + value.raw().size();
  for (const std::string& s : value.strings()) n += StringBytes(s);
  return n;
}

Result<uint64_t> AlignmentOf(const std::vector<GgufKeyValue>& metadata) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key != "general.alignment") continue;
    if (kv.value.type() != GgufValueType::kUint32) {
      return Status::InvalidArgument("general.alignment must be a u32");
    }
    const uint64_t alignment = *kv.value.AsUint();
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
      return Status::InvalidArgument("general.alignment is " + std::to_string(alignment) +
                                     ", must be a power of two");
    }
    return alignment;
  }
  return kGgufDefaultAlignment;
}

Status CheckTensor(const GgufTensorInfo& info) {
  const std::string subject = "tensor '" + Printable(info.name) + "'";
  if (info.name.size() > kGgufMaxNameBytes) {
    return Status::InvalidArgument(subject + ": name is " + std::to_string(info.name.size()) +
                                   " bytes, max is " + std::to_string(kGgufMaxNameBytes));
  }
  if (info.shape.size() > kGgufMaxDims) {
    return Status::InvalidArgument(subject + ": n_dims is " + std::to_string(info.shape.size()) +
                                   ", max is " + std::to_string(kGgufMaxDims));
  }
  int64_t n_elements = 1;
  for (int64_t d : info.shape) {
    if (d < 0) return Status::InvalidArgument(subject + ": negative dimension");
    // n_elements() below would overflow (undefined behaviour) without this check.
    if (d != 0 && n_elements > std::numeric_limits<int64_t>::max() / d) {
      return Status::InvalidArgument(subject + ": element count overflows int64");
    }
    n_elements *= d;
  }
  if (FindGgmlType(static_cast<uint32_t>(info.type)) == nullptr) {
    return Status::InvalidArgument(subject + ": unknown ggml type id " +
                                   std::to_string(static_cast<uint32_t>(info.type)));
  }
  const int64_t block = GgmlBlockSize(info.type);
  if (info.row_length() % block != 0) {
    return Status::InvalidArgument(subject + ": row length " + std::to_string(info.row_length()) +
                                   " is not a multiple of " + std::string(GgmlTypeName(info.type)) +
                                   "'s block size " + std::to_string(block));
  }
  const auto n_blocks = static_cast<uint64_t>(n_elements / block);
  if (n_blocks > (uint64_t{1} << 62) / static_cast<uint64_t>(GgmlTypeSize(info.type))) {
    return Status::InvalidArgument(subject + ": byte size exceeds 2^62");
  }
  return Status::Ok();
}

}  // namespace

Result<GgufLayout> LayOutGguf(const std::vector<GgufKeyValue>& metadata,
                              std::vector<GgufTensorInfo> tensors) {
  GgufLayout layout;
  QTK_ASSIGN_OR_RETURN(layout.alignment, AlignmentOf(metadata));
  std::unordered_set<std::string_view> keys;
  uint64_t header = 4 + 4 + 8 + 8;
  for (const GgufKeyValue& kv : metadata) {
    if (!keys.insert(kv.key).second) {
      return Status::InvalidArgument("duplicate metadata key '" + Printable(kv.key) + "'");
    }
    header += StringBytes(kv.key) + ValueBytes(kv.value);
  }
  std::unordered_set<std::string_view> names;
  uint64_t offset = 0;
  for (GgufTensorInfo& info : tensors) {
    QTK_RETURN_IF_ERROR(CheckTensor(info));
    if (!names.insert(info.name).second) {
      return Status::InvalidArgument("duplicate tensor name '" + Printable(info.name) + "'");
    }
    info.n_bytes = GgmlRowBytes(info.type, info.n_elements());
    info.offset = offset;
    offset = AlignUp(offset + info.n_bytes, layout.alignment);
    header += StringBytes(info.name) + 4 + 8 * info.shape.size() + 4 + 8;
  }
  layout.header_bytes = AlignUp(header, layout.alignment);
  layout.data_bytes = offset;
  layout.tensors = std::move(tensors);
  return layout;
}

std::vector<uint8_t> SerializeGgufHeader(const std::vector<GgufKeyValue>& metadata,
                                         const GgufLayout& layout) {
  HeaderBuilder out;
  out.PutRaw(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("GGUF"), 4));
  out.Put<uint32_t>(kGgufVersion);
  out.Put<int64_t>(static_cast<int64_t>(layout.tensors.size()));
  out.Put<int64_t>(static_cast<int64_t>(metadata.size()));
  for (const GgufKeyValue& kv : metadata) {
    out.PutString(kv.key);
    out.PutValue(kv.value);
  }
  for (const GgufTensorInfo& info : layout.tensors) {
    out.PutString(info.name);
    out.Put<uint32_t>(static_cast<uint32_t>(info.shape.size()));
    for (int64_t d : info.shape) out.Put<int64_t>(d);
    out.Put<uint32_t>(static_cast<uint32_t>(info.type));
    out.Put<uint64_t>(info.offset);
  }
  out.PadTo(layout.alignment);
  return out.Take();
}

Result<GgufWriter> GgufWriter::Start(ByteSink& sink, const std::vector<GgufKeyValue>& metadata,
                                     std::vector<GgufTensorInfo> tensors) {
  QTK_ASSIGN_OR_RETURN(GgufLayout layout, LayOutGguf(metadata, std::move(tensors)));
  const std::vector<uint8_t> header = SerializeGgufHeader(metadata, layout);
  QTK_RETURN_IF_ERROR(sink.Write(header));
  return GgufWriter(sink, std::move(layout));
}

const GgufTensorInfo* GgufWriter::next_tensor() const {
  for (size_t i = 0; i < written_.size(); ++i) {
    if (!written_[i]) return &layout_.tensors[i];
  }
  return nullptr;
}

Status GgufWriter::WriteTensor(std::span<const uint8_t> data) {
  const GgufTensorInfo* info = next_tensor();
  if (info == nullptr) return Status::InvalidArgument("gguf writer: every tensor is written");
  return WriteTensorAt(static_cast<size_t>(info - layout_.tensors.data()), data);
}

Status GgufWriter::WriteTensorAt(size_t index, std::span<const uint8_t> data) {
  if (index >= layout_.tensors.size() || written_[index]) {
    return Status::InvalidArgument("gguf writer: tensor " + std::to_string(index) +
                                   " does not exist or is already written");
  }
  const GgufTensorInfo& info = layout_.tensors[index];
  if (data.size() != info.n_bytes) {
    return Status::InvalidArgument("gguf writer: tensor '" + Printable(info.name) + "' has " +
                                   std::to_string(data.size()) + " bytes, expected " +
                                   std::to_string(info.n_bytes));
  }
  uint64_t offset = layout_.header_bytes + info.offset;
  QTK_RETURN_IF_ERROR(sink_->WriteAt(offset, data));
  offset += info.n_bytes;
  static constexpr uint8_t kZeros[256] = {};
  uint64_t padding = AlignUp(info.n_bytes, layout_.alignment) - info.n_bytes;
  while (padding > 0) {
    const uint64_t n = std::min<uint64_t>(padding, sizeof(kZeros));
    QTK_RETURN_IF_ERROR(sink_->WriteAt(offset, std::span<const uint8_t>(kZeros, n)));
    offset += n;
    padding -= n;
  }
  written_[index] = true;
  ++n_written_;
  return Status::Ok();
}

Status GgufWriter::Finish() {
  if (const GgufTensorInfo* info = next_tensor()) {
    return Status::InvalidArgument("gguf writer: tensor '" + Printable(info->name) +
                                   "' was never written");
  }
  return sink_->Commit();
}

Status CopyGguf(const GgufFile& file, ByteSink& sink) {
  QTK_ASSIGN_OR_RETURN(GgufWriter writer, GgufWriter::Start(sink, file.metadata(), file.tensors()));
  for (const GgufTensorInfo& info : file.tensors()) {
    QTK_RETURN_IF_ERROR(writer.WriteTensor(file.TensorData(info)));
  }
  return writer.Finish();
}

}  // namespace qtk
