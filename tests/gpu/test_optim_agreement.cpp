// The optimisers against PyTorch on CUDA: each config of tests/fixtures/torch-optim.json
// trained for 2000 steps on the GPU (tests/optim_agreement.hpp; tests/test_optim_agreement.cpp
// is the CPU twin).
#include <catch2/catch.hpp>

#include "../optim_agreement.hpp"

using kn::Device;
using kn::test::optim_agreement::check_config;

TEST_CASE("CUDA agrees with PyTorch: SGD momentum 0.9", "[gpu][optim][torch]") { check_config("sgd_momentum", Device::cuda(0)); }
TEST_CASE("CUDA agrees with PyTorch: SGD momentum, dampening and weight decay", "[gpu][optim][torch]") {
  check_config("sgd_momentum_dampening_wd", Device::cuda(0));
}
TEST_CASE("CUDA agrees with PyTorch: SGD Nesterov with weight decay", "[gpu][optim][torch]") {
  check_config("sgd_nesterov_wd", Device::cuda(0));
}
TEST_CASE("CUDA agrees with PyTorch: Adam", "[gpu][optim][torch]") { check_config("adam", Device::cuda(0)); }
TEST_CASE("CUDA agrees with PyTorch: Adam amsgrad", "[gpu][optim][torch]") {
  check_config("adam_amsgrad", Device::cuda(0));
}
TEST_CASE("CUDA agrees with PyTorch: AdamW", "[gpu][optim][torch]") { check_config("adamw", Device::cuda(0)); }
TEST_CASE("CUDA agrees with PyTorch: StepLR over Adam", "[gpu][optim][torch]") { check_config("steplr_adam", Device::cuda(0)); }
TEST_CASE("CUDA agrees with PyTorch: SGD with clip_grad_norm_ at 0.1 (clipping 444 steps)", "[gpu][optim][torch]") {
  check_config("sgd_clip", Device::cuda(0));
}
TEST_CASE("CUDA agrees with PyTorch: SGD with clip_grad_norm_ at 0.5", "[gpu][optim][torch]") {
  check_config("sgd_clip_0_5", Device::cuda(0));
}
TEST_CASE("CUDA agrees with PyTorch: a Tanh/Sigmoid MLP trained with MSE on one-hot targets", "[gpu][optim][torch]") {
  check_config("mse_sigmoid_tanh", Device::cuda(0));
}
