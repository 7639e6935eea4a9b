// Layers on the GPU: the same user code moved with .to(device) gives the CPU's
// results, forward and backward, one SGD step, and the whole PyTorch fixture run.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "../test_util.hpp"
#include "iris_train.hpp"

using namespace kn;

namespace {
const Device gpu0 = Device::cuda(0);

void check_close(const Tensor& got, const Tensor& want, double atol, double rtol, const std::string& what) {
  REQUIRE(got.shape() == want.shape());
  const auto g = got.to_vector<float>(), w = want.to_vector<float>();
  int bad = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::fabs(double(g[i]) - w[i]) <= atol + rtol * std::fabs(double(w[i])))) {
      if (bad++ < 5) UNSCOPED_INFO(what << "[" << i << "]: gpu " << g[i] << ", cpu " << w[i]);
    }
  INFO(what << ": " << bad << " of " << g.size() << " elements outside tolerance");
  CHECK(bad == 0);
}

Tensor random_labels(int64_t n, int classes, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int64_t> v(n);
  for (auto& x : v) x = int64_t(gen() % classes);
  return Tensor::from_vector(v);
}

using kn::test::fixture;
}  // namespace

TEST_CASE("Linear, ReLU and cross-entropy: forward and backward on CUDA match the CPU", "[gpu]") {
  struct Shape3 { int batch, in, out; };
  for (Shape3 s : {Shape3{120, 4, 10}, Shape3{1, 1, 1}, Shape3{17, 33, 5}, Shape3{127, 129, 65}, Shape3{1000, 10, 3}}) {
    INFO("batch " << s.batch << ", in " << s.in << ", out " << s.out);
    manual_seed(uint64_t(s.batch * 7 + s.in));
    Linear cpu_layer(s.in, s.out);
    manual_seed(uint64_t(s.batch * 7 + s.in));
    Linear gpu_layer(s.in, s.out);
    gpu_layer.to(gpu0);
    Tensor x_cpu = kn::test::random_tensor({s.batch, s.in}, -1.0f, 1.0f, 1).requires_grad_();
    Tensor x_gpu = x_cpu.to(gpu0).requires_grad_();
    Tensor labels = random_labels(s.batch, s.out, 2);

    Tensor h_cpu = relu(cpu_layer(x_cpu)), h_gpu = relu(gpu_layer(x_gpu));
    check_close(h_gpu, h_cpu, 1e-5, 1e-4, "relu(linear(x))");
    Tensor loss_cpu = cross_entropy(cpu_layer(x_cpu), labels);
    Tensor loss_gpu = cross_entropy(gpu_layer(x_gpu), labels.to(gpu0));
    CHECK(loss_gpu.item() == Approx(loss_cpu.item()).epsilon(1e-5));
    loss_cpu.backward();
    loss_gpu.backward();
    check_close(gpu_layer.weight.grad(), cpu_layer.weight.grad(), 1e-5, 1e-4, "dW");
    check_close(gpu_layer.bias.grad(), cpu_layer.bias.grad(), 1e-5, 1e-4, "db");
    check_close(x_gpu.grad(), x_cpu.grad(), 1e-5, 1e-4, "dx");
  }
}

TEST_CASE("one SGD step of the Iris MLP on CUDA matches the CPU", "[gpu]") {
  manual_seed(1);
  iris::MLP cpu_model(4, 10, 3);
  manual_seed(1);
  iris::MLP gpu_model(4, 10, 3);
  gpu_model.to(gpu0);
  for (auto& p : gpu_model.parameters()) CHECK(p.device() == gpu0);
  Tensor x = kn::test::random_tensor({120, 4}, -1.0f, 1.0f, 3);
  Tensor y = random_labels(120, 3, 4);
  optim::SGD cpu_opt(cpu_model.parameters(), 0.1f), gpu_opt(gpu_model.parameters(), 0.1f);
  for (int step = 0; step < 3; ++step) {
    Tensor lc = cross_entropy(cpu_model(x), y), lg = cross_entropy(gpu_model(x.to(gpu0)), y.to(gpu0));
    cpu_opt.zero_grad();
    gpu_opt.zero_grad();
    lc.backward();
    lg.backward();
    cpu_opt.step();
    gpu_opt.step();
  }
  const auto c = cpu_model.state_dict(), g = gpu_model.state_dict();
  for (size_t i = 0; i < c.size(); ++i) check_close(g[i].second, c[i].second, 1e-6, 1e-5, c[i].first);
}

TEST_CASE("CUDA: 20000 epochs from the fixture's weights reproduce PyTorch's losses and weights", "[gpu][slow]") {
  std::vector<float> want;
  {
    std::ifstream in(fixture("torch-iris-seed1/losses.txt"));
    for (float v; in >> v;) want.push_back(v);
  }
  REQUIRE(want.size() == 20000);
  iris::MLP model(4, 10, 3);
  load(model, fixture("torch-iris-seed1/init.safetensors"));
  iris::Config cfg;
  cfg.device = gpu0;
  cfg.epochs = 20000;
  cfg.record_every = 1;
  auto r = iris::train(cfg, model);
  REQUIRE(r.losses.size() == 20000);
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(double(r.losses[i].second) - want[i]));
  INFO("largest loss difference " << worst);
  CHECK(worst <= 1e-4);
  const auto fin = load_safetensors(fixture("torch-iris-seed1/final.safetensors"));
  for (auto& [name, p] : model.state_dict())
    for (auto& [n2, t] : fin)
      if (n2 == name) check_close(p, t, 1e-4, 0.0, name);
  CHECK(r.test_acc == Approx(29.0 / 30.0));
  // the lesson's first script: one synchronising read per epoch
  CHECK(r.stats.syncs >= 20000);
}

TEST_CASE("ops on tensors of two devices are errors naming both", "[gpu]") {
  manual_seed(0);
  Linear layer(4, 3);
  Tensor x = kn::test::random_tensor({2, 4}, -1.0f, 1.0f, 5).to(gpu0);
  try {
    layer(x);
    FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("cuda:0") != std::string::npos);
    CHECK(m.find("cpu") != std::string::npos);
  }
}
