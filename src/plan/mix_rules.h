// llama.cpp's per-role quantization mixes (internal; used by plan.cc).
#ifndef QTK_PLAN_MIX_RULES_H_
#define QTK_PLAN_MIX_RULES_H_

#include "qtk/plan/plan.h"

namespace qtk {

// attn_v, attn_qkv and attn_kv_b share the attn_v rules (llama.cpp's category_is_attn_v).
inline bool IsAttentionVLike(TensorRole role) {
  return role == TensorRole::kAttentionV || role == TensorRole::kAttentionQkv ||
         role == TensorRole::kAttentionKvB;
}

// The type llama-quantize's mix gives `tensor` (before the shape fallback), starting from
// the file type's default type.
GgmlType MixType(const TensorDesc& tensor, TensorRole role, GgmlType default_type,
                 const ModelFacts& facts, const PlanOptions& options);

}  // namespace qtk

#endif  // QTK_PLAN_MIX_RULES_H_
