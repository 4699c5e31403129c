// The block structs of the kernels and the ggml type table state the same sizes: the structs
// are what the kernels stride by, the table is what every size in a plan comes from.
#include <catch2/catch.hpp>

#include "qtk/format/ggml_type.h"
#include "quant/kquant_blocks.h"
#include "quant/quant_legacy.h"

namespace qtk {
namespace {

TEST_CASE("block structs agree with the ggml type table", "[quant]") {
  struct Layout {
    GgmlType type;
    size_t struct_bytes;
    int64_t struct_elements;
  };
  const Layout layouts[] = {
      {GgmlType::kQ4_0, sizeof(BlockQ4_0), kLegacyBlockSize},
      {GgmlType::kQ4_1, sizeof(BlockQ4_1), kLegacyBlockSize},
      {GgmlType::kQ5_0, sizeof(BlockQ5_0), kLegacyBlockSize},
      {GgmlType::kQ5_1, sizeof(BlockQ5_1), kLegacyBlockSize},
      {GgmlType::kQ8_0, sizeof(BlockQ8_0), kLegacyBlockSize},
      {GgmlType::kQ2_K, sizeof(BlockQ2K), 256},
      {GgmlType::kQ3_K, sizeof(BlockQ3K), 256},
      {GgmlType::kQ4_K, sizeof(BlockQ4K), 256},
      {GgmlType::kQ5_K, sizeof(BlockQ5K), 256},
      {GgmlType::kQ6_K, sizeof(BlockQ6K), 256},
  };
  for (const Layout& layout : layouts) {
    INFO(GgmlTypeName(layout.type));
    CHECK(GgmlTypeSize(layout.type) == static_cast<int64_t>(layout.struct_bytes));
    CHECK(GgmlBlockSize(layout.type) == layout.struct_elements);
  }
}

}  // namespace
}  // namespace qtk
