// Seeds for the Hugging Face fuzz targets (safetensors, shard index, config.json,
// tokenizer.model), written by qtk_fuzz_seeds (make_seeds.cc).
#ifndef QTK_FUZZ_SEEDS_HF_H_
#define QTK_FUZZ_SEEDS_HF_H_

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace qtk::fuzz {

// Writes `bytes` to dir/name, creating dir.
void WriteSeed(const std::filesystem::path& dir, const std::string& name,
               std::span<const uint8_t> bytes);

// Each writes handcrafted seeds into `out`, plus seeds derived from the files under
// `testdata` unless it is empty.
void WriteSafetensorsSeeds(const std::filesystem::path& testdata, const std::filesystem::path& out);
void WriteIndexSeeds(const std::filesystem::path& testdata, const std::filesystem::path& out);
void WriteConfigSeeds(const std::filesystem::path& testdata, const std::filesystem::path& out);
// tokenizer.json seeds (even first byte) and texts (odd first byte): see
// tests/fuzz_bodies_tokenize.h.
void WriteTokenizerSeeds(const std::filesystem::path& out);
void WriteSentencePieceSeeds(const std::filesystem::path& testdata,
                             const std::filesystem::path& out);

}  // namespace qtk::fuzz

#endif  // QTK_FUZZ_SEEDS_HF_H_
