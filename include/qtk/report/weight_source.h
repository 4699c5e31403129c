// A WeightSource is a model's weights by name, each decodable to F32: a GGUF file (ggml
// types and qtk's generic-scheme layouts, whose companion tensors are counted with the
// tensor they belong to) or any ModelInput (a Hugging Face checkpoint). `qtk compare` and the
// error gates read models through it. Shapes are in GGUF order (ne[0], the row length, first).
#ifndef QTK_REPORT_WEIGHT_SOURCE_H_
#define QTK_REPORT_WEIGHT_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qtk/base/status.h"
#include "qtk/model/model_input.h"

namespace qtk {

struct WeightInfo {
  std::string name;
  std::string type;            // "Q4_K", "F32", or a scheme name ("int4-g128")
  std::vector<int64_t> shape;  // logical shape, GGUF order
  uint64_t n_bytes = 0;        // stored bytes, companion tensors included

  int64_t n_elements() const;
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual const std::string& path() const = 0;
  virtual std::string Describe() const = 0;
  virtual uint64_t file_bytes() const = 0;
  virtual const std::vector<WeightInfo>& weights() const = 0;
  // Weight i decoded to F32 (n_elements() values).
  virtual Result<std::vector<float>> ReadF32(size_t i, int n_threads) const = 0;
  // Hints that weight i is done with.
  virtual void Release(size_t /*i*/) const {}
};

// The weights of `input`, which the result owns. An unsplit GGUF file is read through
// DequantizeFromGguf (generic-scheme tensors as one weight each); anything else through
// the input's ReadF32.
std::unique_ptr<WeightSource> WeightsOf(std::unique_ptr<ModelInput> input);

// A view of `input` (which must outlive the result) through its ReadF32.
std::unique_ptr<WeightSource> WeightSourceOf(const ModelInput& input);

}  // namespace qtk

#endif  // QTK_REPORT_WEIGHT_SOURCE_H_
