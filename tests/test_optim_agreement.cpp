// The optimisers against PyTorch on the CPU: each config of tests/fixtures/torch-optim.json
// trained for 2000 steps (tests/optim_agreement.hpp; the CUDA twin is
// tests/gpu/test_optim_agreement.cpp).
#include <catch2/catch.hpp>

#include "optim_agreement.hpp"

using kn::Device;
using kn::test::optim_agreement::check_config;

TEST_CASE("CPU agrees with PyTorch: SGD momentum 0.9", "[optim][torch]") { check_config("sgd_momentum", Device::cpu()); }
TEST_CASE("CPU agrees with PyTorch: SGD momentum, dampening and weight decay", "[optim][torch]") {
  check_config("sgd_momentum_dampening_wd", Device::cpu());
}
TEST_CASE("CPU agrees with PyTorch: SGD Nesterov with weight decay", "[optim][torch]") {
  check_config("sgd_nesterov_wd", Device::cpu());
}
TEST_CASE("CPU agrees with PyTorch: Adam", "[optim][torch]") { check_config("adam", Device::cpu()); }
TEST_CASE("CPU agrees with PyTorch: Adam amsgrad", "[optim][torch]") {
  check_config("adam_amsgrad", Device::cpu());
}
TEST_CASE("CPU agrees with PyTorch: AdamW", "[optim][torch]") { check_config("adamw", Device::cpu()); }
TEST_CASE("CPU agrees with PyTorch: StepLR over Adam", "[optim][torch]") { check_config("steplr_adam", Device::cpu()); }
TEST_CASE("CPU agrees with PyTorch: SGD with clip_grad_norm_ at 0.1 (clipping 444 steps)", "[optim][torch]") {
  check_config("sgd_clip", Device::cpu());
}
TEST_CASE("CPU agrees with PyTorch: SGD with clip_grad_norm_ at 0.5", "[optim][torch]") {
  check_config("sgd_clip_0_5", Device::cpu());
}
TEST_CASE("CPU agrees with PyTorch: a Tanh/Sigmoid MLP trained with MSE on one-hot targets", "[optim][torch]") {
  check_config("mse_sigmoid_tanh", Device::cpu());
}
