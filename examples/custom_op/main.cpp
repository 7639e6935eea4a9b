// custom_op: a layer kernelnet does not have (SiLU), added from outside the library with
// its own forward and backward kernels (silu_kernels.hpp / .cu) registered with autograd
// (silu.hpp), then checked and used:
//   1. its gradient against finite differences, on the CPU;
//   2. on a GPU (when there is one and the CUDA kernels were built), against the CPU;
//   3. in the trace: the new op is attributed to the layer that ran it, both ways;
//   4. in the Iris MLP in place of ReLU.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "silu.hpp"

struct Net : kn::Module {
  kn::Linear fc1{4, 10};
  silu::SiLU act;
  kn::Linear fc2{10, 3};
  Net() {
    register_module("fc1", fc1);
    register_module("act", act);
    register_module("fc2", fc2);
  }
  kn::Tensor forward(const kn::Tensor& x) override { return fc2(act(fc1(x))); }
  std::string describe() const override { return "Net"; }
};

kn::Tensor random_tensor(const kn::Shape& shape, float lo, float hi) {
  kn::Tensor t = kn::Tensor::empty(shape);
  kn::uniform_(t, lo, hi);
  return t;
}

// 1. d loss / d x from backward(), against central differences of the loss.
double gradcheck() {
  kn::Tensor x = random_tensor({5, 7}, -3.0f, 3.0f);
  x.requires_grad_(true);
  kn::Tensor W = random_tensor({3, 7}, -1.0f, 1.0f);
  kn::Tensor labels = kn::Tensor::from_vector<int64_t>({0, 1, 2, 1, 0});
  auto loss_of = [&] { return kn::cross_entropy(kn::linear(silu::silu(x), W), labels); };
  loss_of().backward();
  const std::vector<float> analytic = x.grad().to_vector<float>();
  kn::NoGradGuard no_grad;
  float* p = x.data<float>();
  double worst = 0;
  const double eps = 1e-2;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float saved = p[i];
    p[i] = saved + float(eps);
    const double up = loss_of().item();
    p[i] = saved - float(eps);
    const double down = loss_of().item();
    p[i] = saved;
    worst = std::max(worst, std::fabs((up - down) / (2 * eps) - analytic[i]));
  }
  return worst;
}

float max_diff(const kn::Tensor& a, const kn::Tensor& b) {
  const auto va = a.to_vector<float>(), vb = b.to_vector<float>();
  float m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

int main() {
  bool ok = true;
  kn::manual_seed(0);

  const double worst = gradcheck();
  std::printf("gradcheck (cpu): max |analytic - numeric| = %.2e: %s\n", worst, worst < 2e-3 ? "ok" : "FAILED");
  ok &= worst < 2e-3;

  // 2. The CUDA kernels against the CPU ones.
#if SILU_WITH_CUDA
  if (kn::cuda::is_available()) {
    const kn::Device gpu = kn::Device::cuda(0);
    kn::Tensor x = random_tensor({1000, 33}, -6.0f, 6.0f), dy = random_tensor({1000, 33}, -1.0f, 1.0f);
    kn::Tensor y_cpu = kn::Tensor::empty(x.shape()), dx_cpu = kn::Tensor::empty(x.shape());
    silu::forward(y_cpu, x);
    silu::backward(dx_cpu, 0.0f, dy, x);
    kn::Tensor xg = x.to(gpu), dyg = dy.to(gpu);
    kn::Tensor y_gpu = kn::Tensor::empty(x.shape(), kn::Dtype::Float32, gpu);
    kn::Tensor dx_gpu = kn::Tensor::empty(x.shape(), kn::Dtype::Float32, gpu);
    silu::forward(y_gpu, xg);
    silu::backward(dx_gpu, 0.0f, dyg, xg);
    const float df = max_diff(y_gpu, y_cpu), db = max_diff(dx_gpu, dx_cpu);
    const bool same = df < 1e-4f && db < 1e-4f;  // __expf against std::exp
    std::printf("cuda vs cpu: max |diff| forward %.2e, backward %.2e: %s\n", df, db, same ? "ok" : "FAILED");
    ok &= same;
  } else {
    std::printf("cuda vs cpu: skipped (%s)\n", kn::cuda::unavailable_reason().c_str());
  }
#else
  std::printf("cuda vs cpu: skipped (built without the CUDA kernels)\n");
#endif

  // 3. One traced forward and backward: the new op's events, with the layer they belong to.
  const kn::Device device = kn::cuda::is_available() ? kn::Device::cuda(0) : kn::Device::cpu();
  kn::data::Dataset iris = kn::data::load_iris();
  kn::data::Split s = kn::data::train_test_split(iris.X, iris.y, 0.2, 42);
  kn::data::MinMaxScaler scaler;
  kn::Tensor X_train = scaler.fit_transform(s.X_train).to(device);
  kn::Tensor X_test = scaler.transform(s.X_test).to(device);
  kn::Tensor y_train = s.y_train.to(device), y_test = s.y_test.to(device);
  kn::manual_seed(0);
  Net model;
  model.to(device);
  {
    kn::trace::Recorder trace;
    kn::cross_entropy(model(X_train), y_train).backward();
    model.zero_grad();
    for (auto& e : trace.events())
      if (e.op.rfind("silu", 0) == 0) std::printf("trace: %s\n", kn::trace::format(e).c_str());
  }

  // 4. Train with it.
  kn::optim::SGD optimizer(model.parameters(), 0.1f);
  kn::Tensor loss;
  for (int epoch = 1; epoch <= 3000; ++epoch) {
    loss = kn::cross_entropy(model(X_train), y_train);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  kn::NoGradGuard no_grad;
  const float accuracy = kn::metrics::accuracy(model(X_test), y_test);
  std::printf("Iris MLP with SiLU on %s: final loss %.4f, test accuracy %.4f\n", device.str().c_str(), loss.item(),
              accuracy);
  ok &= accuracy >= 0.9f;
  return ok ? 0 : 1;
}
