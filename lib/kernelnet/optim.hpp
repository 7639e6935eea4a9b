// kn::optim::SGD: p <- p - lr * grad, for every parameter, in one op per step.
#pragma once
#include <cstdint>
#include <vector>

#include <kernelnet/autograd.hpp>
#include <kernelnet/ops/sgd.hpp>
#include <kernelnet/tensor.hpp>

namespace kn::optim {

class SGD {
 public:
  SGD(std::vector<Tensor> params, float lr) : params_(std::move(params)), lr_(lr) {
    KN_CHECK(lr >= 0.0f, "SGD: learning rate must be >= 0, got ", lr);
    for (size_t i = 0; i < params_.size(); ++i) {
      KN_CHECK(params_[i].defined() && params_[i].dtype() == Dtype::Float32, "SGD: parameter ", i,
               " must be a float32 tensor, got ", params_[i].str());
      KN_CHECK(params_[i].requires_grad(), "SGD: parameter ", i, " ", params_[i].str(), " does not require grad");
    }
  }

  // Resets gradients to none (PyTorch 2's default); the next backward writes them afresh.
  void zero_grad() {
    for (auto& p : params_) clear_grad(p);
  }

  // One update of every parameter that has a gradient, all in one dispatch.
  void step() {
    ptrs_.clear();
    grads_.clear();
    sizes_.clear();
    Device device;
    for (auto& p : params_) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      KN_CHECK(ptrs_.empty() || p.device() == device, "SGD: parameters on ", device.str(), " and ",
               p.device().str(), "; an optimiser's parameters must share one device");
      KN_CHECK(g.device() == p.device(), "SGD: gradient on ", g.device().str(), ", parameter on ", p.device().str());
      device = p.device();
      ptrs_.push_back(p.data<float>());
      grads_.push_back(g.data<float>());
      sizes_.push_back(p.numel());
    }
    if (!ptrs_.empty()) ops::sgd_step(device, ptrs_.data(), grads_.data(), sizes_.data(), int(ptrs_.size()), lr_);
  }

  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  const std::vector<Tensor>& parameters() const { return params_; }

 private:
  std::vector<Tensor> params_;
  float lr_;
  std::vector<float*> ptrs_;  // reused each step: no allocation in the loop
  std::vector<const float*> grads_;
  std::vector<int64_t> sizes_;
};

}  // namespace kn::optim
