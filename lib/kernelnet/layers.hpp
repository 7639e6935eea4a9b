// The built-in layers: kn::Linear, kn::ReLU, kn::Sigmoid, kn::Tanh, kn::Dropout,
// kn::Sequential.
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <kernelnet/functional.hpp>
#include <kernelnet/math/pointwise.hpp>
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

// nn.Sigmoid and nn.Tanh: the tensor ops x.sigmoid() and x.tanh() (<kernelnet/math/pointwise.hpp>)
// as layers.
class Sigmoid : public Module {
 public:
  Sigmoid() = default;
  Sigmoid(Sigmoid&&) = default;
  Tensor forward(const Tensor& x) override { return x.sigmoid(); }
  std::string describe() const override { return "Sigmoid"; }
};
class Tanh : public Module {
 public:
  Tanh() = default;
  Tanh(Tanh&&) = default;
  Tensor forward(const Tensor& x) override { return x.tanh(); }
  std::string describe() const override { return "Tanh"; }
};

// nn.Dropout: kn::dropout(x, p, is_training()). In training (a module's default) each
// element is zeroed with probability p and the others scaled by 1 / (1 - p); after
// eval() it returns its input unchanged. Its masks come from the generator that
// kn::manual_seed seeds (<kernelnet/random.hpp>).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5) : p_(p) {
    KN_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got ", p);
  }
  Dropout(Dropout&&) = default;
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training()); }
  std::string describe() const override { return str("Dropout(p=", p_, ")"); }
  double p() const { return p_; }

 private:
  double p_;
};

// Runs its modules in order; they are named "0", "1", ... as in nn.Sequential.
//
// What it holds, and who else holds it (a libtorch user's torch::nn::Sequential shares
// every module handed to it; kernelnet's modules are plain values, so the rule is spelt
// out in the type):
//   Sequential seq(Linear(4, 10), ReLU());      temporaries are moved in: seq owns them
//   Sequential seq(std::move(fc));              so is a named module moved explicitly;
//                                               fc is then empty, as any moved-from value
//   auto fc = std::make_shared<Linear>(4, 10);
//   Sequential seq(fc, ReLU());                 a shared_ptr is shared: fc(x) and seq(x)
//                                               run the same layer, the same weights
//   Linear fc(4, 10); Sequential seq(fc);       does not compile: a named module is neither
//                                               copied nor silently moved out of
// push_back takes the same three kinds of argument.
class Sequential : public Module {
  template <typename T>
  struct is_shared_module : std::false_type {};
  template <typename M>
  struct is_shared_module<std::shared_ptr<M>> : std::is_base_of<Module, M> {};
  template <typename T>
  static constexpr bool is_element_v =
      std::is_base_of_v<Module, std::decay_t<T>> || is_shared_module<std::decay_t<T>>::value;

 public:
  Sequential() = default;
  template <typename... Ms, typename = std::enable_if_t<(sizeof...(Ms) > 0) && (is_element_v<Ms> && ...)>>
  explicit Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }
  Sequential(Sequential&&) = default;

  // A shared module: the Sequential and the caller hold the same one.
  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    auto m = register_module(std::to_string(modules_.size()), std::move(module));
    modules_.push_back(m);
    return m;
  }
  // A module value: moved in when it is a temporary or std::move'd; a named module (an
  // lvalue) is refused at compile time rather than moved out of behind the caller's back.
  template <typename M, typename = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>>>
  std::decay_t<M>& push_back(M&& module) {
    static_assert(!std::is_lvalue_reference_v<M>,
                  "kn::Sequential: a named module cannot be added by name: it would be moved out of, and using it "
                  "afterwards would throw. Write std::move(m) to hand it over, or hold it in a std::shared_ptr "
                  "(std::make_shared) to share it");
    return *push_back(std::make_shared<std::decay_t<M>>(std::move(module)));
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
