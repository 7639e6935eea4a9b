// The training modes on the GPU (kn::iris::Config::mode): graph and fused reproduce the
// PyTorch fixture as eager does, graph mode reads the losses back in chunks, fused mode
// falls back to graph for a model it cannot hold; and the pieces under them, graph
// capture (kn::cuda::Capture) and the fused kernel on other shapes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <kernelnet/cuda/graph.hpp>
#include <kernelnet/ops.hpp>

#include "fused_mlp.hpp"
#include "gpu_test_util.hpp"
#include "../test_util.hpp"
#include "iris_train.hpp"

using namespace kn;
using Catch::Matchers::Contains;

namespace {
const Device gpu = Device::cuda(0);

using kn::test::fixture;

using kn::test::fixture_losses;

double largest_weight_difference(const iris::MLP& model) {
  const auto fin = load_safetensors(fixture("torch-iris-seed1/final.safetensors"));
  double worst = 0;
  for (auto& [name, p] : model.state_dict())
    for (auto& [n2, t] : fin)
      if (n2 == name) {
        const auto a = p.to_vector<float>(), b = t.to_vector<float>();
        for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
      }
  return worst;
}

// The fixture's 20000 epochs in one mode: every loss and the final weights within 1e-4.
iris::Result run_fixture(iris::Mode mode) {
  const auto want = fixture_losses();
  REQUIRE(want.size() == 20000);
  iris::MLP model(4, 10, 3);
  load(model, fixture("torch-iris-seed1/init.safetensors"));
  iris::Config cfg;
  cfg.device = gpu;
  cfg.mode = mode;
  cfg.epochs = 20000;
  cfg.record_every = 1;
  auto r = iris::train(cfg, model);
  CHECK(r.mode == mode);
  REQUIRE(r.losses.size() == 20000);
  double worst = 0;
  int worst_epoch = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(r.losses[i].first == int(i) + 1);
    const double d = std::fabs(double(r.losses[i].second) - want[i]);
    if (!(d <= worst)) worst = d, worst_epoch = int(i) + 1;
  }
  INFO(iris::mode_name(mode) << ": largest loss difference " << worst << " at epoch " << worst_epoch);
  CHECK(worst <= 1e-4);
  const double worst_w = largest_weight_difference(model);
  INFO(iris::mode_name(mode) << ": largest weight difference " << worst_w);
  CHECK(worst_w <= 1e-4);
  CHECK(r.final_loss == r.losses.back().second);
  CHECK(r.test_acc == Approx(29.0 / 30.0));
  return r;
}

// The losses of `epochs` epochs of a 4-hidden-3 MLP from init seed 3, in `mode`.
iris::Result run_small(iris::Mode mode, int hidden, int epochs, int record_every, int readback_every = 1000) {
  manual_seed(3);
  iris::MLP model(4, hidden, 3);
  iris::Config cfg;
  cfg.device = gpu;
  cfg.mode = mode;
  cfg.hidden = hidden;
  cfg.epochs = epochs;
  cfg.lr = 0.05f;
  cfg.record_every = record_every;
  cfg.readback_every = readback_every;
  return iris::train(cfg, model);
}
}  // namespace

TEST_CASE("graph mode: 20000 replayed epochs reproduce PyTorch's losses and weights", "[gpu][modes][slow]") {
  const auto r = run_fixture(iris::Mode::Graph);
  // Every epoch's loss recorded, yet a synchronisation per 1000 epochs, not per epoch;
  // and one launch per replayed epoch (epoch 1 runs eagerly, a launch per op).
  INFO("syncs " << r.stats.syncs << ", launches " << r.stats.launches);
  CHECK(r.stats.syncs <= 25);
  CHECK(r.stats.launches >= 19999);
  CHECK(r.stats.launches <= 19999 + 50);
  CHECK(r.fallback.empty());
  CHECK(r.setup_s > 0);
  CHECK(r.setup_s < r.time_s);
}

TEST_CASE("fused mode: one kernel for 20000 epochs reproduces PyTorch's losses and weights", "[gpu][modes][slow]") {
  const auto r = run_fixture(iris::Mode::Fused);
  INFO("syncs " << r.stats.syncs << ", launches " << r.stats.launches);
  CHECK(r.stats.launches <= 2);  // the kernel, and the copy of the last loss is not a launch
  CHECK(r.stats.syncs <= 3);
  CHECK(r.stats.d2h_bytes >= 20000 * 4);
}

TEST_CASE("graph mode records the same epochs and losses as eager, whatever the readback chunking", "[gpu][modes]") {
  const auto eager = run_small(iris::Mode::Eager, 10, 95, 7);
  std::size_t k = 0;
  for (int readback : {1, 10, 7, 0, 1000}) {
    if (!kn::test::in_shard(k++)) continue;
    INFO("readback every " << readback);
    const auto graph = run_small(iris::Mode::Graph, 10, 95, 7, readback);
    REQUIRE(graph.losses.size() == eager.losses.size());
    for (size_t i = 0; i < eager.losses.size(); ++i) {
      CHECK(graph.losses[i].first == eager.losses[i].first);
      CHECK(graph.losses[i].second == Approx(eager.losses[i].second).margin(1e-6));
    }
    CHECK(graph.final_loss == Approx(eager.final_loss).margin(1e-6));
  }
  const auto never = run_small(iris::Mode::Graph, 10, 95, 0);  // no readback at all: the final loss still comes
  CHECK(never.losses.empty());
  CHECK(never.final_loss == Approx(eager.final_loss).margin(1e-6));
  CHECK(never.stats.syncs <= 3);
}

TEST_CASE("fused mode falls back to graph mode, saying why, for a model too big for one SM", "[gpu][modes]") {
  std::string why;
  CHECK(cuda::fused_mlp_supported(120, 4, 10, 3, 0, &why));
  CHECK(why.empty());
  CHECK_FALSE(cuda::fused_mlp_supported(120, 4, 4096, 3, 0, &why));
  CHECK_THAT(why, Contains("shared memory"));
  CHECK_FALSE(cuda::fused_mlp_supported(120, 4, 10, 65, 0, &why));
  CHECK_THAT(why, Contains("at most 64 classes"));

  const auto eager = run_small(iris::Mode::Eager, 4096, 30, 1);
  const auto fused = run_small(iris::Mode::Fused, 4096, 30, 1);
  CHECK(fused.mode == iris::Mode::Graph);
  CHECK_THAT(fused.fallback, Contains("shared memory"));
  REQUIRE(fused.losses.size() == eager.losses.size());
  for (size_t i = 0; i < eager.losses.size(); ++i)
    CHECK(fused.losses[i].second == Approx(eager.losses[i].second).margin(1e-6));
}

TEST_CASE("the fused kernel matches eager training on other shapes", "[gpu][modes]") {
  struct Case { int rows, in, hidden, classes; };
  std::size_t k = 0;
  for (Case c : {Case{200, 7, 37, 40}, Case{1, 1, 1, 1}, Case{33, 2, 5, 64}, Case{800, 3, 20, 2}, Case{64, 64, 9, 33}}) {
    if (!kn::test::in_shard(k++)) continue;
    INFO(c.in << "-" << c.hidden << "-" << c.classes << " on " << c.rows << " rows");
    std::mt19937 gen(uint32_t(c.rows + c.hidden));
    Tensor X = Tensor::empty({c.rows, c.in});
    for (int64_t i = 0; i < X.numel(); ++i) X.data<float>()[i] = uniform_float(gen, -1.0f, 1.0f);
    std::vector<int64_t> labels(c.rows);
    for (auto& l : labels) l = int64_t(gen() % uint32_t(c.classes));
    Tensor y = Tensor::from_vector(labels);
    manual_seed(uint64_t(c.rows));
    iris::MLP eager(c.in, c.hidden, c.classes);
    manual_seed(uint64_t(c.rows));
    iris::MLP fused(c.in, c.hidden, c.classes);
    eager.to(gpu);
    fused.to(gpu);
    Tensor Xg = X.to(gpu), yg = y.to(gpu);
    const int epochs = 300;
    const float lr = 0.1f;
    optim::SGD opt(eager.parameters(), lr);
    std::vector<float> want;
    for (int e = 0; e < epochs; ++e) {
      Tensor loss = cross_entropy(eager(Xg), yg);
      opt.zero_grad();
      loss.backward();
      opt.step();
      want.push_back(loss.item());
    }
    REQUIRE(cuda::fused_mlp_supported(c.rows, c.in, c.hidden, c.classes, 0, nullptr));
    Tensor losses = Tensor::empty({epochs}, Dtype::Float32, gpu);
    cuda::fused_mlp_train(losses.data<float>(), fused.fc1.weight.data<float>(), fused.fc1.bias.data<float>(),
                          fused.fc2.weight.data<float>(), fused.fc2.bias.data<float>(), Xg.data<float>(),
                          yg.data<int64_t>(), c.rows, c.in, c.hidden, c.classes, epochs, lr, 0);
    KN_CHECK_CLOSE(losses.to_vector<float>(), want, 1e-5, 1e-5);
    const auto a = fused.state_dict(), b = eager.state_dict();
    for (size_t i = 0; i < a.size(); ++i) KN_CHECK_CLOSE(a[i].second.to_vector<float>(), b[i].second.to_vector<float>(), 1e-5, 1e-4);
  }
}

TEST_CASE("the fused kernel is deterministic: two runs agree bit for bit", "[gpu][modes]") {
  iris::Result runs[2];
  for (auto& r : runs) r = run_small(iris::Mode::Fused, 10, 500, 1);
  REQUIRE(runs[0].losses.size() == 500);
  for (size_t i = 0; i < 500; ++i) CHECK(runs[0].losses[i].second == runs[1].losses[i].second);
}

TEST_CASE("a diverging run stops with the epoch in every mode", "[gpu][modes]") {
  for (iris::Mode mode : {iris::Mode::Graph, iris::Mode::Fused}) {
    INFO(iris::mode_name(mode));
    iris::MLP model(4, 10, 3);
    load(model, fixture("torch-iris-seed1/init.safetensors"));
    for (auto& p : model.parameters())
      for (int64_t i = 0; i < p.numel(); ++i) p.data<float>()[i] *= 1e37f;
    iris::Config cfg;
    cfg.device = gpu;
    cfg.mode = mode;
    cfg.epochs = 10;
    CHECK_THROWS_WITH(iris::train(cfg, model), Contains("training diverged") && Contains("at epoch 1;"));
  }
}

TEST_CASE("graph capture: a captured op replays, counts one launch per replay, and keeps its counter on the device",
          "[gpu][modes]") {
  Tensor x = Tensor::zeros({1000}, gpu);
  Tensor log = Tensor::full({4}, -1.0f, gpu);
  Tensor count = Tensor::from_vector(std::vector<int64_t>{0}).to(gpu);
  cuda::synchronize(0);
  reset_stats();
  cuda::Graph g;
  {
    cuda::Capture capture(0);
    CHECK(cuda::is_capturing(0));
    ops::accumulate(gpu, x.data<float>(), Tensor::ones({1000}, gpu).data<float>(), 1000, 1.0f);  // x += 1
    cuda::log_value(log.data<float>(), count.data<int64_t>(), x.data<float>(), 4, 0);
    g = capture.end();
  }
  CHECK_FALSE(cuda::is_capturing(0));
  CHECK(g.valid());
  CHECK(g.nodes() >= 4);  // the ones' allocation, fill, accumulate, log, free
  CHECK(stats().launches == 0);  // captured, not run
  for (int i = 0; i < 3; ++i) g.replay();
  CHECK(stats().launches == 3);
  CHECK(log.to_vector<float>() == std::vector<float>{1, 2, 3, -1});
  CHECK(count.to_vector<int64_t>() == std::vector<int64_t>{3});
  CHECK(x.to_vector<float>()[999] == 3.0f);
}

TEST_CASE("graph capture: what cannot be captured is an error, and the stream stays usable", "[gpu][modes][api-error]") {
  Tensor x = Tensor::zeros({16}, gpu);
  CHECK_THROWS_AS(
      [&] {
        cuda::Capture capture(0);
        ops::fill(gpu, x.data<float>(), 2.0f, 16);
        (void)x.to_vector<float>();  // a copy to the host waits for the device: not allowed
        capture.end();
      }(),
      Error);
  CHECK_FALSE(cuda::is_capturing(0));
  ops::fill(gpu, x.data<float>(), 5.0f, 16);
  CHECK(x.to_vector<float>()[15] == 5.0f);
  {
    trace::Recorder traced;  // the trace is on: capture refuses to start
    CHECK_THROWS_WITH(cuda::Capture(0), Contains("the trace is on"));
  }
  CHECK_FALSE(cuda::is_capturing(0));
}
