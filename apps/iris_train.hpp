// The lesson's Iris training, shared by kn-iris and kn-bench: load, split, scale,
// train a 4-H-3 MLP with full-batch SGD, evaluate.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <kernelnet/kernelnet.hpp>

namespace kn::iris {

struct MLP : Module {
  Linear fc1;
  ReLU relu;
  Linear fc2;
  MLP(int64_t in, int64_t hidden, int64_t classes) : fc1(in, hidden), fc2(hidden, classes) {
    register_module("fc1", fc1);
    register_module("relu", relu);
    register_module("fc2", fc2);
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(fc1(x))); }
  std::string describe() const override { return "MLP"; }
};

struct Config {
  std::string data;  // "" = the bundled data/iris.csv
  Device device = Device::cpu();
  int epochs = 20000;
  float lr = 0.01f;
  int hidden = 10;
  double test_size = 0.2;
  uint32_t seed = 42;       // the split
  uint32_t init_seed = 0;   // the initial weights
  std::string init_weights; // a safetensors file to start from instead
  int record_every = 1;     // read the loss back every N epochs (0: never)
};

struct Result {
  std::vector<std::pair<int, float>> losses;  // (1-based epoch, loss) for each recorded epoch
  double time_s = 0;                           // the training loop alone
  float final_loss = NAN;
  float test_acc = NAN;
  Stats stats;                                 // device counters over the training loop
};

// Called for each recorded epoch (1-based) with its loss.
using OnRecord = std::function<void(int epoch, float loss)>;

// Trains the model and returns what was recorded. A NaN or infinite loss stops it.
inline Result train(const Config& cfg, MLP& model, const OnRecord& on_record = {}) {
  KN_CHECK(cfg.epochs >= 1, "epochs must be >= 1, got ", cfg.epochs);
  KN_CHECK(cfg.record_every >= 0, "record-every must be >= 0, got ", cfg.record_every);
  data::Dataset ds = data::load_iris(cfg.data);
  data::Split s = data::train_test_split(ds.X, ds.y, cfg.test_size, cfg.seed);
  data::MinMaxScaler scaler;
  Tensor X_train = scaler.fit_transform(s.X_train).to(cfg.device);
  Tensor X_test = scaler.transform(s.X_test).to(cfg.device);
  Tensor y_train = s.y_train.to(cfg.device);
  Tensor y_test = s.y_test.to(cfg.device);

  model.to(cfg.device);
  CrossEntropyLoss criterion;
  optim::SGD optimizer(model.parameters(), cfg.lr);
  Result r;
  if (cfg.record_every > 0) r.losses.reserve(cfg.epochs / cfg.record_every + 1);
  auto check_finite = [&](int epoch, float loss) {
    KN_CHECK(std::isfinite(loss), "training diverged: the loss is ", loss, " at epoch ", epoch,
             "; try a smaller learning rate than --lr ", cfg.lr);
  };
  Tensor loss;
  if (cfg.device.is_cuda()) cuda::synchronize(cfg.device.index);
  reset_stats(cfg.device);
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
    Tensor outputs = model(X_train);
    loss = criterion(outputs, y_train);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (cfg.record_every > 0 && epoch % cfg.record_every == 0) {
      const float v = loss.item();  // the lesson's loss.item(): a synchronising read on a GPU
      check_finite(epoch, v);
      r.losses.push_back({epoch, v});
      if (on_record) on_record(epoch, v);
    }
  }
  if (cfg.device.is_cuda()) cuda::synchronize(cfg.device.index);  // all queued work counts
  r.time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.stats = stats(cfg.device);
  r.final_loss = loss.item();
  check_finite(cfg.epochs, r.final_loss);
  NoGradGuard no_grad;
  r.test_acc = metrics::accuracy(model(X_test), y_test);
  return r;
}

}  // namespace kn::iris
