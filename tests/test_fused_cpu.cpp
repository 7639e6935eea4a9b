// The fused CPU training loop (support/fused_mlp_cpu.hpp, kn-iris --device cpu --mode
// fused) against eager training with the CPU backend: the same model, initial weights and
// SGD, on odd shapes and on the lesson's 20000 Iris epochs; its outputs written whole; an
// invalid label; and the models it does not take, which train eagerly instead.
//
// Tolerances (docs/fast-training.md): the fused loop sums over rows and features in
// another order than Eigen's GEMMs, so it agrees with eager to rounding, which grows as
// training goes. The measured maxima (-O3 -march=native build / -O1 ASan build, both
// AVX-512) are in the comments by each bound; each bound is at least 3x the larger.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <kernelnet/ops.hpp>

#include "fused_mlp_cpu.hpp"
#include "iris_train.hpp"
#include "test_util.hpp"

using namespace kn;
using Catch::Matchers::Contains;

namespace {

struct Shape4 {
  int rows, in, hidden, classes;
};

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= worst)) worst = d;  // a NaN on either side is the worst
  }
  return worst;
}

struct Compared {
  double loss = 0, weight = 0;
};

// Trains one model eagerly (Linear, ReLU, Linear, cross_entropy, SGD: the Tensor API) and
// a copy of its initial weights with the fused loop; the largest loss and weight differences.
Compared compare_with_eager(Shape4 s, int epochs, float lr) {
  std::mt19937 gen(uint32_t(s.rows * 131 + s.hidden));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(std::size_t(s.rows) * s.in);
  for (auto& v : x) v = uniform(gen);
  std::vector<int64_t> labels(std::size_t(s.rows));
  for (auto& l : labels) l = int64_t(gen() % uint32_t(s.classes));

  manual_seed(uint64_t(s.rows + s.in));
  iris::MLP model(s.in, s.hidden, s.classes);
  std::vector<std::vector<float>> w;  // fc1.weight, fc1.bias, fc2.weight, fc2.bias, before training
  for (Tensor* p : {&model.fc1.weight, &model.fc1.bias, &model.fc2.weight, &model.fc2.bias})
    w.push_back(p->to_vector<float>());

  const Tensor X = Tensor::from_vector(x).reshape({s.rows, s.in}), y = Tensor::from_vector(labels);
  optim::SGD opt(model.parameters(), lr);
  std::vector<float> want;
  for (int e = 0; e < epochs; ++e) {
    Tensor loss = cross_entropy(model(X), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    want.push_back(loss.item());
  }

  REQUIRE(cpu::fused_mlp_cpu_supported(s.rows, s.in, s.hidden, s.classes, nullptr));
  std::vector<float> losses(std::size_t(epochs), std::numeric_limits<float>::quiet_NaN());
  cpu::fused_mlp_cpu_train(losses.data(), w[0].data(), w[1].data(), w[2].data(), w[3].data(), x.data(),
                           labels.data(), s.rows, s.in, s.hidden, s.classes, epochs, lr);
  Compared c;
  c.loss = max_abs_diff(losses, want);
  const Tensor* trained[] = {&model.fc1.weight, &model.fc1.bias, &model.fc2.weight, &model.fc2.bias};
  for (int i = 0; i < 4; ++i) c.weight = std::max(c.weight, max_abs_diff(w[std::size_t(i)], trained[i]->to_vector<float>()));
  return c;
}

std::vector<float> losses_of(const iris::Result& r) {
  std::vector<float> v;
  for (auto& [epoch, loss] : r.losses) v.push_back(loss);
  return v;
}

using kn::test::fixture_losses;

}  // namespace

TEST_CASE("fused CPU loop: odd shapes train as eager training does", "[fused][cpu]") {
  // Rows that fill no whole block (1, 17, 37), one hidden unit, one or two classes, a
  // tile tail in every dimension; 300 epochs at lr 0.1, so the weights really move.
  for (Shape4 s : {Shape4{37, 5, 13, 4}, Shape4{1, 5, 1, 1}, Shape4{17, 5, 13, 2}, Shape4{37, 5, 1, 4},
                   Shape4{16, 3, 8, 2}, Shape4{33, 2, 5, 64}, Shape4{200, 7, 37, 40}}) {
    INFO(s.in << "-" << s.hidden << "-" << s.classes << " on " << s.rows << " rows");
    const Compared c = compare_with_eager(s, 300, 0.1f);
    INFO("largest loss difference " << c.loss << ", weight difference " << c.weight);
    // measured over these shapes: loss 4.8e-7 / 4.8e-7, weights 2.4e-7 / 2.4e-7
    CHECK(c.loss <= 1.5e-6);
    CHECK(c.weight <= 1e-6);
  }
}

TEST_CASE("fused CPU loop: 20000 Iris epochs follow eager mode and PyTorch, epoch by epoch", "[fused][cpu]") {
  iris::Config cfg;
  cfg.epochs = 20000;
  cfg.record_every = 1;
  iris::Result res[2];
  std::vector<float> weights[2];
  for (int i = 0; i < 2; ++i) {
    iris::MLP model(4, 10, 3);
    load(model, test::fixture("torch-iris-seed1/init.safetensors"));
    cfg.mode = i == 0 ? iris::Mode::Eager : iris::Mode::Fused;
    res[i] = iris::train(cfg, model);
    for (auto& [name, p] : model.state_dict())
      for (float v : p.to_vector<float>()) weights[i].push_back(v);
  }
  CHECK(res[1].mode == iris::Mode::Fused);
  CHECK(res[1].fallback.empty());
  REQUIRE(res[0].losses.size() == 20000);
  REQUIRE(res[1].losses.size() == 20000);
  CHECK(res[1].losses.front().first == 1);
  CHECK(res[1].losses.back().first == 20000);
  const std::vector<float> eager = losses_of(res[0]), fused = losses_of(res[1]), torch = fixture_losses();
  REQUIRE(torch.size() == 20000);
  const double vs_eager = max_abs_diff(fused, eager), vs_torch = max_abs_diff(fused, torch);
  const double w_vs_eager = max_abs_diff(weights[1], weights[0]);
  INFO("fused vs eager: largest loss difference " << vs_eager << ", weights " << w_vs_eager
                                                  << "; fused vs PyTorch: losses " << vs_torch);
  // measured: vs eager 1.2e-7 / 1.2e-7; vs PyTorch 2.4e-7 / 2.4e-7 (2.9e-7 built for AVX2 or
  // SSE2, outside the suite); weights vs eager 2.6e-6 / 1.5e-6
  CHECK(vs_eager <= 1e-6);
  CHECK(vs_torch <= 1e-6);  // tighter than the 1e-5 eager mode is held to (tests/test_fixture.cpp)
  CHECK(w_vs_eager <= 1e-5);
  CHECK(res[1].final_loss == fused.back());
  CHECK(res[1].test_acc == res[0].test_acc);
}

TEST_CASE("fused CPU loop: every loss written over poison, an invalid label gives NaN losses", "[fused][cpu]") {
  const int rows = 21, in = 3, hidden = 6, classes = 3, epochs = 50;
  std::vector<float> x(std::size_t(rows) * in);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) / 7.0f - 0.4f;
  std::vector<int64_t> labels(rows);
  for (int r = 0; r < rows; ++r) labels[std::size_t(r)] = r % classes;
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  std::vector<float> W1(std::size_t(hidden) * in), b1(std::size_t{hidden}), W2(std::size_t(classes) * hidden),
      b2(std::size_t{classes});
  for (auto* v : {&W1, &b1, &W2, &b2})
    for (float& f : *v) f = uniform(gen);

  for (float poison : {std::numeric_limits<float>::quiet_NaN(), -1e30f, 12345.0f}) {
    INFO("poison " << poison);
    std::vector<float> losses(epochs + 1, poison);  // one more: must stay untouched
    auto w1 = W1, bb1 = b1, w2 = W2, bb2 = b2;
    cpu::fused_mlp_cpu_train(losses.data(), w1.data(), bb1.data(), w2.data(), bb2.data(), x.data(), labels.data(),
                             rows, in, hidden, classes, epochs, 0.5f);
    for (int e = 0; e < epochs; ++e) {
      INFO("epoch " << e + 1);
      CHECK(std::isfinite(losses[std::size_t(e)]));
      CHECK(losses[std::size_t(e)] > 0.0f);
      CHECK(losses[std::size_t(e)] < 5.0f);
    }
    CHECK(losses[1] < losses[0]);  // it trains
    CHECK((std::isnan(poison) ? std::isnan(losses.back()) : losses.back() == poison));
    CHECK(w1 != W1);
    CHECK(bb2 != b2);
  }

  // A label outside [0, classes), at the first row, the last, or one in the middle: every
  // loss is NaN (the contract of the GPU kernel and of the CPU backend's softmax_ce_forward;
  // kn::cross_entropy refuses such a label before it gets there).
  for (int bad_row : {0, rows - 1, 16}) {
    for (int64_t bad : {int64_t(-1), int64_t(classes), int64_t(1) << 40}) {
      INFO("label " << bad << " at row " << bad_row);
      auto l = labels;
      l[std::size_t(bad_row)] = bad;
      std::vector<float> losses(epochs, 0.5f);
      auto w1 = W1, bb1 = b1, w2 = W2, bb2 = b2;
      cpu::fused_mlp_cpu_train(losses.data(), w1.data(), bb1.data(), w2.data(), bb2.data(), x.data(), l.data(), rows,
                               in, hidden, classes, epochs, 0.5f);
      for (float v : losses) CHECK(std::isnan(v));
      float op_loss = 0.0f;
      std::vector<float> logits(std::size_t(rows) * classes, 0.25f), dlogits(logits.size());
      cpu::softmax_ce_forward(&op_loss, dlogits.data(), logits.data(), l.data(), rows, classes);
      CHECK(std::isnan(op_loss));  // the CPU backend's op says the same
    }
  }

  // epochs 0 writes nothing and changes nothing.
  std::vector<float> none{7.0f};
  auto w1 = W1;
  cpu::fused_mlp_cpu_train(none.data(), w1.data(), b1.data(), W2.data(), b2.data(), x.data(), labels.data(), rows, in,
                           hidden, classes, 0, 0.5f);
  CHECK(none[0] == 7.0f);
  CHECK(w1 == W1);
  CHECK_THAT(test::error_of([&] {
               cpu::fused_mlp_cpu_train(none.data(), w1.data(), b1.data(), W2.data(), b2.data(), x.data(),
                                        labels.data(), rows, in, hidden, classes, -1, 0.5f);
             }),
             Contains("epochs must be >= 0"));
}

TEST_CASE("fused CPU loop: its limits, and models past them train eagerly with the reason", "[fused][cpu]") {
  std::string why;
  CHECK(cpu::fused_mlp_cpu_supported(120, 4, 10, 3, &why));
  CHECK(why.empty());
  CHECK(cpu::fused_mlp_cpu_bytes(120, 4, 10, 3) < 32 * 1024);
  CHECK(cpu::fused_mlp_cpu_supported(1, 1, 1, 64, nullptr));
  CHECK_FALSE(cpu::fused_mlp_cpu_supported(120, 4, 10, 65, &why));
  CHECK_THAT(why, Contains("at most 64 classes"));
  CHECK_FALSE(cpu::fused_mlp_cpu_supported(0, 4, 10, 3, &why));
  CHECK_THAT(why, Contains("[1, 65536]"));
  CHECK_FALSE(cpu::fused_mlp_cpu_supported(120, 65537, 1, 3, &why));
  CHECK_THAT(why, Contains("[1, 65536]"));
  // The working-set cap: the bytes grow with every size; find the first hidden size past it.
  CHECK(cpu::fused_mlp_cpu_bytes(120, 4, 11, 3) > cpu::fused_mlp_cpu_bytes(120, 4, 10, 3));
  CHECK(cpu::fused_mlp_cpu_bytes(121, 4, 10, 3) >= cpu::fused_mlp_cpu_bytes(120, 4, 10, 3));
  int h = 1;
  while (cpu::fused_mlp_cpu_bytes(120, 4, h, 3) <= cpu::kFusedCpuMaxBytes) h *= 2;
  int lo = h / 2;  // fits
  while (h - lo > 1) {
    const int mid = (lo + h) / 2;
    (cpu::fused_mlp_cpu_bytes(120, 4, mid, 3) <= cpu::kFusedCpuMaxBytes ? lo : h) = mid;
  }
  CHECK(cpu::fused_mlp_cpu_supported(120, 4, lo, 3, nullptr));
  CHECK_FALSE(cpu::fused_mlp_cpu_supported(120, 4, h, 3, &why));
  CHECK_THAT(why, Contains("bytes of working set"));
  CHECK_THAT(test::error_of([&] {
               float f = 0;
               int64_t l = 0;
               cpu::fused_mlp_cpu_train(&f, &f, &f, &f, &f, &f, &l, 120, 4, 10, 65, 1, 0.01f);
             }),
             Contains("kn::cpu::fused_mlp_cpu_train: ") && Contains("at most 64 classes"));

  // Through kn::iris::train: a model the loop does not take trains in eager mode, says
  // why, and learns exactly what eager mode learns.
  for (int64_t classes : {int64_t(65), int64_t(3)}) {
    const int64_t hidden = classes == 3 ? h : 10;
    INFO(hidden << " hidden units, " << classes << " classes");
    iris::Config cfg;
    cfg.epochs = 2;
    cfg.mode = iris::Mode::Fused;
    manual_seed(3);
    iris::MLP model(4, hidden, classes);
    const iris::Result r = iris::train(cfg, model);
    CHECK(r.mode == iris::Mode::Eager);
    CHECK_THAT(r.fallback, Contains(classes == 3 ? "bytes of working set" : "at most 64 classes"));
    cfg.mode = iris::Mode::Eager;
    manual_seed(3);
    iris::MLP eager(4, hidden, classes);
    const iris::Result e = iris::train(cfg, eager);
    CHECK(losses_of(r) == losses_of(e));
  }
}

TEST_CASE("fused CPU mode: epoch 1 can be traced (all epochs are one step), more cannot", "[fused][cpu]") {
  iris::Config cfg;
  cfg.epochs = 3;
  cfg.mode = iris::Mode::Fused;
  cfg.trace_epochs = 1;
  iris::MLP model(4, 10, 3);
  const iris::Result r = iris::train(cfg, model);
  CHECK(r.mode == iris::Mode::Fused);
  CHECK(r.losses.size() == 3);
  cfg.trace_epochs = 2;
  CHECK_THAT(test::error_of([&] { iris::train(cfg, model); }), Contains("only epoch 1 can be traced"));
  cfg.trace_epochs = 0;
  cfg.mode = iris::Mode::Graph;
  CHECK(test::error_of([&] { iris::train(cfg, model); }) ==
        "--mode graph needs a CUDA device; on cpu only --mode eager and --mode fused exist");
}
