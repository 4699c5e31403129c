#include "tokenize/spm.h"

#include <algorithm>
#include <queue>

#include "base/string_util.h"
#include "qtk/tokenize/sentencepiece_model.h"

namespace qtk {
namespace {

constexpr std::string_view kEscapedSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's "▁"

// A stretch of the escaped text: a character at first, then the merge of its neighbours.
struct Symbol {
  size_t begin;
  size_t size;   // 0 once merged into the symbol on its left
  int64_t prev;  // -1: none
  int64_t next;
};

// Two adjacent symbols whose concatenation is a piece. Stale once either has changed, which
// shows in their sizes: the left one only grows, the right one grows or dies.
struct Candidate {
  float score;
  int64_t left;
  int64_t right;
  size_t size;
  // The queue's top is the highest score, then the leftmost (llama.cpp's llm_bigram_spm).
  bool operator<(const Candidate& other) const {
    return score < other.score || (score == other.score && left > other.left);
  }
};

}  // namespace

SpmModel::SpmModel() {
  hex_byte_ids_.fill(-1);
  raw_byte_ids_.fill(-1);
}

bool SpmModel::AddPiece(std::string piece, float score) {
  const auto id = static_cast<int32_t>(pieces_.size());
  if (!ids_.emplace(piece, id).second) return false;
  if (const int byte = BytePieceValue(piece); byte >= 0) hex_byte_ids_[byte] = id;
  if (piece.size() == 1) raw_byte_ids_[static_cast<unsigned char>(piece[0])] = id;
  pieces_.push_back(std::move(piece));
  scores_.push_back(score);
  return true;
}

const int32_t* SpmModel::FindId(std::string_view piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? nullptr : &it->second;
}

std::optional<int32_t> SpmModel::IdOf(std::string_view piece) const {
  const int32_t* id = FindId(piece);
  return id == nullptr ? std::nullopt : std::optional<int32_t>(*id);
}

std::string_view SpmModel::Piece(int32_t id) const {
  if (id < 0 || id >= n_ids()) return {};
  return pieces_[static_cast<size_t>(id)];
}

void SpmModel::AppendUnknown(std::string_view symbol, std::vector<int32_t>& ids) const {
  const size_t first = ids.size();
  for (char c : symbol) {
    const auto byte = static_cast<unsigned char>(c);
    const int32_t id = hex_byte_ids_[byte] >= 0 ? hex_byte_ids_[byte] : raw_byte_ids_[byte];
    if (id < 0) {
      ids.resize(first);
      ids.push_back(unknown_id_);
      return;
    }
    ids.push_back(id);
  }
}

void SpmModel::Encode(std::string_view text, bool dummy_prefix, std::vector<int32_t>& ids) const {
  std::string escaped;
  escaped.reserve(text.size() + kEscapedSpace.size());
  if (dummy_prefix) escaped += kEscapedSpace;
  for (char c : text) {
    if (c == ' ') {
      escaped += kEscapedSpace;
    } else {
      escaped.push_back(c);
    }
  }
  if (escaped.empty()) return;

  std::vector<Symbol> symbols;
  for (size_t at = 0; at < escaped.size();) {
    const size_t size =
        std::min(Utf8SequenceLength(static_cast<unsigned char>(escaped[at])), escaped.size() - at);
    const auto index = static_cast<int64_t>(symbols.size());
    symbols.push_back({at, size, index - 1, at + size == escaped.size() ? -1 : index + 1});
    at += size;
  }

  std::priority_queue<Candidate> queue;
  auto consider = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const size_t size = l.size + symbols[static_cast<size_t>(right)].size;
    const int32_t* id = FindId(std::string_view(escaped).substr(l.begin, size));
    if (id != nullptr) queue.push({scores_[static_cast<size_t>(*id)], left, right, size});
  };
  for (size_t i = 1; i < symbols.size(); ++i) {
    consider(static_cast<int64_t>(i) - 1, static_cast<int64_t>(i));
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(top.left)];
    Symbol& right = symbols[static_cast<size_t>(top.right)];
    if (left.size == 0 || right.size == 0 || left.size + right.size != top.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = top.left;
    consider(left.prev, top.left);
    consider(top.left, left.next);
  }

  for (int64_t i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& symbol = symbols[static_cast<size_t>(i)];
    const std::string_view piece = std::string_view(escaped).substr(symbol.begin, symbol.size);
    if (const int32_t* id = FindId(piece)) {
      ids.push_back(*id);
    } else {
      AppendUnknown(piece, ids);
    }
  }
}

}  // namespace qtk
