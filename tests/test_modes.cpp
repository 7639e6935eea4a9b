// The training modes (kn::iris::Config::mode) from the CPU side: names, and the clear
// error for graph on the CPU, which runs eager and fused (tests/test_fused_cpu.cpp).
// tests/gpu/test_modes.cpp runs the modes themselves on a GPU.
#include "iris_train.hpp"
#include "test_util.hpp"

using namespace kn;

TEST_CASE("training modes have names, and an unknown name is an error listing them", "[modes]") {
  for (iris::Mode m : {iris::Mode::Eager, iris::Mode::Graph, iris::Mode::Fused})
    CHECK(iris::parse_mode(iris::mode_name(m)) == m);
  CHECK(std::string(iris::mode_name(iris::Mode::Graph)) == "graph");
  CHECK(test::error_of([] { iris::parse_mode("turbo"); }) == "unknown training mode 'turbo': eager, graph or fused");
  CHECK(iris::Config{}.mode == iris::Mode::Eager);
}

TEST_CASE("graph mode on the CPU is an error that says to use a GPU, eager or fused", "[modes]") {
  iris::MLP model(4, 10, 3);
  iris::Config cfg;
  cfg.mode = iris::Mode::Graph;
  cfg.epochs = 1;
  const std::string e = test::error_of([&] { iris::train(cfg, model); });
  INFO(e);
  CHECK(e == "--mode graph needs a CUDA device; on cpu only --mode eager and --mode fused exist");
}

TEST_CASE("eager mode on the CPU reports the mode it ran", "[modes]") {
  iris::MLP model(4, 10, 3);
  iris::Config cfg;
  cfg.epochs = 3;
  const auto r = iris::train(cfg, model);
  CHECK(r.mode == iris::Mode::Eager);
  CHECK(r.fallback.empty());
  CHECK(r.setup_s == 0);
  CHECK(r.losses.size() == 3);
}

TEST_CASE("the fused kernel's shared memory: the layout's size, and what it allows", "[modes]") {
  // 120 doubles of row losses, 120 labels, and the floats: Xa 120x5, Ha 120x11, dlogits
  // 120x3, dH 120x10, W1a 10x5, W2a 3x11.
  CHECK(cuda::fused_mlp_shared_bytes(120, 4, 10, 3) == 120 * 8 + 120 * 4 + 4 * (600 + 1320 + 360 + 1200 + 50 + 33));
  // The H100/H200's 227 KiB per block (232448 bytes) holds Iris up to 228 hidden units.
  CHECK(cuda::fused_mlp_shared_bytes(120, 4, 228, 3) <= 232448);
  CHECK(cuda::fused_mlp_shared_bytes(120, 4, 229, 3) > 232448);
#if !KN_WITH_CUDA
  std::string why;
  CHECK_FALSE(cuda::fused_mlp_supported(120, 4, 10, 3, 0, &why));
  CHECK(why.find("without CUDA") != std::string::npos);
#endif
}
