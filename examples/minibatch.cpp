// minibatch: the lesson's Iris MLP (4-10-3) trained on shuffled mini-batches of 16 rows
// with kn::data::DataLoader, instead of the lesson's full batch (docs/minibatch.md).
//
//   minibatch                  # the GPU when there is one, else the CPU
//   minibatch --device cpu     # or cuda: exits 77 (skipped) when there is no CUDA device
//
// The lesson takes one SGD step per epoch on all 120 training rows, at lr 0.01, for 20000
// epochs. Here an epoch is 8 steps (7 batches of 16 and one of 8), each on a new random
// sample of the rows, and lr 0.1: a few hundred epochs are enough.
#include <kernelnet/kernelnet.hpp>

#include <cstdio>
#include <cstring>
#include <string>

struct MLP : kn::Module {
  kn::Linear fc1{4, 10};
  kn::ReLU relu;
  kn::Linear fc2{10, 3};

  MLP() {
    register_module("fc1", fc1);
    register_module("relu", relu);
    register_module("fc2", fc2);
  }
  kn::Tensor forward(const kn::Tensor& x) override { return fc2(relu(fc1(x))); }
};

int main(int argc, char** argv) {
  std::string where = "auto";
  if (argc == 3 && std::strcmp(argv[1], "--device") == 0) where = argv[2];
  if (!(argc == 1 || argc == 3) || (where != "auto" && where != "cpu" && where != "cuda")) {
    std::fprintf(stderr, "usage: minibatch [--device cpu|cuda|auto]\n");
    return 2;
  }
  if (where == "cuda" && !kn::cuda::is_available()) {
    std::printf("skipped: --device cuda, but CUDA is not available: %s\n", kn::cuda::unavailable_reason().c_str());
    return 77;  // CTest's SKIP_RETURN_CODE: reported as skipped, never as passed
  }
  const kn::Device device =
      where == "cuda" || (where == "auto" && kn::cuda::is_available()) ? kn::Device::cuda(0) : kn::Device::cpu();
  std::printf("device: %s\n", device.str().c_str());

  // The lesson's data: load, split 80/20 as scikit-learn does, scale to [0, 1].
  kn::data::Dataset iris = kn::data::load_iris();
  kn::data::Split s = kn::data::train_test_split(iris.X, iris.y, 0.2, 42);
  kn::data::MinMaxScaler scaler;
  kn::Tensor X_train = scaler.fit_transform(s.X_train).to(device);
  kn::Tensor X_test = scaler.transform(s.X_test).to(device);
  kn::Tensor y_train = s.y_train.to(device);
  kn::Tensor y_test = s.y_test.to(device);

  kn::manual_seed(0);  // the initial weights
  MLP model;
  model.to(device);
  kn::CrossEntropyLoss criterion;
  kn::optim::SGD optimizer(model.parameters(), 0.1f);

  // Batches of 16 rows, on the data's device, a new order every epoch from the loader's own
  // generator (seed 0: every run sees the same orders).
  kn::data::TensorDataset train(X_train, y_train);
  kn::data::DataLoader loader(train, kn::data::DataLoaderOptions().batch_size(16).shuffle(true).seed(0));
  std::printf("%lld training rows, batches of 16: %lld SGD steps per epoch\n", (long long)train.size(),
              (long long)loader.size());

  const int num_epochs = 300;
  for (int epoch = 1; epoch <= num_epochs; ++epoch) {
    // The epoch's loss: each batch's mean loss weighted by its rows, summed on the device
    // (reading each batch's loss with item() would make the host wait for every batch).
    kn::Tensor total = kn::zeros({}, device);
    for (auto& batch : loader) {
      kn::Tensor outputs = model(batch.data);
      kn::Tensor loss = criterion(outputs, batch.target);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      total += loss.detach() * float(batch.data.size(0));
    }
    if (epoch % 50 == 0)
      std::printf("Epoch [%d/%d], Loss: %.4f\n", epoch, num_epochs, (total / float(train.size())).item());
  }

  kn::NoGradGuard no_grad;
  kn::Tensor predicted = model(X_test).argmax(1);
  const int64_t correct = (predicted == y_test).sum().item<int64_t>();
  const float accuracy = float(correct) / float(y_test.size(0));
  std::printf("test accuracy: %.4f (%lld of %lld)\n", accuracy, (long long)correct, (long long)y_test.size(0));
  return accuracy >= 0.9f ? 0 : 1;
}
