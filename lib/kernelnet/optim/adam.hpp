// kn::optim::Adam and kn::optim::AdamW: torch.optim.Adam (with amsgrad and the L2 term
// added to the gradient) and torch.optim.AdamW (weight decay applied to the parameter,
// decoupled from the gradient). The update, element by element, is in
// <kernelnet/ops/optim.hpp>; here each parameter's step count and bias corrections are
// worked out on the host, in double, as Python does, and handed to the one launch.
//
//   kn::optim::Adam adam(model.parameters(),
//       kn::optim::AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0).amsgrad(false));
//   kn::optim::AdamW adamw(model.parameters(), kn::optim::AdamWOptions(1e-3).weight_decay(1e-2));
#pragma once
#include <cmath>
#include <tuple>
#include <vector>

#include <kernelnet/ops/optim.hpp>
#include <kernelnet/optim/optimizer.hpp>

namespace kn::optim {

namespace detail {
// libtorch's AdamOptions and AdamWOptions: the same fields; only the default weight
// decay differs (0 and 1e-2).
template <typename Self>
class AdamLikeOptions {
 public:
  using Betas = std::tuple<double, double>;
  AdamLikeOptions(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}
  Self& lr(double v) { return lr_ = v, self(); }
  Self& betas(const Betas& v) { return betas_ = v, self(); }
  Self& eps(double v) { return eps_ = v, self(); }
  Self& weight_decay(double v) { return weight_decay_ = v, self(); }
  Self& amsgrad(bool v) { return amsgrad_ = v, self(); }
  double lr() const { return lr_; }
  const Betas& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }

 private:
  Self& self() { return static_cast<Self&>(*this); }
  double lr_;
  Betas betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_;
  bool amsgrad_ = false;
};
}  // namespace detail

class AdamOptions : public detail::AdamLikeOptions<AdamOptions> {
 public:
  AdamOptions(double lr = 1e-3) : AdamLikeOptions(lr, 0.0) {}
};
class AdamWOptions : public detail::AdamLikeOptions<AdamWOptions> {
 public:
  AdamWOptions(double lr = 1e-3) : AdamLikeOptions(lr, 1e-2) {}
};

namespace detail {
// What Adam and AdamW share: all but where the weight decay goes.
class AdamBase : public Optimizer {
 public:
  void step() override {
    if (!gather()) return;
    const size_t n = indices_.size();
    exp_avg_.resize(n);
    exp_avg_sq_.resize(n);
    max_exp_avg_sq_.assign(n, nullptr);
    step_size_.resize(n);
    bc2_sqrt_.resize(n);
    fresh_.resize(n);
    for (size_t k = 0; k < n; ++k) {
      State& s = state(indices_[k]);  // fresh: the kernel takes the moments as 0
      fresh_[k] = s.fresh;
      s.fresh = false;
      const double step = double(++s.step);
      step_size_[k] = float(lr_ / (1.0 - std::pow(beta1_, step)));
      bc2_sqrt_[k] = float(std::sqrt(1.0 - std::pow(beta2_, step)));
      exp_avg_[k] = s.tensors[0].data<float>();
      exp_avg_sq_[k] = s.tensors[1].data<float>();
      if (amsgrad_) max_exp_avg_sq_[k] = s.tensors[2].data<float>();
    }
    ops::AdamHyper h;
    h.beta1 = float(beta1_);
    h.beta2 = float(beta2_);
    h.one_minus_beta1 = float(1.0 - beta1_);
    h.one_minus_beta2 = float(1.0 - beta2_);
    h.eps = float(eps_);
    h.amsgrad = amsgrad_;
    if (decoupled_) h.decay = float(1.0 - lr_ * weight_decay_);  // AdamW: param.mul_(1 - lr * wd)
    else h.weight_decay = float(weight_decay_);
    ops::adam_step(device_, ptrs_.data(), grads_.data(), exp_avg_.data(), exp_avg_sq_.data(), max_exp_avg_sq_.data(),
                   fresh_.data(), step_size_.data(), bc2_sqrt_.data(), sizes_.data(), int(n), h);
  }

 protected:
  template <typename Options>
  AdamBase(std::vector<Tensor> params, const Options& o, const char* name, bool decoupled)
      : Optimizer(std::move(params), o.lr(), name), decoupled_(decoupled) {
    nlohmann::json g = {{"betas", {std::get<0>(o.betas()), std::get<1>(o.betas())}},
                        {"eps", o.eps()},
                        {"weight_decay", o.weight_decay()},
                        {"amsgrad", o.amsgrad()}};
    check(g);
    set_options(g);
  }

  nlohmann::json options_json() const override {
    return {{"betas", {beta1_, beta2_}}, {"eps", eps_}, {"weight_decay", weight_decay_}, {"amsgrad", amsgrad_}};
  }
  std::vector<std::string> state_names(const nlohmann::json& g) const override {
    check(g);
    if (group_flag(g, "amsgrad")) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"exp_avg", "exp_avg_sq"};
  }
  bool counts_steps() const override { return true; }
  void set_options(const nlohmann::json& g) override {
    beta1_ = g["betas"][0].get<double>();
    beta2_ = g["betas"][1].get<double>();
    eps_ = group_number(g, "eps");
    weight_decay_ = group_number(g, "weight_decay");
    amsgrad_ = group_flag(g, "amsgrad");
  }

 private:
  // torch.optim.Adam's checks.
  void check(const nlohmann::json& g) const {
    KN_CHECK(g.contains("betas") && g["betas"].is_array() && g["betas"].size() == 2 && g["betas"][0].is_number() &&
                 g["betas"][1].is_number(),
             "\"betas\" is missing or not two numbers");
    for (int i = 0; i < 2; ++i) {
      const double b = g["betas"][i].get<double>();
      KN_CHECK(b >= 0.0 && b < 1.0, name_, ": betas[", i, "] must be in [0, 1), got ", b);
    }
    const double eps = group_number(g, "eps"), weight_decay = group_number(g, "weight_decay");
    KN_CHECK(eps >= 0.0, name_, ": eps must be >= 0, got ", eps);
    KN_CHECK(weight_decay >= 0.0, name_, ": weight_decay must be >= 0, got ", weight_decay);
    group_flag(g, "amsgrad");
  }

  bool decoupled_;
  double beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0.0;
  bool amsgrad_ = false;
  std::vector<float*> exp_avg_, exp_avg_sq_, max_exp_avg_sq_;
  std::vector<float> step_size_, bc2_sqrt_;
  std::vector<uint8_t> fresh_;
};
}  // namespace detail

class Adam : public detail::AdamBase {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {}) : AdamBase(std::move(params), options, "Adam", false) {}
};

class AdamW : public detail::AdamBase {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {})
      : AdamBase(std::move(params), options, "AdamW", true) {}
};

}  // namespace kn::optim
