// Byte-pair encoding of one pre-tokenized piece (internal).
#ifndef QTK_TOKENIZE_BPE_H_
#define QTK_TOKENIZE_BPE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

class BpeModel {
 public:
  // Adds a vocabulary entry. Returns false if `piece` or `id` is already taken.
  bool AddPiece(std::string piece, int32_t id);
  // Adds the merge of rank `rank` (its index in the merges list): `left` + `right`.
  // Errors: Corruption naming what is missing from the vocabulary.
  Status AddMerge(std::string_view left, std::string_view right, int32_t rank);
  void set_ignore_merges(bool ignore) { ignore_merges_ = ignore; }

  // The ids of `piece`: the piece itself when ignore_merges is set and it is in the
  // vocabulary; otherwise its characters, merged lowest rank first, leftmost among equals.
  // Errors: Corruption "no vocabulary entry for '<character>'".
  Status Encode(std::string_view piece, std::vector<int32_t>& ids) const;

  std::string_view Piece(int32_t id) const;
  // One more than the largest id.
  int64_t n_ids() const { return n_ids_; }
  // How many pieces there are.
  int64_t n_pieces() const { return static_cast<int64_t>(pieces_.size()); }

 private:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  const int32_t* FindId(std::string_view piece) const;

  // Looked up by string_view, so that encoding builds no string per character.
  struct PieceHash {
    using is_transparent = void;
    size_t operator()(std::string_view piece) const { return std::hash<std::string_view>()(piece); }
  };
  std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>> ids_;
  // By id. A map, not a vector indexed by id: ids come from the file, and one large id (up
  // to 2^31-1 is valid) must not make the tokenizer allocate for every id below it.
  std::unordered_map<int32_t, std::string> pieces_;
  int64_t n_ids_ = 0;
  std::unordered_map<uint64_t, Merge> merges_;
  bool ignore_merges_ = false;
};

}  // namespace qtk

#endif  // QTK_TOKENIZE_BPE_H_
