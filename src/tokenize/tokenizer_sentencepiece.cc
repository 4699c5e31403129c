// SentencePiece tokenizers: from a vocabulary by id (shared with tokenizer_gguf.cc), and from
// a tokenizer.model.
#include <cmath>
#include <limits>
#include <optional>

#include "base/string_util.h"
#include "tokenize/tokenizer_data.h"

namespace qtk {
namespace {

constexpr int32_t kModelTypeBpe = 2;

const char* ModelTypeName(int32_t type) {
  switch (type) {
    case 1:
      return "UNIGRAM";
    case 2:
      return "BPE";
    case 3:
      return "WORD";
    case 4:
      return "CHAR";
    default:
      return "unknown";
  }
}

// What llama.cpp's SPM tokenizer does not do, and SentencePiece (hence LlamaTokenizer) would:
// with any of these, the two disagree and neither answer would be "the" ids.
Status CheckEncodable(const SentencePieceModel& model, std::string_view path) {
  const std::string where(path);
  if (model.trainer_spec.model_type != kModelTypeBpe) {
    return Status::Unsupported(
        where + ": trainer_spec.model_type is " + std::to_string(model.trainer_spec.model_type) +
        " (" + ModelTypeName(model.trainer_spec.model_type) + "): only BPE models are encoded");
  }
  const SentencePieceNormalizerSpec& spec = model.normalizer_spec;
  if (spec.name != "identity") {
    return Status::Unsupported(where + ": normalizer_spec.name is '" + Printable(spec.name) +
                               "': only 'identity' is encoded (llama.cpp normalizes nothing)");
  }
  if (spec.remove_extra_whitespaces) {
    return Status::Unsupported(where +
                               ": normalizer_spec.remove_extra_whitespaces is true: not encoded "
                               "(llama.cpp keeps every space)");
  }
  if (!spec.escape_whitespaces) {
    return Status::Unsupported(where +
                               ": normalizer_spec.escape_whitespaces is false: not encoded "
                               "(llama.cpp always writes spaces as U+2581)");
  }
  return Status::Ok();
}

// The id of trainer_spec's `name` (bos_id, eos_id) as a piece to add.
Result<int32_t> SpecialPiece(int32_t id, size_t n_pieces, std::string_view name,
                             std::string_view flag, std::string_view path) {
  if (id < 0 || static_cast<size_t>(id) >= n_pieces) {
    return Status::Corruption(std::string(path) + ": trainer_spec." + std::string(name) + " is " +
                              std::to_string(id) + ", not one of the " + std::to_string(n_pieces) +
                              " pieces, but " + std::string(flag) + " is true");
  }
  return id;
}

}  // namespace

Result<std::unique_ptr<TokenizerData>> BuildSentencePieceData(const SpmVocabView& vocab,
                                                              std::string_view where) {
  if (vocab.pieces.empty()) return Status::Corruption(std::string(where) + ": no pieces");
  if (vocab.pieces.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      vocab.unknown_id < 0 || static_cast<size_t>(vocab.unknown_id) >= vocab.pieces.size()) {
    return Status::Corruption(std::string(where) + ": the unknown piece " +
                              std::to_string(vocab.unknown_id) + " is not one of " +
                              std::to_string(vocab.pieces.size()));
  }
  auto data = std::make_unique<TokenizerData>();
  SentencePieceBpe& spm = data->encoder.emplace<SentencePieceBpe>();
  spm.dummy_prefix = vocab.dummy_prefix;
  for (size_t id = 0; id < vocab.pieces.size(); ++id) {
    const std::string& piece = vocab.pieces[id];
    const float score = id < vocab.scores.size() ? vocab.scores[id] : 0.0f;
    auto error = [&](const std::string& problem) {
      return Status::Corruption(std::string(where) + "[" + std::to_string(id) + "]: " + problem);
    };
    if (std::isnan(score)) return error("score is NaN");
    if (const std::optional<int32_t> earlier = spm.model.IdOf(piece)) {
      return error("'" + Printable(piece) + "' is also piece " + std::to_string(*earlier));
    }
    spm.model.AddPiece(piece, score);
    const int32_t type = id < vocab.types.size() ? vocab.types[id] : 1;
    if (auto added = AddedTokenOf(piece, static_cast<int32_t>(id), type)) {
      data->added.push_back(std::move(*added));
    }
  }
  spm.model.set_unknown_id(vocab.unknown_id);
  if (vocab.bos) data->special_prefix.push_back(*vocab.bos);
  if (vocab.eos) data->special_suffix.push_back(*vocab.eos);
  IndexAddedTokens(*data);
  return data;
}

Result<std::unique_ptr<TokenizerData>> SentencePieceData(const SentencePieceModel& model,
                                                         const SentencePieceOptions& options,
                                                         std::string_view path) {
  QTK_RETURN_IF_ERROR(CheckEncodable(model, path));
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t> types;
  SpmVocabView vocab;
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    const SentencePiece& piece = model.pieces[i];
    pieces.push_back(piece.piece);
    scores.push_back(piece.score);
    types.push_back(static_cast<int32_t>(piece.type));
    // The parser checked there is exactly one; SentencePiece uses it, not trainer_spec.unk_id.
    if (piece.type == PieceType::kUnknown) vocab.unknown_id = static_cast<int32_t>(i);
  }
  vocab.pieces = pieces;
  vocab.scores = scores;
  vocab.types = types;
  vocab.dummy_prefix = model.normalizer_spec.add_dummy_prefix;
  const SentencePieceTrainerSpec& trainer = model.trainer_spec;
  if (options.add_bos) {
    QTK_ASSIGN_OR_RETURN(
        vocab.bos, SpecialPiece(trainer.bos_id, pieces.size(), "bos_id", "add_bos_token", path));
  }
  if (options.add_eos) {
    QTK_ASSIGN_OR_RETURN(
        vocab.eos, SpecialPiece(trainer.eos_id, pieces.size(), "eos_id", "add_eos_token", path));
  }
  return BuildSentencePieceData(vocab, std::string(path) + ": pieces");
}

}  // namespace qtk
