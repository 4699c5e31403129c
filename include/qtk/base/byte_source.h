// Read-only byte sources: a memory-mapped file, or bytes in memory (for tests).
//
// Readers (GGUF, safetensors) take a ByteSource, never a path, so tests can feed them
// handcrafted bytes. A source stays alive as long as any reader result that views its bytes
// holds the shared_ptr.
#ifndef QTK_BASE_BYTE_SOURCE_H_
#define QTK_BASE_BYTE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qtk/base/status.h"

namespace qtk {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Every byte of the source. Valid while the source lives.
  virtual std::span<const uint8_t> bytes() const = 0;

  // The path (or a label) used in error messages.
  virtual const std::string& name() const = 0;

  // Checks that the source still holds the bytes it was opened with. Readers call it before
  // touching bytes they did not validate yet (tensor data): reading a mapped file that shrank
  // since it was mapped would kill the process with SIGBUS, and one rewritten in place would
  // mix old and new bytes. Errors: IOError "<path>: changed while being read: ...".
  // Memory sources never change.
  virtual Status CheckUnchanged() const { return Status::Ok(); }

  // Hint that [offset, offset + n_bytes) will be read sequentially soon (or not at all).
  virtual void AdviseSequential(uint64_t /*offset*/, uint64_t /*n_bytes*/) const {}
  virtual void AdviseDone(uint64_t /*offset*/, uint64_t /*n_bytes*/) const {}

  size_t size() const { return bytes().size(); }
};

// Maps `path` read-only. An empty file maps to an empty span. The file stays open so that
// CheckUnchanged() can compare its size and modification time with those at mapping time.
// Errors: NotFound if the file does not exist, IOError if it cannot be opened or mapped.
Result<std::shared_ptr<const ByteSource>> MapFile(const std::string& path);

// A source over bytes held in memory, labelled `name` in error messages.
std::shared_ptr<const ByteSource> MemorySource(std::string name, std::vector<uint8_t> bytes);

// The whole content of a small file read with ordinary reads (a pipe or /dev/stdin too): a
// text to tokenize, a token list.
// Errors: NotFound if it cannot be opened; IOError if reading fails.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace qtk

#endif  // QTK_BASE_BYTE_SOURCE_H_
