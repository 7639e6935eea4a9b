// The built-in layers: kn::Linear, kn::ReLU, kn::Sequential.
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <kernelnet/functional.hpp>
#include <kernelnet/module.hpp>
#include <kernelnet/random.hpp>

namespace kn {

// y = x W^T + b, weight [out, in], bias [out]: nn.Linear.
class Linear : public Module {
 public:
  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined when built with bias = false

  Linear(int64_t in_features, int64_t out_features, bool with_bias = true)
      : in_(in_features), out_(out_features) {
    KN_CHECK(in_features > 0 && out_features > 0, "Linear(", in_features, ", ", out_features,
             "): both sizes must be positive");
    // As nn.Linear.reset_parameters: kaiming_uniform_(a = sqrt(5)) gives a weight bound of
    // sqrt(3) * gain / sqrt(fan_in) with gain = sqrt(2 / (1 + 5)), i.e. 1/sqrt(fan_in); the
    // bias bound is 1/sqrt(fan_in). Computed in double, as Python does.
    const double gain = std::sqrt(2.0 / (1.0 + 5.0));
    const double w_bound = std::sqrt(3.0) * (gain / std::sqrt(double(in_features)));
    weight = Tensor::empty({out_features, in_features});
    uniform_(weight, -w_bound, w_bound);
    register_parameter("weight", weight);
    if (with_bias) {
      const double b_bound = 1.0 / std::sqrt(double(in_features));
      bias = Tensor::empty({out_features});
      uniform_(bias, -b_bound, b_bound);
      register_parameter("bias", bias);
    }
  }
  Linear(Linear&&) = default;

  Tensor forward(const Tensor& x) override {
    KN_CHECK(x.defined(), error_label(), ": input is an undefined tensor");
    KN_CHECK(x.dim() == 2, error_label(), ": input must be 2-D [batch, ", in_, "], got shape ", x.shape().str());
    KN_CHECK(x.size(1) == in_, error_label(), ": input has ", x.size(1), " features, expected ", in_,
             " (input shape ", x.shape().str(), ")");
    KN_CHECK(x.device() == weight.device(), error_label(), ": input is on ", x.device().str(), " but the layer is on ",
             weight.device().str(), "; call model.to(device) or x.to(device)");
    return linear(x, weight, bias);
  }
  std::string describe() const override { return str("Linear(", in_, "→", out_, ")"); }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

 private:
  int64_t in_, out_;
};

// nn.ReLU wraps torch.relu; kn::ReLU wraps kn::relu. The class adds what a layer has
// (a name, hooks, a place in a model); the function does the maths.
class ReLU : public Module {
 public:
  ReLU() = default;
  ReLU(ReLU&&) = default;
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string describe() const override { return "ReLU"; }
};

// Runs its modules in order; they are named "0", "1", ... as in nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  template <typename... Ms, typename = std::enable_if_t<(std::is_base_of_v<Module, std::decay_t<Ms>> && ...)>>
  explicit Sequential(Ms&&... modules) {
    (push_back(std::make_shared<std::decay_t<Ms>>(std::move(modules))), ...);
  }
  Sequential(Sequential&&) = default;

  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    auto m = register_module(std::to_string(modules_.size()), std::move(module));
    modules_.push_back(m);
    return m;
  }
  Tensor forward(const Tensor& x) override {
    Tensor out = x;
    for (auto& m : modules_) out = (*m)(out);
    return out;
  }
  size_t size() const { return modules_.size(); }
  Module& operator[](size_t i) {
    KN_CHECK(i < modules_.size(), "Sequential: index ", i, " out of range (", modules_.size(), " modules)");
    return *modules_[i];
  }
  std::string describe() const override { return "Sequential"; }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace kn
