// Tokenizer::Encode, for both kinds, in the order of tokenizer.h.
#include "qtk/tokenize/tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "base/string_util.h"
#include "tokenize/byte_level.h"
#include "tokenize/tokenizer_data.h"

namespace qtk {
namespace {

// A stretch of text, or an added token found in it (id >= 0).
struct Segment {
  std::string_view text;
  int32_t id = -1;
};

// Cuts the added tokens with normalized == `normalized` out of `text`, leftmost-longest.
std::vector<Segment> SplitAddedTokens(std::string_view text, const TokenizerData& data,
                                      bool normalized) {
  std::vector<Segment> segments;
  size_t rest = 0;
  for (size_t at = 0; at < text.size(); ++at) {
    for (uint32_t index : data.added_by_first_byte[static_cast<unsigned char>(text[at])]) {
      const AddedToken& token = data.added[index];  // longest first
      if (token.normalized != normalized) continue;
      if (text.compare(at, token.content.size(), token.content) != 0) continue;
      if (at > rest) segments.push_back({text.substr(rest, at - rest)});
      segments.push_back({text.substr(at, token.content.size()), token.id});
      rest = at + token.content.size();
      at = rest - 1;
      break;
    }
  }
  if (rest < text.size()) segments.push_back({text.substr(rest)});
  return segments;
}

// NFC of text that may hold NUL bytes (utf8proc reads NUL-terminated strings): each NUL stays
// as it is and the stretches between are composed (composition never crosses a NUL).
std::string Normalize(std::string_view text, NormalizerKind kind) {
  if (kind == NormalizerKind::kNone) return std::string(text);
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t nul = std::min(text.find('\0', start), text.size());
    const std::string stretch(text.substr(start, nul - start));  // NUL-terminated by c_str()
    utf8proc_uint8_t* nfc =
        utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(stretch.c_str()));
    if (nfc == nullptr) {
      out += stretch;
    } else {
      out += reinterpret_cast<const char*>(nfc);
      std::free(nfc);
    }
    if (nul < text.size()) out.push_back('\0');
    start = nul + 1;
  }
  return out;
}

// The pre-tokenizer's pieces of one normalized stretch.
std::vector<std::string> PreTokenize(std::string_view text,
                                     const std::vector<PreTokenizerStep>& steps) {
  std::vector<std::string> pieces = {std::string(text)};
  for (const PreTokenizerStep& step : steps) {
    std::vector<std::string> next;
    for (std::string& piece : pieces) {
      if (step.kind == PreTokenizerStep::Kind::kByteLevel && step.add_prefix_space &&
          !piece.starts_with(' ')) {
        piece.insert(piece.begin(), ' ');
      }
      std::vector<std::string_view> parts = {piece};
      if (step.regex) parts = step.regex->SplitIsolated(piece);
      for (std::string_view part : parts) {
        next.push_back(step.kind == PreTokenizerStep::Kind::kByteLevel ? ToByteLevel(part)
                                                                       : std::string(part));
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

// Byte-level BPE: added tokens, normalization, pre-tokenization, BPE.
Status EncodeByteLevel(std::string_view text, const TokenizerData& data, const ByteLevelBpe& bpe,
                       std::vector<int32_t>& ids) {
  for (const Segment& raw : SplitAddedTokens(text, data, /*normalized=*/false)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    const std::string normalized = Normalize(raw.text, bpe.normalizer);
    for (const Segment& segment : SplitAddedTokens(normalized, data, /*normalized=*/true)) {
      if (segment.id >= 0) {
        ids.push_back(segment.id);
        continue;
      }
      for (const std::string& piece : PreTokenize(segment.text, bpe.pre_tokenizer)) {
        QTK_RETURN_IF_ERROR(bpe.model.Encode(piece, ids));
      }
    }
  }
  return Status::Ok();
}

// SentencePiece: added tokens, then each stretch with the dummy prefix where llama.cpp puts
// it (at the start and after an added token).
void EncodeSentencePiece(std::string_view text, const TokenizerData& data,
                         const SentencePieceBpe& spm, std::vector<int32_t>& ids) {
  bool after_token = true;
  for (const Segment& segment : SplitAddedTokens(text, data, /*normalized=*/false)) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      after_token = true;
      continue;
    }
    spm.model.Encode(segment.text, spm.dummy_prefix && after_token, ids);
    after_token = false;
  }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<TokenizerData> data) : data_(std::move(data)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::FromJson(std::string_view text, std::string_view path) {
  QTK_ASSIGN_OR_RETURN(std::unique_ptr<TokenizerData> data, ParseTokenizerJson(text, path));
  return Tokenizer(std::move(data));
}

Result<Tokenizer> Tokenizer::FromSentencePiece(const SentencePieceModel& model,
                                               const SentencePieceOptions& options,
                                               std::string_view path) {
  QTK_ASSIGN_OR_RETURN(std::unique_ptr<TokenizerData> data,
                       SentencePieceData(model, options, path));
  return Tokenizer(std::move(data));
}

Result<Tokenizer> Tokenizer::FromGguf(const GgufFile& file) {
  QTK_ASSIGN_OR_RETURN(std::unique_ptr<TokenizerData> data, GgufTokenizerData(file));
  return Tokenizer(std::move(data));
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, bool add_special) const {
  if (!IsValidUtf8(text)) {
    return Status::InvalidArgument("text is not valid utf-8 (byte " +
                                   std::to_string(FirstInvalidUtf8(text)) + ")");
  }
  std::vector<int32_t> ids;
  if (add_special) ids = data_->special_prefix;
  if (const auto* spm = std::get_if<SentencePieceBpe>(&data_->encoder)) {
    EncodeSentencePiece(text, *data_, *spm, ids);
  } else {
    QTK_RETURN_IF_ERROR(EncodeByteLevel(text, *data_, std::get<ByteLevelBpe>(data_->encoder), ids));
  }
  if (add_special)
    ids.insert(ids.end(), data_->special_suffix.begin(), data_->special_suffix.end());
  return ids;
}

std::string_view Tokenizer::Piece(int32_t id) const {
  return std::visit([id](const auto& encoder) { return encoder.model.Piece(id); }, data_->encoder);
}

int64_t Tokenizer::n_ids() const {
  return std::visit([](const auto& encoder) { return encoder.model.n_ids(); }, data_->encoder);
}

int64_t Tokenizer::n_pieces() const {
  return std::visit([](const auto& encoder) { return encoder.model.n_pieces(); }, data_->encoder);
}

std::vector<TokenizerAddedToken> Tokenizer::AddedTokens() const {
  std::vector<TokenizerAddedToken> tokens;
  tokens.reserve(data_->added.size());
  for (const AddedToken& token : data_->added) {
    tokens.push_back({token.content, token.id, token.special, token.normalized});
  }
  std::sort(tokens.begin(), tokens.end(),
            [](const TokenizerAddedToken& a, const TokenizerAddedToken& b) { return a.id < b.id; });
  return tokens;
}

std::optional<AddedToken> AddedTokenOf(std::string_view piece, int32_t id, int32_t type) {
  const auto kind = static_cast<PieceType>(type);
  if (kind != PieceType::kUnknown && kind != PieceType::kControl &&
      kind != PieceType::kUserDefined) {
    return std::nullopt;
  }
  return AddedToken{std::string(piece), id, kind != PieceType::kUserDefined,
                    /*normalized=*/false};
}

void IndexAddedTokens(TokenizerData& data) {
  // Longest first: the split takes the longest of the tokens that start at a position.
  std::stable_sort(
      data.added.begin(), data.added.end(),
      [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  for (auto& list : data.added_by_first_byte) list.clear();
  for (size_t i = 0; i < data.added.size(); ++i) {
    const auto first = static_cast<unsigned char>(data.added[i].content[0]);
    data.added_by_first_byte[first].push_back(static_cast<uint32_t>(i));
  }
}

}  // namespace qtk
