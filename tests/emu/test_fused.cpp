// The fused training kernel (kernels/fused_mlp.cu: a whole training run in one block) on
// the CPU harness, against eager training with the CPU backend (the same model, the same
// initial weights, the same SGD), with the GPU tests' tolerances (tests/gpu/test_modes.cpp):
// on several shapes, a few epochs each, and at its limits.
#include <random>
#include <string>
#include <vector>

#include <kernelnet/ops.hpp>

#include "emu_test.hpp"
#include "fused_mlp.hpp"
#include "iris_train.hpp"

using namespace kn;
using Catch::Matchers::Contains;
using kn::test::DeviceArray;

namespace {

struct Case {
  int rows, in, hidden, classes;
};

// Trains one model eagerly on the CPU and one copy of it with the fused kernel on the
// harness, and compares the losses of every epoch and the final weights.
void check_fused(Case c, int epochs, float lr) {
  INFO(c.in << "-" << c.hidden << "-" << c.classes << " on " << c.rows << " rows, " << epochs << " epochs");
  std::mt19937 gen(uint32_t(c.rows + c.hidden));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(std::size_t(c.rows) * c.in);
  for (auto& v : x) v = uniform(gen);
  std::vector<int64_t> labels(std::size_t(c.rows));
  for (auto& l : labels) l = int64_t(gen() % uint32_t(c.classes));

  manual_seed(uint64_t(c.rows));
  iris::MLP model(c.in, c.hidden, c.classes);
  std::vector<DeviceArray<float>> weights;  // fc1.weight, fc1.bias, fc2.weight, fc2.bias, before training
  for (Tensor* p : {&model.fc1.weight, &model.fc1.bias, &model.fc2.weight, &model.fc2.bias})
    weights.emplace_back(p->to_vector<float>());

  const Tensor X = Tensor::from_vector(x).reshape({c.rows, c.in}), y = Tensor::from_vector(labels);
  optim::SGD opt(model.parameters(), lr);
  std::vector<float> want;
  for (int e = 0; e < epochs; ++e) {
    Tensor loss = cross_entropy(model(X), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    want.push_back(loss.item());
  }

  REQUIRE(cuda::fused_mlp_supported(c.rows, c.in, c.hidden, c.classes, 0, nullptr));
  DeviceArray<float> dev_x(x), losses{std::size_t(epochs)};
  DeviceArray<int64_t> dev_labels(labels);
  losses.poison();
  cuda::fused_mlp_train(losses.get(), weights[0].get(), weights[1].get(), weights[2].get(), weights[3].get(),
                        dev_x.get(), dev_labels.get(), c.rows, c.in, c.hidden, c.classes, epochs, lr, 0);
  KN_CHECK_CLOSE(losses.download(), want, 1e-5, 1e-5);
  const Tensor* trained[] = {&model.fc1.weight, &model.fc1.bias, &model.fc2.weight, &model.fc2.bias};
  for (int i = 0; i < 4; ++i) KN_CHECK_CLOSE(weights[std::size_t(i)].download(), trained[i]->to_vector<float>(), 1e-5, 1e-4);
}

}  // namespace

TEST_CASE("the fused kernel trains the Iris MLP as eager training does", "[emu][fused]") {
  kn_emu::reset();
  check_fused({120, 4, 10, 3}, 6, 0.01f);
  // One launch of one block of 1024 threads, run once per order.
  CHECK(kn_emu::launched() == std::vector<std::string>{"fused_mlp_kernel"});
  CHECK(kn_emu::counters().launches == 1);
  CHECK(kn_emu::counters().threads == 1024 * kn_emu::options().orders);
}

TEST_CASE("the fused kernel matches eager training on other shapes", "[emu][fused]") {
  for (Case c : {Case{1, 1, 1, 1}, Case{33, 2, 5, 64}, Case{64, 64, 9, 33}, Case{200, 7, 37, 40}})
    check_fused(c, 3, 0.1f);
}

TEST_CASE("the fused kernel at its limits: 64 classes, the last hidden size that fits, and past them",
          "[emu][fused]") {
  // 120 rows, 4 inputs, 3 classes: 228 hidden units fit in 227 KiB of shared memory, 229 do not.
  CHECK(cuda::fused_mlp_shared_bytes(120, 4, 228, 3) <= 227 * 1024);
  CHECK(cuda::fused_mlp_shared_bytes(120, 4, 229, 3) > 227 * 1024);
  check_fused({120, 4, 228, 3}, 2, 0.01f);
  std::string why;
  CHECK_FALSE(cuda::fused_mlp_supported(120, 4, 229, 3, 0, &why));
  CHECK_THAT(why, Contains("shared memory"));
  CHECK_FALSE(cuda::fused_mlp_supported(120, 4, 10, 65, 0, &why));
  CHECK_THAT(why, Contains("at most 64 classes"));
  DeviceArray<float> dummy(1);
  DeviceArray<int64_t> no_labels(1);
  CHECK_THAT(kn::test::error_of([&] {
               cuda::fused_mlp_train(dummy.get(), dummy.get(), dummy.get(), dummy.get(), dummy.get(), dummy.get(),
                                     no_labels.get(), 120, 4, 229, 3, 1, 0.01f, 0);
             }),
             Contains("kn::cuda::fused_mlp_train") && Contains("shared memory"));
}
