// kn::metrics::accuracy: the fraction of rows whose prediction equals the label.
#pragma once
#include <cstdint>

#include <kernelnet/ops/argmax.hpp>
#include <kernelnet/tensor.hpp>

namespace kn::metrics {

// `predictions` is either logits [rows, classes] (argmax is taken) or int64 class
// indices [rows]; `labels` is int64 [rows]. Reads one number back from the device.
inline float accuracy(const Tensor& predictions, const Tensor& labels) {
  KN_CHECK(predictions.defined() && labels.defined(), "accuracy: undefined tensor");
  KN_CHECK(labels.dtype() == Dtype::Int64 && labels.dim() == 1, "accuracy: labels must be int64 [rows], got ",
           labels.str());
  KN_CHECK(predictions.device() == labels.device(), "accuracy: predictions are on ", predictions.device().str(),
           " but labels on ", labels.device().str());
  Tensor pred = predictions.dtype() == Dtype::Float32 ? predictions.argmax(-1) : predictions;
  KN_CHECK(pred.dim() == 1 && pred.size(0) == labels.size(0), "accuracy: ", pred.size(0), " predictions for ",
           labels.size(0), " labels");
  KN_CHECK(labels.size(0) > 0, "accuracy: no rows");
  Tensor count = Tensor::empty(Shape{}, Dtype::Int64, labels.device());
  ops::count_equal(labels.device(), count.data<int64_t>(), pred.data<int64_t>(), labels.data<int64_t>(),
                   labels.size(0));
  return float(count.item<int64_t>()) / float(labels.size(0));
}

}  // namespace kn::metrics
