#include "tokenize/bpe.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>

#include "base/string_util.h"

namespace qtk {

bool BpeModel::AddPiece(std::string piece, int32_t id) {
  if (id < 0 || pieces_.contains(id)) return false;
  if (!ids_.emplace(piece, id).second) return false;
  pieces_.emplace(id, std::move(piece));
  n_ids_ = std::max<int64_t>(n_ids_, int64_t{id} + 1);
  return true;
}

const int32_t* BpeModel::FindId(std::string_view piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? nullptr : &it->second;
}

Status BpeModel::AddMerge(std::string_view left, std::string_view right, int32_t rank) {
  const int32_t* left_id = FindId(left);
  const int32_t* right_id = FindId(right);
  const std::string merged = std::string(left) + std::string(right);
  const int32_t* merged_id = FindId(merged);
  for (auto [what, id] : {std::pair{left, left_id}, std::pair{right, right_id},
                          std::pair{std::string_view(merged), merged_id}}) {
    if (id == nullptr) {
      return Status::Corruption("merge " + std::to_string(rank) + " ('" + std::string(left) +
                                "' '" + std::string(right) + "'): '" + std::string(what) +
                                "' is not in the vocabulary");
    }
  }
  // A pair listed twice keeps its first (lowest) rank, as `tokenizers` does.
  merges_.emplace(PairKey(*left_id, *right_id), Merge{rank, *merged_id});
  return Status::Ok();
}

std::string_view BpeModel::Piece(int32_t id) const {
  auto it = pieces_.find(id);
  return it == pieces_.end() ? std::string_view() : std::string_view(it->second);
}

Status BpeModel::Encode(std::string_view piece, std::vector<int32_t>& ids) const {
  if (ignore_merges_) {
    if (const int32_t* whole = FindId(piece)) {
      ids.push_back(*whole);
      return Status::Ok();
    }
  }
  std::vector<int32_t> symbols;
  for (size_t at = 0; at < piece.size();) {
    const size_t length =
        std::min(Utf8SequenceLength(static_cast<unsigned char>(piece[at])), piece.size() - at);
    const int32_t* id = FindId(piece.substr(at, length));
    if (id == nullptr) {
      return Status::Corruption("no vocabulary entry for '" +
                                std::string(piece.substr(at, length)) + "'");
    }
    symbols.push_back(*id);
    at += length;
  }
  // Merge the lowest-ranked adjacent pair, leftmost first, until no pair has a merge: a heap
  // of candidate pairs by (rank, position) over a linked list of symbols, so a long piece
  // (a run of thousands of letters) costs n log n, not n^2. A candidate is stale when either
  // of its symbols has changed since it was pushed; then it is skipped.
  struct Candidate {
    int32_t rank;
    size_t at;  // the left symbol's original position
    int32_t left, right;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : at > other.at;
    }
  };
  const size_t n = symbols.size();
  std::vector<size_t> next(n), prev(n);
  std::vector<bool> alive(n, true);
  for (size_t k = 0; k < n; ++k) {
    next[k] = k + 1;  // n: none
    prev[k] = k == 0 ? n : k - 1;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](size_t at) {
    if (at >= n || next[at] >= n) return;
    auto it = merges_.find(PairKey(symbols[at], symbols[next[at]]));
    if (it != merges_.end()) heap.push({it->second.rank, at, symbols[at], symbols[next[at]]});
  };
  for (size_t k = 0; k + 1 < n; ++k) push(k);
  while (!heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    const size_t right = next[top.at];
    if (!alive[top.at] || right >= n || symbols[top.at] != top.left ||
        symbols[right] != top.right) {
      continue;
    }
    symbols[top.at] = merges_.at(PairKey(top.left, top.right)).merged_id;
    alive[right] = false;
    next[top.at] = next[right];
    if (next[right] < n) prev[next[right]] = top.at;
    if (prev[top.at] < n) push(prev[top.at]);
    push(top.at);
  }
  std::vector<int32_t> merged;
  for (size_t k = 0; k < n; k = next[k]) merged.push_back(symbols[k]);
  symbols = std::move(merged);
  ids.insert(ids.end(), symbols.begin(), symbols.end());
  return Status::Ok();
}

}  // namespace qtk
