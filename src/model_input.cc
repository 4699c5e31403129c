// OpenModelInput: decides what kind of input a path is.
#include <cstring>
#include <filesystem>

#include "qtk/byte_source.h"
#include "qtk/model_input.h"

namespace qtk {

Result<std::unique_ptr<ModelInput>> OpenModelInput(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    QTK_ASSIGN_OR_RETURN(std::shared_ptr<const ByteSource> source, MapFile(path));
    const auto bytes = source->bytes();
    if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) {
      QTK_ASSIGN_OR_RETURN(GgufFile file, ParseGguf(std::move(source)));
      return MakeSplitGgufInput(std::move(file));
    }
  }
  return OpenSafetensorsInput(path);
}

}  // namespace qtk
