// A safetensors checkpoint: one file, or an index and its shards checked against each other.
#include <filesystem>
#include <unordered_map>

#include "base/byte_cursor.h"
#include "base/string_util.h"
#include "qtk/format/safetensors.h"

namespace qtk {

std::optional<SafetensorsCheckpoint::TensorRef> SafetensorsCheckpoint::FindTensor(
    std::string_view name) const {
  for (size_t shard = 0; shard < shards_.size(); ++shard) {
    const SafetensorsTensorInfo* info = shards_[shard].FindTensor(name);
    if (info != nullptr) {
      return TensorRef{shard, static_cast<size_t>(info - shards_[shard].tensors().data())};
    }
  }
  return std::nullopt;
}

// Friend of SafetensorsCheckpoint: opens the shards and checks them against the index.
class CheckpointBuilder {
 public:
  SafetensorsCheckpoint FromFile(std::string path, SafetensorsFile file) {
    checkpoint_.path_ = std::move(path);
    checkpoint_.shards_.push_back(std::move(file));
    ListTensors();
    return std::move(checkpoint_);
  }

  Result<SafetensorsCheckpoint> FromIndex(SafetensorsIndex index,
                                          const SafetensorsShardOpener& open_shard) {
    checkpoint_.path_ = index.path;
    checkpoint_.index_ = std::move(index);
    QTK_RETURN_IF_ERROR(OpenShards(open_shard));
    QTK_RETURN_IF_ERROR(CheckNoDuplicates());
    QTK_RETURN_IF_ERROR(CheckIndexEntriesExist());
    QTK_RETURN_IF_ERROR(CheckShardTensorsListed());
    ListTensors();
    return std::move(checkpoint_);
  }

 private:
  const SafetensorsIndex& index() const { return *checkpoint_.index_; }

  const SafetensorsIndex::Entry& FirstEntryFor(const std::string& file) const {
    for (const SafetensorsIndex::Entry& entry : index().weight_map) {
      if (entry.file == file) return entry;
    }
    return index().weight_map.front();  // unreachable: every file comes from an entry
  }

  Status OpenShards(const SafetensorsShardOpener& open_shard) {
    for (const std::string& file : index().files) {
      Result<std::shared_ptr<const ByteSource>> source = open_shard(file);
      if (!source.ok()) return ShardError(file, source.status());
      QTK_ASSIGN_OR_RETURN(SafetensorsFile shard, ParseSafetensors(std::move(source).value()));
      checkpoint_.shards_.push_back(std::move(shard));
      shard_by_file_.emplace(file, checkpoint_.shards_.size() - 1);
    }
    return Status::Ok();
  }

  // Where the index names the shard, and why it cannot be used. The opener's message names
  // the shard's path; NotFound stays NotFound.
  Status ShardError(const std::string& file, const Status& error) const {
    const SafetensorsIndex::Entry& entry = FirstEntryFor(file);
    const bool missing = error.code() == Status::Code::kNotFound;
    const std::string problem =
        missing ? "does not exist" : "cannot be read (" + error.message() + ")";
    const Status status =
        CorruptionAt(index().path, entry.offset, "weight_map '" + Printable(entry.tensor) + "'",
                     "shard '" + Printable(file) + "' " + problem);
    return missing ? Status::NotFound(status.message()) : status;
  }

  Status CheckNoDuplicates() {
    std::unordered_map<std::string_view, size_t> first_shard;
    for (size_t s = 0; s < checkpoint_.shards_.size(); ++s) {
      for (const SafetensorsTensorInfo& info : checkpoint_.shards_[s].tensors()) {
        auto [it, inserted] = first_shard.emplace(info.name, s);
        if (inserted) continue;
        return CorruptionAt(checkpoint_.shards_[s].path(), info.key_offset,
                            "tensor '" + Printable(info.name) + "'",
                            "also in shard '" + Printable(index().files[it->second]) +
                                "' (tensor names must be unique across shards)");
      }
    }
    return Status::Ok();
  }

  Status CheckIndexEntriesExist() {
    for (const SafetensorsIndex::Entry& entry : index().weight_map) {
      const SafetensorsFile& shard = checkpoint_.shards_[shard_by_file_.at(entry.file)];
      if (shard.FindTensor(entry.tensor) == nullptr) {
        return CorruptionAt(index().path, entry.offset,
                            "weight_map '" + Printable(entry.tensor) + "'",
                            "tensor is not in shard '" + Printable(entry.file) + "'");
      }
    }
    return Status::Ok();
  }

  Status CheckShardTensorsListed() {
    std::unordered_map<std::string_view, std::string_view> file_of;
    for (const SafetensorsIndex::Entry& entry : index().weight_map) {
      file_of.emplace(entry.tensor, entry.file);
    }
    for (size_t s = 0; s < checkpoint_.shards_.size(); ++s) {
      const SafetensorsFile& shard = checkpoint_.shards_[s];
      for (const SafetensorsTensorInfo& info : shard.tensors()) {
        auto it = file_of.find(info.name);
        const std::string subject = "tensor '" + Printable(info.name) + "'";
        if (it == file_of.end()) {
          return CorruptionAt(shard.path(), info.key_offset, subject,
                              "not listed in the index's weight_map");
        }
        if (it->second != index().files[s]) {
          return CorruptionAt(shard.path(), info.key_offset, subject,
                              "the index puts it in shard '" + Printable(it->second) + "'");
        }
      }
    }
    return Status::Ok();
  }

  void ListTensors() {
    for (size_t s = 0; s < checkpoint_.shards_.size(); ++s) {
      for (size_t t = 0; t < checkpoint_.shards_[s].tensors().size(); ++t) {
        checkpoint_.tensors_.push_back({s, t});
      }
    }
  }

  SafetensorsCheckpoint checkpoint_;
  std::unordered_map<std::string, size_t> shard_by_file_;
};

SafetensorsCheckpoint SingleFileCheckpoint(SafetensorsFile file) {
  std::string path = file.path();
  return CheckpointBuilder().FromFile(std::move(path), std::move(file));
}

Result<SafetensorsCheckpoint> AssembleSafetensorsCheckpoint(
    SafetensorsIndex index, const SafetensorsShardOpener& open_shard) {
  return CheckpointBuilder().FromIndex(std::move(index), open_shard);
}

Result<SafetensorsCheckpoint> OpenSafetensorsCheckpoint(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
    QTK_ASSIGN_OR_RETURN(SafetensorsIndex index, ParseSafetensorsIndex(std::move(source)));
    const std::filesystem::path directory = std::filesystem::path(path).parent_path();
    return AssembleSafetensorsCheckpoint(std::move(index), [&directory](const std::string& file) {
      return MapFile((directory / file).string());
    });
  }
  QTK_ASSIGN_OR_RETURN(SafetensorsFile file, ReadSafetensorsFile(path));
  return SingleFileCheckpoint(std::move(file));
}

}  // namespace qtk
