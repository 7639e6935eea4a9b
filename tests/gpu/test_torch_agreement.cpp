// kernelnet against PyTorch on CUDA: the graph of every tensor op
// (tests/torch_agreement_graph.hpp) with its inputs moved to the GPU gives PyTorch's
// values, loss and gradients (tests/fixtures/torch-tensor-ops.json) within 1e-5 relative
// (+ 1e-6 absolute), as on the CPU (tests/test_torch_agreement.cpp).
#include <catch2/catch.hpp>

#include "../torch_agreement_graph.hpp"

using namespace kn;

TEST_CASE("CUDA: a graph of every tensor op agrees with PyTorch: values, loss and every gradient", "[gpu][torch]") {
  const auto fx = torch_agreement::load_fixture();
  const auto G = torch_agreement::run_graph(fx.at("inputs"), Device::cuda(0));
  for (const auto& [name, t] : G.leaves) {
    INFO(name);
    CHECK(t.device() == Device::cuda(0));
    CHECK(t.grad().device() == Device::cuda(0));
  }
  for (const auto& [name, t] : G.values) {
    INFO(name);
    CHECK(t.device() == Device::cuda(0));
  }
  torch_agreement::check_graph(G, fx);
}
