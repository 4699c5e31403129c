// SHA-256 (FIPS 180-4), for tensor manifests and tests against reference hashes.
#ifndef QTK_BASE_SHA256_H_
#define QTK_BASE_SHA256_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace qtk {

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> bytes);
  std::array<uint8_t, 32> Finish();

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t n_bytes_ = 0;
};

// Lowercase hex digest of `bytes`.
std::string Sha256Hex(std::span<const uint8_t> bytes);

}  // namespace qtk

#endif  // QTK_BASE_SHA256_H_
