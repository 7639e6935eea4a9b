// kn::optim::SGD: torch.optim.SGD, with momentum, dampening, Nesterov momentum and weight
// decay (the update rule, element by element, is in <kernelnet/ops/optim.hpp>).
//
//   kn::optim::SGD sgd(model.parameters(), 0.01f);   // the lesson's: p <- p - lr * grad
//   kn::optim::SGD sgdm(model.parameters(),
//       kn::optim::SGDOptions(0.01).momentum(0.9).dampening(0).weight_decay(1e-4).nesterov(true));
//
// Plain SGD (no momentum, no weight decay) runs the lesson's sgd_step op; anything else
// runs sgd_momentum_step. Either is one launch for all parameters on CUDA.
#pragma once
#include <vector>

#include <kernelnet/ops/optim.hpp>
#include <kernelnet/ops/sgd.hpp>
#include <kernelnet/optim/optimizer.hpp>

namespace kn::optim {

// libtorch's torch::optim::SGDOptions: the learning rate, then chained setters; each
// name without an argument reads the value.
class SGDOptions {
 public:
  SGDOptions(double lr) : lr_(lr) {}  // implicit, so that SGD(params, 0.01) reads as in libtorch
  SGDOptions& lr(double v) { return lr_ = v, *this; }
  SGDOptions& momentum(double v) { return momentum_ = v, *this; }
  SGDOptions& dampening(double v) { return dampening_ = v, *this; }
  SGDOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
  SGDOptions& nesterov(bool v) { return nesterov_ = v, *this; }
  double lr() const { return lr_; }
  double momentum() const { return momentum_; }
  double dampening() const { return dampening_; }
  double weight_decay() const { return weight_decay_; }
  bool nesterov() const { return nesterov_; }

 private:
  double lr_, momentum_ = 0.0, dampening_ = 0.0, weight_decay_ = 0.0;
  bool nesterov_ = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options) : Optimizer(std::move(params), options.lr(), "SGD") {
    nlohmann::json g = {{"momentum", options.momentum()},
                        {"dampening", options.dampening()},
                        {"weight_decay", options.weight_decay()},
                        {"nesterov", options.nesterov()}};
    check(g);
    set_options(g);
  }

  void step() override {
    if (!gather()) return;
    if (momentum_ == 0.0 && weight_decay_ == 0.0) {  // the lesson's update
      ops::sgd_step(device_, ptrs_.data(), grads_.data(), sizes_.data(), int(ptrs_.size()), float(lr_));
      return;
    }
    bufs_.assign(indices_.size(), nullptr);
    fresh_.assign(indices_.size(), 0);
    if (momentum_ != 0.0)
      for (size_t k = 0; k < indices_.size(); ++k) {
        State& s = state(indices_[k]);  // fresh: the first step writes the buffer before reading it
        fresh_[k] = s.fresh;
        s.fresh = false;
        bufs_[k] = s.tensors[0].data<float>();
      }
    ops::SgdHyper h;
    h.lr = float(lr_);
    h.momentum = float(momentum_);
    h.dampening = float(dampening_);
    h.one_minus_dampening = float(1.0 - dampening_);
    h.weight_decay = float(weight_decay_);
    h.nesterov = nesterov_;
    ops::sgd_momentum_step(device_, ptrs_.data(), grads_.data(), bufs_.data(), fresh_.data(), sizes_.data(),
                           int(ptrs_.size()), h);
  }

  SGDOptions options() const {
    return SGDOptions(lr_).momentum(momentum_).dampening(dampening_).weight_decay(weight_decay_).nesterov(nesterov_);
  }

 protected:
  nlohmann::json options_json() const override {
    return {{"momentum", momentum_}, {"dampening", dampening_}, {"weight_decay", weight_decay_}, {"nesterov", nesterov_}};
  }
  std::vector<std::string> state_names(const nlohmann::json& g) const override {
    check(g);
    if (group_number(g, "momentum") == 0.0) return {};
    return {"momentum_buffer"};
  }
  bool counts_steps() const override { return false; }
  void set_options(const nlohmann::json& g) override {
    momentum_ = group_number(g, "momentum");
    dampening_ = group_number(g, "dampening");
    weight_decay_ = group_number(g, "weight_decay");
    nesterov_ = group_flag(g, "nesterov");
  }

 private:
  // torch.optim.SGD's checks, with its reasons.
  void check(const nlohmann::json& g) const {
    const double momentum = group_number(g, "momentum"), dampening = group_number(g, "dampening"),
                 weight_decay = group_number(g, "weight_decay");
    KN_CHECK(momentum >= 0.0, "SGD: momentum must be >= 0, got ", momentum);
    KN_CHECK(weight_decay >= 0.0, "SGD: weight_decay must be >= 0, got ", weight_decay);
    KN_CHECK(!group_flag(g, "nesterov") || (momentum > 0.0 && dampening == 0.0),
             "SGD: Nesterov momentum needs a momentum > 0 and dampening 0, got momentum ", momentum, " and dampening ",
             dampening);
  }

  double momentum_ = 0.0, dampening_ = 0.0, weight_decay_ = 0.0;
  bool nesterov_ = false;
  std::vector<float*> bufs_;
  std::vector<uint8_t> fresh_;
};

}  // namespace kn::optim
