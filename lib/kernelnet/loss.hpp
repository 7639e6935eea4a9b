// The losses, mean reduction: kn::CrossEntropyLoss (raw logits [batch, classes] and int64
// labels [batch]) and kn::MSELoss (input and target of one shape, any shape).
#pragma once
#include <kernelnet/functional.hpp>

namespace kn {

class CrossEntropyLoss {
 public:
  Tensor operator()(const Tensor& logits, const Tensor& labels) const { return cross_entropy(logits, labels); }
};

// nn.MSELoss(): mean over every element of (input - target)^2; the shapes must match.
class MSELoss {
 public:
  Tensor operator()(const Tensor& input, const Tensor& target) const { return mse_loss(input, target); }
};

}  // namespace kn
