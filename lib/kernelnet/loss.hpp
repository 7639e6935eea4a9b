// kn::CrossEntropyLoss: raw logits [batch, classes] and int64 labels [batch], mean reduction.
#pragma once
#include <kernelnet/functional.hpp>

namespace kn {

class CrossEntropyLoss {
 public:
  Tensor operator()(const Tensor& logits, const Tensor& labels) const { return cross_entropy(logits, labels); }
};

}  // namespace kn
