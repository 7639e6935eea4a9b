// The kernels that reduce, vote or batch on the CPU harness: bias_grad (one chunk and
// several, with its finish kernel), softmax_ce_forward (rows and finish kernels),
// argmax_rows and count_equal, sgd_step over many tensors, the graph's log_value, and the
// trace's gate kernel. Each against the CPU backend with the GPU tests' tolerances
// (tests/gpu/test_ops.cpp), outputs poisoned with NaN, on odd shapes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <kernelnet/cuda/graph.hpp>
#include <kernelnet/ops/argmax.hpp>
#include <kernelnet/ops/bias.hpp>
#include <kernelnet/ops/relu.hpp>
#include <kernelnet/ops/sgd.hpp>
#include <kernelnet/ops/softmax_ce.hpp>
#include <kernelnet/trace.hpp>

#include "emu_test.hpp"

using Catch::Matchers::Contains;
using kn::test::DeviceArray;
using kn::test::random_floats;
using kn::test::random_ints;

namespace {
struct ReductionShape {
  int rows, cols;
};
const ReductionShape kReductionShapes[] = {{1, 1}, {17, 33}, {120, 10}, {120, 3}, {1000, 3}, {3, 1000}, {127, 129}, {1, 4099}};
}  // namespace

TEST_CASE("bias_grad matches the CPU for beta 0, 1 and 0.5, in one chunk and in several", "[emu][reduction]") {
  // 600 rows of 3 columns: 3 chunks of 256 rows, added by bias_grad_finish_kernel.
  std::vector<ReductionShape> shapes(std::begin(kReductionShapes), std::end(kReductionShapes));
  shapes.push_back({600, 3});
  shapes.push_back({0, 5});
  for (auto [rows, cols] : shapes)
    for (float beta : {0.0f, 1.0f, 0.5f}) {
      INFO(rows << "x" << cols << ", beta " << beta);
      const auto dy = random_floats(std::size_t(rows) * cols, 10);
      auto db = random_floats(std::size_t(cols), 11);
      DeviceArray<float> dev_dy(dy), dev_db(db);
      if (beta == 0.0f) dev_db.poison();
      kn::cuda::bias_grad(dev_db.get(), dev_dy.get(), rows, cols, beta, 0);
      kn::cpu::bias_grad(db.data(), dy.data(), rows, cols, beta);
      KN_CHECK_CLOSE(dev_db.download(), db, 2e-6 * (rows + 1), 1e-5);
    }
}

TEST_CASE("softmax_ce_forward matches the CPU", "[emu][reduction]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, classes] : kReductionShapes) {
      INFO(rows << "x" << classes << " on " << sms << " SMs");
      const std::size_t n = std::size_t(rows) * classes;
      const auto logits = random_floats(n, rows + 3 * classes, -6.0f, 6.0f);
      const auto labels = random_ints(std::size_t(rows), rows * 3 + classes, 0, classes - 1);
      DeviceArray<float> dev_logits(logits), dev_dlogits(n), dev_loss(1);
      DeviceArray<int64_t> dev_labels(labels);
      dev_dlogits.poison();
      dev_loss.poison();
      kn::cuda::softmax_ce_forward(dev_loss.get(), dev_dlogits.get(), dev_logits.get(), dev_labels.get(), rows,
                                   classes, 0);
      std::vector<float> loss(1), dlogits(n);
      kn::cpu::softmax_ce_forward(loss.data(), dlogits.data(), logits.data(), labels.data(), rows, classes);
      KN_CHECK_CLOSE(dev_loss.download(), loss, 1e-6, 1e-5);
      KN_CHECK_CLOSE(dev_dlogits.download(), dlogits, 1e-6 / rows, 5e-5);
    }
  }
}

TEST_CASE("softmax_ce_forward: a bad label makes the loss NaN; no rows gives NaN", "[emu][reduction]") {
  const int rows = 40, classes = 3;
  const auto logits = random_floats(std::size_t(rows) * classes, 8);
  for (int64_t bad : {int64_t(-1), int64_t(classes), int64_t(1) << 40}) {
    auto labels = random_ints(rows, 9, 0, classes - 1);
    labels[17] = bad;
    DeviceArray<float> dev_logits(logits), dev_dlogits(logits.size()), dev_loss(1);
    DeviceArray<int64_t> dev_labels(labels);
    kn::cuda::softmax_ce_forward(dev_loss.get(), dev_dlogits.get(), dev_logits.get(), dev_labels.get(), rows, classes,
                                 0);
    CHECK(std::isnan(dev_loss.download()[0]));
  }
  DeviceArray<float> dev_loss(std::vector<float>{1.0f}), none(0);
  DeviceArray<int64_t> no_labels(0);
  kn::cuda::softmax_ce_forward(dev_loss.get(), none.get(), none.get(), no_labels.get(), 0, 3, 0);
  CHECK(std::isnan(dev_loss.download()[0]));
}

TEST_CASE("argmax_rows matches the CPU, first index on ties", "[emu][reduction]") {
  for (auto [rows, cols] : kReductionShapes)
    for (bool ties : {false, true}) {
      INFO(rows << "x" << cols << (ties ? " with ties" : ""));
      std::vector<float> x = random_floats(std::size_t(rows) * cols, rows + cols + ties);
      if (ties)  // few distinct values: most rows have their maximum more than once
        for (auto& v : x) v = std::floor(v * 2.0f);
      DeviceArray<float> dev_x(x);
      DeviceArray<int64_t> dev_idx{std::size_t(rows)};
      dev_idx.poison();
      kn::cuda::argmax_rows(dev_idx.get(), dev_x.get(), rows, cols, 0);
      std::vector<int64_t> idx{std::vector<int64_t>(std::size_t(rows))};
      kn::cpu::argmax_rows(idx.data(), x.data(), rows, cols);
      CHECK(dev_idx.download() == idx);
    }
}

TEST_CASE("count_equal matches the CPU", "[emu][reduction]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : {int64_t(0), int64_t(1), int64_t(17), int64_t(120), int64_t(5003)}) {
      INFO("n = " << n);
      const auto a = random_ints(std::size_t(n), 30 + n, 0, 2), b = random_ints(std::size_t(n), 31 + n, 0, 2);
      DeviceArray<int64_t> dev_a(a), dev_b(b), dev_count(1);
      dev_count.poison();
      kn::cuda::count_equal(dev_count.get(), dev_a.get(), dev_b.get(), n, 0);
      int64_t count = -1;
      kn::cpu::count_equal(&count, a.data(), b.data(), n);
      CHECK(dev_count.download()[0] == count);
    }
  }
}

namespace {
// sgd_step on tensors of the given sizes, on the harness and the CPU.
void check_sgd(const std::vector<int64_t>& sizes, float lr) {
  std::vector<std::vector<float>> params, grads;
  std::vector<DeviceArray<float>> dev_params, dev_grads;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    params.push_back(random_floats(std::size_t(sizes[i]), 100 + i));
    grads.push_back(random_floats(std::size_t(sizes[i]), 200 + i));
    dev_params.emplace_back(params.back());
    dev_grads.emplace_back(grads.back());
  }
  std::vector<float*> p, dev_p;
  std::vector<const float*> g, dev_g;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    p.push_back(params[i].data());
    g.push_back(grads[i].data());
    dev_p.push_back(dev_params[i].get());
    dev_g.push_back(dev_grads[i].get());
  }
  kn_emu::reset();
  kn::cuda::sgd_step(dev_p.data(), dev_g.data(), sizes.data(), int(sizes.size()), lr, 0);
  const auto nonempty = std::count_if(sizes.begin(), sizes.end(), [](int64_t s) { return s > 0; });
  CHECK(kn_emu::counters().launches == (nonempty + 63) / 64);  // 64 tensors per launch
  kn::cpu::sgd_step(p.data(), g.data(), sizes.data(), int(sizes.size()), lr);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    INFO("tensor " << i << " of " << sizes.size() << ", size " << sizes[i]);
    KN_CHECK_CLOSE(dev_params[i].download(), params[i], 1e-6, 1e-6);
  }
}
}  // namespace

TEST_CASE("sgd_step updates tensors of different sizes in one launch, and chunks past 64", "[emu][reduction]") {
  kn::test::WithSms device(1);  // 8 blocks of 256 at most per tensor: the big ones loop
  check_sgd({40, 10, 30, 3}, 0.1f);               // the Iris MLP
  check_sgd({1, 0, 17 * 33, 5003, 2, 129}, 0.01f);  // with an empty tensor
  check_sgd(random_ints(150, 77, 1, 300), 0.05f);   // three launches
}

TEST_CASE("log_value writes each value to the next slot of a ring", "[emu][reduction]") {
  DeviceArray<float> log(3), value(1);
  DeviceArray<int64_t> count(std::vector<int64_t>{0});
  log.poison();
  for (int i = 0; i < 5; ++i) {
    value.upload({float(i) + 0.5f});
    kn::cuda::log_value(log.get(), count.get(), value.get(), 3, 0);
  }
  CHECK(count.download() == std::vector<int64_t>{5});
  CHECK(log.download() == std::vector<float>{3.5f, 4.5f, 2.5f});
}

TEST_CASE("the trace's gate kernel holds a traced launch and lets it go", "[emu][reduction]") {
  // With the trace on, every launch is preceded by trace_gate_kernel, which spins until
  // the host opens it or its cycle budget (0.1 s of a 2 GHz clock) runs out. On the
  // harness the launch runs at once, so the gate gives up by its budget: it must, and
  // the traced launch must still run and be logged.
  const auto x = random_floats(300, 12);
  DeviceArray<float> dev_x(x), dev_y(300);
  kn::trace::Recorder recorder;
  kn_emu::reset();
  kn::cuda::relu_forward(dev_y.get(), dev_x.get(), 300, 0);
  const auto names = kn_emu::launched();
  REQUIRE(names.size() == 1);
  CHECK(names[0] == "relu_forward_kernel");
  CHECK(kn_emu::counters().launches == 2);  // the gate, then the kernel
  std::vector<float> y(300);
  kn::cpu::relu_forward(y.data(), x.data(), 300);
  CHECK(dev_y.download() == y);
  bool logged = false;
  for (const auto& e : recorder.events()) logged = logged || e.name == "relu_forward_kernel";
  CHECK(logged);
}
