// A user Module with two hidden layers, and forward hooks that print activation
// statistics: how many units of each ReLU are dead, and how large the live ones are.
//
//   mlp_hooks [epochs]     # default 3000; stats at the first and last epoch
//
// The hooks see each activation as the model computes it (model(x) runs them;
// model.forward(x) would not). They cost a copy to the host each, so they are attached
// only for the epochs we look at and removed after.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <kernelnet/kernelnet.hpp>

struct TwoHidden : kn::Module {
  kn::Linear fc1{4, 16};
  kn::ReLU act1;
  kn::Linear fc2{16, 8};
  kn::ReLU act2;
  kn::Linear out{8, 3};

  TwoHidden() {
    register_module("fc1", fc1);
    register_module("act1", act1);
    register_module("fc2", fc2);
    register_module("act2", act2);
    register_module("out", out);
  }
  kn::Tensor forward(const kn::Tensor& x) override { return out(act2(fc2(act1(fc1(x))))); }
  std::string describe() const override { return "TwoHidden"; }
};

// mean, standard deviation, maximum, and the share of exact zeros (ReLU's dead units).
void print_stats(const std::string& name, const kn::Tensor& y) {
  const std::vector<float> v = y.to_vector<float>();  // on a GPU: a copy and a wait
  double sum = 0, sq = 0, mx = -INFINITY;
  int64_t zeros = 0;
  for (float f : v) sum += f, sq += double(f) * f, mx = std::max(mx, double(f)), zeros += f == 0.0f;
  const double n = double(v.size()), mean = sum / n;
  std::printf("  %-5s %s: mean %.3f  std %.3f  max %.3f  zeros %.1f%%\n", name.c_str(), y.shape().str().c_str(), mean,
              std::sqrt(std::max(0.0, sq / n - mean * mean)), mx, 100.0 * zeros / n);
}

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 3000;
  if (epochs < 1) {
    std::fprintf(stderr, "usage: mlp_hooks [epochs >= 1]\n");
    return 2;
  }
  const kn::Device device = kn::cuda::is_available() ? kn::Device::cuda(0) : kn::Device::cpu();
  std::printf("device: %s\n", device.str().c_str());

  kn::data::Dataset iris = kn::data::load_iris();
  kn::data::Split s = kn::data::train_test_split(iris.X, iris.y, 0.2, 42);
  kn::data::MinMaxScaler scaler;
  kn::Tensor X_train = scaler.fit_transform(s.X_train).to(device);
  kn::Tensor X_test = scaler.transform(s.X_test).to(device);
  kn::Tensor y_train = s.y_train.to(device);
  kn::Tensor y_test = s.y_test.to(device);

  kn::manual_seed(0);
  TwoHidden model;
  model.to(device);
  kn::CrossEntropyLoss criterion;
  kn::optim::SGD optimizer(model.parameters(), 0.1f);

  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::vector<kn::HookHandle> hooks;
    const bool look = epoch == 1 || epoch == epochs;
    if (look) {
      std::printf("epoch %d activations:\n", epoch);
      for (auto& [path, m] : model.named_modules())
        if (path == "act1" || path == "act2")
          hooks.push_back(m->register_forward_hook(
              [name = path](kn::Module&, const kn::Tensor&, const kn::Tensor& y) { print_stats(name, y); }));
    }
    kn::Tensor loss = criterion(model(X_train), y_train);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    for (auto& h : hooks) h.remove();
    if (look) std::printf("  loss %.4f\n", loss.item());
  }

  kn::NoGradGuard no_grad;
  const float accuracy = kn::metrics::accuracy(model(X_test), y_test);
  std::printf("test accuracy: %.4f\n", accuracy);
  return accuracy >= 0.9f ? 0 : 1;
}
