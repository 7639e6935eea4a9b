// The elementwise kernels on the CPU harness (fill.cu, relu.cu, bias.cu's bias_add,
// softmax_ce.cu's backward), each against the CPU backend (kn::cpu) with the GPU tests'
// tolerances (tests/gpu/test_ops.cpp), on odd sizes, outputs poisoned with NaN, on a
// 1-SM device (each thread loops) and a 132-SM one.
#include <cstdint>
#include <vector>

#include <kernelnet/ops/bias.hpp>
#include <kernelnet/ops/fill.hpp>
#include <kernelnet/ops/relu.hpp>
#include <kernelnet/ops/softmax_ce.hpp>

#include "emu_test.hpp"

using kn::test::DeviceArray;
using kn::test::random_floats;

namespace {
const int64_t kElementwiseSizes[] = {1, 31, 257, 1000, 4099};
}

TEST_CASE("fill writes every element", "[emu][elementwise]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kElementwiseSizes) {
      DeviceArray<float> x{std::size_t(n)};
      x.poison();
      kn::cuda::fill(x.get(), 2.5f, n, 0);
      KN_CHECK_CLOSE(x.download(), std::vector<float>(std::size_t(n), 2.5f), 0.0, 0.0);
    }
  }
}

TEST_CASE("accumulate matches the CPU for beta 0, 1 and 0.5", "[emu][elementwise]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kElementwiseSizes) {
      const auto x = random_floats(std::size_t(n), 1), y0 = random_floats(std::size_t(n), 2);
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        DeviceArray<float> dx(x), dy(y0);
        if (beta == 0.0f) dy.poison();  // beta 0 must not read y
        kn::cuda::accumulate(dy.get(), dx.get(), n, beta, 0);
        auto ref = y0;
        kn::cpu::accumulate(ref.data(), x.data(), n, beta);
        KN_CHECK_CLOSE(dy.download(), ref, 1e-6, 1e-6);
      }
    }
  }
}

TEST_CASE("relu_forward and relu_backward match the CPU", "[emu][elementwise]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kElementwiseSizes) {
      const auto x = random_floats(std::size_t(n), 3), dy = random_floats(std::size_t(n), 4);
      DeviceArray<float> dev_x(x), dev_y{std::size_t(n)};
      dev_y.poison();
      kn::cuda::relu_forward(dev_y.get(), dev_x.get(), n, 0);
      std::vector<float> y(x.size());
      kn::cpu::relu_forward(y.data(), x.data(), n);
      KN_CHECK_CLOSE(dev_y.download(), y, 0.0, 0.0);
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        const auto dx0 = random_floats(std::size_t(n), 5);
        DeviceArray<float> dev_dy(dy), dev_dx(dx0);
        if (beta == 0.0f) dev_dx.poison();
        kn::cuda::relu_backward(dev_dx.get(), dev_dy.get(), dev_y.get(), n, beta, 0);
        auto dx = dx0;
        kn::cpu::relu_backward(dx.data(), dy.data(), y.data(), n, beta);
        KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 1e-6);
      }
    }
  }
}

TEST_CASE("bias_add matches the CPU", "[emu][elementwise]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, cols] : {std::pair{1, 1}, {120, 10}, {17, 33}, {1000, 3}, {3, 1000}}) {
      const auto y0 = random_floats(std::size_t(rows) * cols, 6), b = random_floats(std::size_t(cols), 7);
      DeviceArray<float> dev_y(y0), dev_b(b);
      kn::cuda::bias_add(dev_y.get(), dev_b.get(), rows, cols, 0);
      auto y = y0;
      kn::cpu::bias_add(y.data(), b.data(), rows, cols);
      KN_CHECK_CLOSE(dev_y.download(), y, 0.0, 0.0);
    }
  }
}

TEST_CASE("softmax_ce_backward matches the CPU, reading dloss on the device", "[emu][elementwise]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kElementwiseSizes) {
      const auto g = random_floats(std::size_t(n), 8), dx0 = random_floats(std::size_t(n), 9);
      const std::vector<float> dloss{0.75f};
      for (float beta : {0.0f, 1.0f}) {
        DeviceArray<float> dev_g(g), dev_dloss(dloss), dev_dx(dx0);
        if (beta == 0.0f) dev_dx.poison();
        kn::cuda::softmax_ce_backward(dev_dx.get(), dev_g.get(), dev_dloss.get(), n, beta, 0);
        auto dx = dx0;
        kn::cpu::softmax_ce_backward(dx.data(), g.data(), dloss.data(), n, beta);
        KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 1e-6);
      }
    }
  }
}

TEST_CASE("the grid-stride kernels loop when the device is small", "[emu][elementwise]") {
  // On one SM, 4099 elements get 8 blocks of 256 threads: each thread does two or three.
  kn::test::WithSms device(1);
  DeviceArray<float> x{4099};
  kn_emu::reset();
  kn::cuda::fill(x.get(), 1.0f, 4099, 0);
  const auto c = kn_emu::counters();
  CHECK(c.launches == 1);
  CHECK(c.blocks == 8 * kn_emu::options().orders);
  CHECK(c.threads == 8 * 256 * kn_emu::options().orders);
}
