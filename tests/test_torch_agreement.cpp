// kernelnet against PyTorch on one graph that uses every tensor op: the values, the loss
// and every leaf's gradient, on the CPU, within 1e-5 relative (+ 1e-6 absolute) of
// tests/fixtures/torch-tensor-ops.json, which tests/fixtures/make_tensor_ops_fixture.py
// wrote with PyTorch. The graph itself is in torch_agreement_graph.hpp, shared with the
// CUDA test (tests/gpu/test_torch_agreement.cpp).
#include "test_util.hpp"
#include "torch_agreement_graph.hpp"

using namespace kn;

TEST_CASE("CPU: a graph of every tensor op agrees with PyTorch: values, loss and every gradient", "[torch]") {
  const auto fx = torch_agreement::load_fixture();
  const auto G = torch_agreement::run_graph(fx.at("inputs"), Device::cpu());
  torch_agreement::check_graph(G, fx);
}

TEST_CASE("the PyTorch agreement check notices one input changed by 0.01", "[torch]") {
  // The comparison is of computed values: move one element of X (0.39) by 0.01 and the
  // loss (dloss/dX[0][0] is about -0.3) leaves the tolerance, as would a wrong op.
  auto fx = torch_agreement::load_fixture();
  const double want = fx.at("loss").get<double>();
  auto inputs = fx.at("inputs");
  inputs["X"][0][0] = inputs["X"][0][0].get<double>() + 0.01;
  const double got = torch_agreement::run_graph(inputs, Device::cpu()).loss.item<float>();
  INFO("loss " << got << " against PyTorch's " << want << " for the unchanged input");
  CHECK(std::fabs(got - want) > torch_agreement::kRelTol * std::fabs(want) + torch_agreement::kAbsFloor);
}
