// kn::nn::utils::clip_grad_norm_: torch.nn.utils.clip_grad_norm_ for the 2-norm. Scales
// every gradient by min(max_norm / (total + 1e-6), 1), where total is the 2-norm of all
// the gradients together, and returns total. Two launches on CUDA (the norm, then the
// scaling) and no synchronisation: the total stays on the device until it is read.
//
//   float total_norm = kn::nn::utils::clip_grad_norm_(model.parameters(), /*max_norm=*/1.0);
//
// The result is a TotalNorm: converting it to float (or double) reads the value, which on
// CUDA waits for the device, as loss.item() does; a training loop that ignores it, or
// keeps it as .tensor(), never waits. Parameters without a gradient are skipped.
#pragma once
#include <vector>

#include <kernelnet/ops/clip.hpp>
#include <kernelnet/tensor.hpp>

namespace kn::nn::utils {

class TotalNorm {
 public:
  explicit TotalNorm(Tensor total) : total_(std::move(total)) {}
  // The value; on CUDA this synchronises.
  operator float() const { return total_.item<float>(); }
  float item() const { return total_.item<float>(); }
  // A float32 scalar on the gradients' device.
  const Tensor& tensor() const { return total_; }

 private:
  Tensor total_;
};

inline TotalNorm clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0) {
  KN_CHECK(norm_type == 2.0, "clip_grad_norm_: only the 2-norm (norm_type 2) is implemented, got norm_type ",
           norm_type);
  KN_CHECK(max_norm >= 0.0, "clip_grad_norm_: max_norm must be >= 0, got ", max_norm);
  std::vector<float*> grads;
  std::vector<int64_t> sizes;
  Device device;
  for (size_t i = 0; i < parameters.size(); ++i) {
    KN_CHECK(parameters[i].defined(), "clip_grad_norm_: parameter ", i, " is an undefined tensor");
    Tensor g = parameters[i].grad();
    if (!g.defined()) continue;
    KN_CHECK(g.dtype() == Dtype::Float32, "clip_grad_norm_: the gradient of parameter ", i, " is ", g.str(),
             ", not float32");
    KN_CHECK(grads.empty() || g.device() == device, "clip_grad_norm_: gradients on ", device.str(), " and ",
             g.device().str(), " (parameter ", i, "); all must be on one device");
    device = g.device();
    grads.push_back(g.data<float>());
    sizes.push_back(g.numel());
  }
  if (grads.empty()) return TotalNorm(Tensor::zeros(Shape{}));  // PyTorch: tensor(0.)
  Tensor total = Tensor::empty(Shape{}, Dtype::Float32, device);
  ops::clip_grad_norm(device, grads.data(), sizes.data(), int(grads.size()), float(max_norm), total.data<float>());
  return TotalNorm(total);
}

}  // namespace kn::nn::utils
