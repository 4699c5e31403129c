// SentencePiece BPE encoding of one stretch of text, as llama.cpp's SPM tokenizer
// (llm_tokenizer_spm_session in llama-vocab.cpp) does it (internal).
//
//   1. Every space becomes U+2581 ("▁"); with the dummy prefix, one more "▁" goes first.
//   2. The text is cut into UTF-8 characters. Each adjacent pair whose concatenation is a
//      vocabulary piece is a candidate; the candidate with the highest piece score merges
//      (the leftmost among equal scores), its neighbours become candidates, and so on until
//      no adjacent pair is a piece.
//   3. Each remaining symbol is its piece's id. A symbol that is no piece (a character the
//      vocabulary lacks) is spelled in bytes: "<0xXX>" pieces, else single-byte pieces.
//      llama.cpp stops there (it throws when a byte has neither); qtk gives the unknown
//      piece's id for such a character instead, once, as SentencePiece does without byte
//      fallback.
// SentencePiece's own encoder (bpe_model.cc) is the same algorithm with two differences that
// real vocabularies do not reach: it merges only into normal, user-defined and unused pieces
// (llama.cpp into any piece) and splits merged unused pieces again. qtk follows llama.cpp.
#ifndef QTK_TOKENIZE_SPM_H_
#define QTK_TOKENIZE_SPM_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qtk {

class SpmModel {
 public:
  SpmModel();

  // Adds the piece of the next id (ids count from 0 in the order pieces are added).
  // Returns false, adding nothing, if `piece` is already in the vocabulary.
  // REQUIRES: `score` is not NaN (the merge order needs a total order of scores).
  bool AddPiece(std::string piece, float score);
  // REQUIRES: 0 <= id < n_ids().
  void set_unknown_id(int32_t id) { unknown_id_ = id; }

  // Appends the ids of `text` (valid UTF-8) to `ids`; `dummy_prefix` puts a "▁" first.
  void Encode(std::string_view text, bool dummy_prefix, std::vector<int32_t>& ids) const;

  // The id of `piece`, if it is in the vocabulary.
  std::optional<int32_t> IdOf(std::string_view piece) const;
  // The piece of `id` as stored ("▁the", "<0x0A>"), or "" for an id not in the vocabulary.
  std::string_view Piece(int32_t id) const;
  int64_t n_ids() const { return static_cast<int64_t>(pieces_.size()); }
  // Every id has a piece.
  int64_t n_pieces() const { return n_ids(); }

 private:
  const int32_t* FindId(std::string_view piece) const;
  // Appends the ids of a symbol that is no piece: its bytes, or the unknown id.
  void AppendUnknown(std::string_view symbol, std::vector<int32_t>& ids) const;

  struct PieceHash {
    using is_transparent = void;
    size_t operator()(std::string_view piece) const { return std::hash<std::string_view>()(piece); }
  };
  std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>> ids_;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  // The id of each byte's "<0xXX>" piece and of its one-byte piece; -1 when absent.
  std::array<int32_t, 256> hex_byte_ids_;
  std::array<int32_t, 256> raw_byte_ids_;
  int32_t unknown_id_ = 0;
};

}  // namespace qtk

#endif  // QTK_TOKENIZE_SPM_H_
