// dropout.cu and mse.cu on the CPU harness, against the CPU twins (kn::cpu): dropout bit
// for bit (same Philox words, same arithmetic), forward and backward; MSE's gradient bit
// for bit and its loss to 1e-6 (the kernel sums the squares in another, fixed order), the
// same loss on every device size. Odd sizes, outputs poisoned, on 1 and 132 SMs.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include <kernelnet/ops/dropout.hpp>
#include <kernelnet/ops/mse.hpp>

#include "emu_test.hpp"

using kn::test::DeviceArray;
using kn::test::random_floats;

namespace {

// 20000 elements are 5000 groups of four: more than a 1-SM device's grid holds, so its
// threads loop.
const int64_t kSizes[] = {1, 2, 3, 4, 5, 31, 257, 1000, 4099, 20000};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Random values with an infinity, a NaN and a negative number among the first elements,
// so that a dropped one gives PyTorch's NaN or -0 on both backends.
std::vector<float> inputs(int64_t n, uint64_t seed) {
  auto x = random_floats(std::size_t(n), seed);
  const float special[] = {std::numeric_limits<float>::infinity(), -1.5f, std::numeric_limits<float>::quiet_NaN(),
                           -std::numeric_limits<float>::infinity()};
  for (int64_t i = 0; i < n && i < 4; ++i) x[std::size_t(i) * 7 % std::size_t(n)] = special[i];
  return x;
}

// Each launch run once, in order, for as long as it lives.
class OneOrder {
 public:
  OneOrder() : saved_(std::exchange(kn_emu::options().orders, 1)) {}
  ~OneOrder() { kn_emu::options().orders = saved_; }
  OneOrder(const OneOrder&) = delete;
  OneOrder& operator=(const OneOrder&) = delete;

 private:
  int saved_;
};

struct Rng {
  uint64_t seed, offset;
};
const Rng kRngs[] = {{42, 0}, {0x123456789abcdef0ull, 0xfedcba9876543210ull}};  // every 32-bit half used

}  // namespace

TEST_CASE("dropout_forward matches the CPU bit for bit", "[emu][dropout]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kSizes)
      for (double p : {0.0, 0.3, 0.5, 1.0})
        for (const Rng& rng : kRngs) {
          INFO("sms " << sms << ", n = " << n << ", p = " << p << ", seed " << rng.seed);
          const auto x = inputs(n, 1 + uint64_t(n));
          DeviceArray<float> dev_x(x), dev_y{std::size_t(n)};
          dev_y.poison();
          kn::cuda::dropout_forward(dev_y.get(), dev_x.get(), n, p, rng.seed, rng.offset, 0);
          std::vector<float> y(x.size());
          kn::cpu::dropout_forward(y.data(), x.data(), n, p, rng.seed, rng.offset);
          CHECK(same_bits(dev_y.download(), y));
        }
  }
}

TEST_CASE("dropout_backward matches the CPU bit for bit for beta 0, 1 and 0.5", "[emu][dropout]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kSizes)
      for (double p : {0.3, 0.75})
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          const Rng& rng = kRngs[n % 2];
          INFO("sms " << sms << ", n = " << n << ", p = " << p << ", beta = " << beta);
          const auto dy = inputs(n, 2 + uint64_t(n)), dx0 = random_floats(std::size_t(n), 3 + uint64_t(n));
          DeviceArray<float> dev_dy(dy), dev_dx(dx0);
          if (beta == 0.0f) dev_dx.poison();  // beta 0 must not read dx
          kn::cuda::dropout_backward(dev_dx.get(), dev_dy.get(), n, p, rng.seed, rng.offset, beta, 0);
          auto dx = dx0;
          kn::cpu::dropout_backward(dx.data(), dy.data(), n, p, rng.seed, rng.offset, beta);
          CHECK(same_bits(dev_dx.download(), dx));
        }
  }
}

TEST_CASE("mse_forward matches the CPU, with and without the gradient", "[emu][mse]") {
  std::vector<float> loss_per_size[2];
  for (std::size_t s = 0; s < 2; ++s) {
    const int sms = kn::test::kSmCounts[s];
    kn::test::WithSms device(sms);
    for (int64_t n : kSizes) {
      if (n > 5000) continue;  // its grid does not loop below 1024 blocks: the next test goes past them
      INFO("sms " << sms << ", n = " << n);
      const auto a = random_floats(std::size_t(n), 4 + uint64_t(n), -3, 3);
      const auto b = random_floats(std::size_t(n), 5 + uint64_t(n), -3, 3);
      DeviceArray<float> dev_a(a), dev_b(b), dev_loss{1}, dev_grad{std::size_t(n)};
      dev_loss.poison();
      dev_grad.poison();
      kn::cuda::mse_forward(dev_loss.get(), dev_grad.get(), dev_a.get(), dev_b.get(), n, 0);
      std::vector<float> loss(1), grad(static_cast<std::size_t>(n));
      kn::cpu::mse_forward(loss.data(), grad.data(), a.data(), b.data(), n);
      const auto got = dev_loss.download();
      KN_CHECK_CLOSE(got, loss, 0.0, 1e-6);
      KN_CHECK_CLOSE(dev_grad.download(), grad, 0.0, 0.0);
      loss_per_size[s].push_back(got[0]);
      if (s == 0) {  // without the gradient (dpred null): the same loss
        dev_loss.poison();
        kn::cuda::mse_forward(dev_loss.get(), nullptr, dev_a.get(), dev_b.get(), n, 0);
        CHECK(same_bits(dev_loss.download(), got));
      }
    }
  }
  CHECK(same_bits(loss_per_size[0], loss_per_size[1]));  // the grid depends on n, not on the device
}

TEST_CASE("mse_forward sums past 1024 blocks and writes NaN for no elements", "[emu][mse]") {
  kn::test::WithSms device(132);
  {
    // The partial kernel's threads loop. Run once, not in every order: these kernels'
    // orders are checked at the sizes above, and 4 x 1024 blocks take seconds.
    OneOrder once;
    const int64_t n = 1024 * 256 + 1001;
    const auto a = random_floats(std::size_t(n), 6), b = random_floats(std::size_t(n), 7);
    DeviceArray<float> dev_a(a), dev_b(b), dev_loss{1};
    dev_loss.poison();
    kn::cuda::mse_forward(dev_loss.get(), nullptr, dev_a.get(), dev_b.get(), n, 0);
    std::vector<float> loss(1);
    kn::cpu::mse_forward(loss.data(), nullptr, a.data(), b.data(), n);
    KN_CHECK_CLOSE(dev_loss.download(), loss, 0.0, 1e-6);
  }
  DeviceArray<float> empty_loss(std::vector<float>{12345.0f});  // a write of NaN must replace it
  kn::cuda::mse_forward(empty_loss.get(), nullptr, nullptr, nullptr, 0, 0);
  CHECK(std::isnan(empty_loss.download()[0]));
}

TEST_CASE("mse_backward matches the CPU for both signs and beta 0, 1 and 0.5", "[emu][mse]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kSizes)
      for (float sign : {1.0f, -1.0f})
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          INFO("sms " << sms << ", n = " << n << ", sign " << sign << ", beta = " << beta);
          const auto g = random_floats(std::size_t(n), 8 + uint64_t(n)), dx0 = random_floats(std::size_t(n), 9);
          const std::vector<float> dloss{0.75f};
          DeviceArray<float> dev_g(g), dev_dloss(dloss), dev_dx(dx0);
          if (beta == 0.0f) dev_dx.poison();
          kn::cuda::mse_backward(dev_dx.get(), dev_g.get(), dev_dloss.get(), n, sign, beta, 0);
          auto dx = dx0;
          kn::cpu::mse_backward(dx.data(), g.data(), dloss.data(), n, sign, beta);
          KN_CHECK_CLOSE(dev_dx.download(), dx, 0.0, 0.0);
        }
  }
}
