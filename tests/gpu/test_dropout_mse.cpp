// Dropout and MSE on CUDA through the public API: the same (seed, offset) drops the same
// elements on the GPU as on the CPU, so outputs and gradients agree bit for bit; the MSE
// loss agrees to 1e-6 and its gradients (one multiply each) bit for bit.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <kernelnet/functional.hpp>
#include <kernelnet/layers.hpp>
#include <kernelnet/loss.hpp>
#include <kernelnet/random.hpp>

#include "../test_util.hpp"

using namespace kn;

namespace {
const Device cuda0 = Device::cuda(0);

// Bit for bit, saying where not.
void check_same_bits(const Tensor& got, const Tensor& want, const std::string& what) {
  REQUIRE(got.shape() == want.shape());
  const auto g = got.to_vector<float>(), w = want.to_vector<float>();
  int64_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (std::memcmp(&g[i], &w[i], sizeof(float)) != 0 && bad++ < 5)
      UNSCOPED_INFO(what << "[" << i << "]: gpu " << g[i] << ", cpu " << w[i]);
  INFO(what << ": " << bad << " of " << g.size() << " elements differ");
  CHECK(bad == 0);
}
}  // namespace

TEST_CASE("dropout on CUDA drops the CPU's elements for the same seed, forward and backward", "[gpu]") {
  for (const Shape& shape : {Shape{1}, Shape{17, 33}, Shape{3001, 7}, Shape{1000003}})
    for (double p : {0.1, 0.5, 0.9}) {
      INFO("shape " << shape.str() << ", p = " << p);
      Tensor x_cpu = test::random_tensor(shape, -1.0f, 1.0f, 1).requires_grad_();
      Tensor x_gpu = x_cpu.to(cuda0).requires_grad_();
      const Tensor target = test::random_tensor(shape, -1.0f, 1.0f, 2);
      manual_seed(5);
      dropout(x_cpu, p);  // a second call, so offset 1 is compared as well as 0
      const Tensor y_cpu = dropout(x_cpu, p);
      mse_loss(y_cpu, target).backward();
      manual_seed(5);
      dropout(x_gpu, p);
      const Tensor y_gpu = dropout(x_gpu, p);
      CHECK(philox_state().offset == 2);
      mse_loss(y_gpu, target.to(cuda0)).backward();
      check_same_bits(y_gpu, y_cpu, "dropout(x)");
      check_same_bits(x_gpu.grad(), x_cpu.grad(), "x.grad");
    }
}

TEST_CASE("a Dropout layer on CUDA in train and eval mode matches the CPU", "[gpu]") {
  manual_seed(3);
  Sequential cpu_model(Linear(8, 32), Tanh(), Dropout(0.25), Linear(32, 4), Sigmoid());
  manual_seed(3);
  Sequential gpu_model(Linear(8, 32), Tanh(), Dropout(0.25), Linear(32, 4), Sigmoid());
  gpu_model.to(cuda0);
  const Tensor x = test::random_tensor({64, 8}, -1.0f, 1.0f, 4);
  for (bool training : {true, false}) {
    INFO("training " << training);
    cpu_model.train(training);
    gpu_model.train(training);
    manual_seed(8);
    const Tensor y_cpu = cpu_model(x);
    manual_seed(8);
    const Tensor y_gpu = gpu_model(x.to(cuda0));
    const auto g = y_gpu.to_vector<float>(), c = y_cpu.to_vector<float>();
    for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(c[i]).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("mse_loss on CUDA: the CPU's loss, and its input and target gradients to the bit", "[gpu]") {
  for (const Shape& shape : {Shape{1}, Shape{17, 33}, Shape{3001, 7}, Shape{1000003}}) {
    INFO("shape " << shape.str());
    Tensor a_cpu = test::random_tensor(shape, -1.0f, 1.0f, 6).requires_grad_();
    Tensor b_cpu = test::random_tensor(shape, -1.0f, 1.0f, 7).requires_grad_();
    Tensor a_gpu = a_cpu.to(cuda0).requires_grad_(), b_gpu = b_cpu.to(cuda0).requires_grad_();
    const Tensor loss_cpu = MSELoss()(a_cpu, b_cpu), loss_gpu = MSELoss()(a_gpu, b_gpu);
    CHECK(loss_gpu.item() == Approx(loss_cpu.item()).epsilon(1e-6));
    (loss_cpu * 0.5f).backward();
    (loss_gpu * 0.5f).backward();
    check_same_bits(a_gpu.grad(), a_cpu.grad(), "input.grad");
    check_same_bits(b_gpu.grad(), b_cpu.grad(), "target.grad");
  }
}
