// The optimisers on CUDA against the same optimisers on the CPU (the CPU backend is the
// reference: tests/test_optim.cpp checks it against the written-out rules), each step one
// launch for every parameter and no host wait; clip_grad_norm_ in two launches; and
// checkpoints that resume bit for bit on the device.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include <kernelnet/kernelnet.hpp>

#include "../optim_agreement.hpp"
#include "../test_util.hpp"

using namespace kn;

namespace {

// Parameters of odd sizes, a tensor past one block's worth and an empty one among them.
std::vector<Tensor> params_on(Device d) {
  std::vector<Tensor> out;
  uint32_t seed = 3;
  for (Shape s : {Shape{7, 5}, Shape{1}, Shape{300, 11}, Shape{0}, Shape{257}}) {
    Tensor t = s.numel() ? test::random_tensor(s, -1.0f, 1.0f, seed++) : Tensor::zeros(s);
    t = t.to(d);
    t.requires_grad_(true);
    out.push_back(t);
  }
  return out;
}
void backward_on(const std::vector<Tensor>& ps, int step) {
  Tensor loss = Tensor::zeros(Shape{}).to(ps[0].device());
  for (auto& p : ps) loss = loss + (p * p * p).sum() * (0.3f + 0.1f * float(step)) + p.sum();
  loss.backward();
}
std::unique_ptr<optim::Optimizer> make(int which, std::vector<Tensor> ps) {
  switch (which) {
    case 0: return std::make_unique<optim::SGD>(ps, optim::SGDOptions(0.05).momentum(0.9).dampening(0.2).weight_decay(1e-2));
    case 1: return std::make_unique<optim::SGD>(ps, optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(1e-3));
    case 2: return std::make_unique<optim::Adam>(ps, optim::AdamOptions(0.01).weight_decay(1e-2));
    case 3: return std::make_unique<optim::Adam>(ps, optim::AdamOptions(0.01).amsgrad(true));
    default: return std::make_unique<optim::AdamW>(ps, optim::AdamWOptions(0.01).weight_decay(0.1));
  }
}

}  // namespace

TEST_CASE("CUDA optimisers match the CPU's, one launch and no host wait per step", "[gpu][optim]") {
  const Device gpu = Device::cuda(0);
  for (int which = 0; which < 5; ++which) {
    auto cpu_ps = params_on(Device::cpu()), gpu_ps = params_on(gpu);
    auto cpu_opt = make(which, cpu_ps), gpu_opt = make(which, gpu_ps);
    INFO(gpu_opt->name() << " config " << which);
    for (int step = 0; step < 5; ++step) {
      cpu_opt->zero_grad();
      gpu_opt->zero_grad();
      backward_on(cpu_ps, step);
      backward_on(gpu_ps, step);
      cuda::synchronize(0);
      reset_stats(gpu);
      gpu_opt->step();
      const Stats s = stats(gpu);
      CHECK(s.launches == 1);
      CHECK(s.syncs == 0);
      CHECK(s.h2d_copies == 0);
      cpu_opt->step();
    }
    for (size_t i = 0; i < cpu_ps.size(); ++i) {
      const auto a = cpu_ps[i].to_vector<float>(), b = gpu_ps[i].to_vector<float>();
      for (size_t j = 0; j < a.size(); ++j) REQUIRE(b[j] == Approx(a[j]).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE("CUDA clip_grad_norm_ matches the CPU's in two launches, and waits only when read", "[gpu][optim]") {
  const Device gpu = Device::cuda(0);
  for (double max_norm : {0.5, 1e6}) {
    auto cpu_ps = params_on(Device::cpu()), gpu_ps = params_on(gpu);
    backward_on(cpu_ps, 1);
    backward_on(gpu_ps, 1);
    cuda::synchronize(0);
    reset_stats(gpu);
    auto total = nn::utils::clip_grad_norm_(gpu_ps, max_norm);
    const Stats s = stats(gpu);
    CHECK(s.launches == 2);
    CHECK(s.syncs == 0);
    CHECK(total.tensor().device() == gpu);
    const float want = nn::utils::clip_grad_norm_(cpu_ps, max_norm);
    CHECK(float(total) == Approx(want).epsilon(1e-6));
    for (size_t i = 0; i < cpu_ps.size(); ++i) {
      if (!cpu_ps[i].numel()) continue;
      const auto a = cpu_ps[i].grad().to_vector<float>(), b = gpu_ps[i].grad().to_vector<float>();
      for (size_t j = 0; j < a.size(); ++j) REQUIRE(b[j] == Approx(a[j]).epsilon(1e-5).margin(1e-7));
    }
  }
}

TEST_CASE("CUDA: resuming from a checkpoint continues bit for bit: Adam amsgrad", "[gpu][optim][checkpoint]") {
  test::optim_agreement::check_resume("adam_amsgrad", Device::cuda(0), 40, 23, test::temp_dir("gpu-ckpt"));
}
TEST_CASE("CUDA: resuming from a checkpoint continues bit for bit: SGD Nesterov", "[gpu][optim][checkpoint]") {
  test::optim_agreement::check_resume("sgd_nesterov_wd", Device::cuda(0), 40, 1, test::temp_dir("gpu-ckpt"));
}
TEST_CASE("CUDA: resuming from a checkpoint continues bit for bit: Adam with StepLR", "[gpu][optim][checkpoint]") {
  test::optim_agreement::check_resume("steplr_adam", Device::cuda(0), 40, 20, test::temp_dir("gpu-ckpt"));
}
