// OpenModelInput and ModelInputFrom: which ModelInput a model source becomes.
#include "qtk/model/model_input.h"

#include <filesystem>

#include "model/hf_input.h"
#include "qtk/model/model_source.h"

namespace qtk {

Result<std::unique_ptr<ModelInput>> OpenModelInput(const std::string& path,
                                                   const ModelInputOptions& options) {
  QTK_ASSIGN_OR_RETURN(ModelSource source, OpenModel(path));
  return ModelInputFrom(std::move(source), options);
}

Result<std::unique_ptr<ModelInput>> ModelInputFrom(ModelSource source,
                                                   const ModelInputOptions& options) {
  if (source.format() == ModelFormat::kGguf) {
    return MakeSplitGgufInput(std::move(source).TakeGguf());
  }
  const HfModelDirectory* directory = source.hf_directory();
  if (directory != nullptr &&
      std::filesystem::exists(std::filesystem::path(source.path()) / "config.json")) {
    return ConvertHfDirectory(std::move(source), options);
  }
  return MakeSafetensorsInput(std::move(source));
}

}  // namespace qtk
