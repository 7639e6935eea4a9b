#include <kernelnet/kernelnet.hpp>
#include <cstdio>

struct MLP : kn::Module {
  kn::Linear fc1{4, 10};
  kn::ReLU relu;
  kn::Linear fc2{10, 3};

  MLP() {
    register_module("fc1", fc1);
    register_module("relu", relu);
    register_module("fc2", fc2);
  }

  kn::Tensor forward(const kn::Tensor& x) override {
    kn::Tensor out = fc1(x);
    out = relu(out);
    out = fc2(out);
    return out;
  }
};

int main() {
  kn::Device device = kn::cuda::is_available() ? kn::Device::cuda(0) : kn::Device::cpu();
  std::printf("device: %s\n", device.str().c_str());

  kn::data::Dataset iris = kn::data::load_iris();  // X [150, 4] float32, y [150] integer labels 0..2
  kn::data::Split s = kn::data::train_test_split(iris.X, iris.y, 0.2, 42);
  kn::data::MinMaxScaler scaler;
  kn::Tensor X_train = scaler.fit_transform(s.X_train).to(device);
  kn::Tensor X_test = scaler.transform(s.X_test).to(device);
  kn::Tensor y_train = s.y_train.to(device);
  kn::Tensor y_test = s.y_test.to(device);

  kn::manual_seed(0);
  MLP model;
  model.to(device);
  kn::CrossEntropyLoss criterion;
  kn::optim::SGD optimizer(model.parameters(), 0.01f);

  const int num_epochs = 20000;
  for (int epoch = 0; epoch < num_epochs; ++epoch) {
    kn::Tensor outputs = model(X_train);
    kn::Tensor loss = criterion(outputs, y_train);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if ((epoch + 1) % 200 == 0)
      std::printf("Epoch [%d/%d], Loss: %.4f\n", epoch + 1, num_epochs, loss.item());
  }

  kn::NoGradGuard no_grad;
  float accuracy = kn::metrics::accuracy(model(X_test), y_test);
  std::printf("test accuracy: %.4f\n", accuracy);
  return accuracy >= 0.9f ? 0 : 1;
}
