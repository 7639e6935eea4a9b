// Dropout, its Philox generator, the Sigmoid and Tanh layers and the MSE loss on the CPU:
// Philox against Random123's known answers, dropout's mask against the rule written in
// <kernelnet/ops/dropout.hpp> (keep iff u >= p), its statistics and its replay from
// (seed, offset), train()/eval(), and mse_loss against a double-precision reference and
// finite differences. The kernels are checked against these CPU twins in
// tests/emu/test_dropout_mse.cpp and tests/gpu/test_dropout_mse.cpp.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <kernelnet/philox.hpp>

#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;
using kn::test::gradcheck;
using kn::test::random_tensor;
using kn::test::weighted_sum;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  const auto x = a.to_vector<float>(), y = b.to_vector<float>();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Values away from zero, of both signs: a dropped element (0) never looks like a kept one.
Tensor nonzero_tensor(const Shape& shape, uint32_t seed) {
  Tensor t = random_tensor(shape, 0.5f, 1.5f, seed);
  std::mt19937 gen(seed + 1);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (gen() & 1) t.data<float>()[i] = -t.data<float>()[i];
  return t;
}

// The documented rule, written independently of ops::detail: u = (w >> 8) * 2^-24 in
// double, kept iff u >= p.
bool kept_by_rule(uint64_t seed, uint64_t offset, int64_t i, double p) {
  const double u = double(philox_element(seed, offset, uint64_t(i)) >> 8) / 16777216.0;
  return u >= p;
}

}  // namespace

// Random123's known-answer file (kat_vectors, in its examples folder), lines of the form
// "philox4x32 10 <counter> <key> <expected>".
static_assert(philox4x32_10({0, 0, 0, 0}, {0, 0}).c0 == 0x6627e8d5u, "Philox runs at compile time");

TEST_CASE("Philox4x32-10 matches Random123's known-answer vectors", "[dropout][philox]") {
  struct Kat {
    PhiloxCounter counter;
    PhiloxKey key;
    PhiloxCounter expected;
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    const PhiloxCounter r = philox4x32_10(k.counter, k.key);
    INFO("counter " << std::hex << k.counter.c0 << " ...");
    CHECK(r.c0 == k.expected.c0);
    CHECK(r.c1 == k.expected.c1);
    CHECK(r.c2 == k.expected.c2);
    CHECK(r.c3 == k.expected.c3);
  }
}

TEST_CASE("philox_element puts i / 4, the offset and the seed where the layout says", "[dropout][philox]") {
  // Computed by an independent Python Philox4x32-10 (which reproduces the vectors above)
  // with counter {lo(i/4), hi(i/4), lo(offset), hi(offset)}, key {lo(seed), hi(seed)}.
  const uint32_t seed42_offset1[8] = {0x02933769, 0x2051e913, 0x3b68b038, 0xb62c409c,
                                      0x20ff9139, 0xfdd21d94, 0x1b0af4ec, 0x39c6bd08};
  for (int i = 0; i < 8; ++i) CHECK(philox_element(42, 1, uint64_t(i)) == seed42_offset1[i]);
  const uint64_t seed = 0x123456789abcdef0ull, offset = 0xfedcba9876543210ull;  // every half nonzero
  CHECK(philox_element(seed, offset, 4 * 0x100000002ull + 0) == 0x53902a19u);
  CHECK(philox_element(seed, offset, 4 * 0x100000002ull + 3) == 0xe30fd696u);
  CHECK(philox_element(seed, offset, 5) == 0x6cadf41du);
}

TEST_CASE("dropout keeps about 1 - p of 100000 elements, each kept one scaled exactly", "[dropout]") {
  const int64_t n = 100000;
  const Tensor x = nonzero_tensor({n}, 1);
  for (double p : {0.1, 0.25, 0.5, 0.8, 0.3333}) {
    INFO("p = " << p);
    manual_seed(11);
    const PhiloxState rng = philox_state();
    const Tensor y = dropout(x, p);
    const float scale = float(1.0 / (1.0 - p));
    int64_t kept = 0, wrong = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float xi = x.data<float>()[i], yi = y.data<float>()[i];
      const bool keep = kept_by_rule(rng.seed, rng.offset, i, p);
      kept += keep;
      if (keep ? yi != xi * scale : yi != 0.0f) ++wrong;
    }
    CHECK(wrong == 0);
    const double sigma = std::sqrt(p * (1 - p) / double(n));
    CHECK(std::fabs(double(kept) / double(n) - (1 - p)) < 5 * sigma);
  }
}

TEST_CASE("dropout keeps an element whose u equals p and drops it for the next p up", "[dropout]") {
  // u >= p exactly: with p set to element 5's own u, element 5 is kept; one step of
  // double above, dropped. (A rounded threshold, or > for >=, fails one of the two.)
  const PhiloxState rng{2024, 7};
  const double u = double(philox_element(rng.seed, rng.offset, 5) >> 8) / 16777216.0;
  const Tensor x = nonzero_tensor({8}, 30);
  set_philox_state(rng);
  const Tensor at = dropout(x, u);
  CHECK(at.data<float>()[5] == x.data<float>()[5] * float(1.0 / (1.0 - u)));
  set_philox_state(rng);
  const double above = std::nextafter(u, 1.0);
  CHECK(dropout(x, above).data<float>()[5] == 0.0f);
}

TEST_CASE("dropout: one seed gives one mask, the next call another, manual_seed starts over", "[dropout]") {
  const Tensor x = nonzero_tensor({37, 11}, 2);
  manual_seed(123);
  CHECK(philox_state().seed == 123);
  CHECK(philox_state().offset == 0);
  const Tensor a = dropout(x, 0.4);
  CHECK(philox_state().offset == 1);
  const Tensor b = dropout(x, 0.4);
  CHECK(philox_state().offset == 2);
  CHECK_FALSE(same_bits(a, b));
  manual_seed(123);
  CHECK(same_bits(dropout(x, 0.4), a));
  set_philox_state({123, 1});  // replays the second call
  CHECK(same_bits(dropout(x, 0.4), b));
  manual_seed(124);
  CHECK_FALSE(same_bits(dropout(x, 0.4), a));
}

TEST_CASE("dropout in eval, with p = 0 or on an empty input returns its input", "[dropout]") {
  Tensor x = nonzero_tensor({4, 5}, 3).requires_grad_();
  manual_seed(1);
  CHECK(dropout(x, 0.5, false).same(x));
  CHECK(dropout(x, 0.0).same(x));
  const Tensor empty = Tensor::empty({0, 3});
  CHECK(dropout(empty, 0.5).same(empty));
  CHECK(philox_state().offset == 0);  // nothing drawn
}

TEST_CASE("dropout with p = 1 zeroes everything, gradient included, and draws nothing", "[dropout]") {
  Tensor x = nonzero_tensor({6, 7}, 4).requires_grad_();
  manual_seed(1);
  const Tensor y = dropout(x, 1.0);
  CHECK(philox_state().offset == 0);
  CHECK_FALSE(y.same(x));
  for (float v : y.to_vector<float>()) CHECK(v == 0.0f);
  weighted_sum(y, random_tensor({6, 7}, -1, 1, 5)).backward();
  for (float g : x.grad().to_vector<float>()) CHECK(g == 0.0f);
}

TEST_CASE("dropout refuses p outside [0, 1] and a tensor that is not float32", "[dropout]") {
  const Tensor x = Tensor::ones({3});
  CHECK(error_of([&] { dropout(x, 1.5); }) == "dropout: p must be in [0, 1], got 1.5");
  CHECK(error_of([&] { dropout(x, -0.1); }) == "dropout: p must be in [0, 1], got -0.1");
  CHECK(error_of([&] { dropout(x, std::nan("")); }).find("p must be in [0, 1]") != std::string::npos);
  CHECK(error_of([&] { Dropout d(1.5); }) == "Dropout: p must be in [0, 1], got 1.5");
  CHECK(error_of([&] { dropout(Tensor::from_vector<int64_t>({1, 2}), 0.5); }).find("must be float32") !=
        std::string::npos);
}

TEST_CASE("dropout's backward applies the forward's mask and scale", "[dropout][autograd]") {
  Tensor x = nonzero_tensor({9, 13}, 6).requires_grad_();
  const Tensor R = random_tensor({9, 13}, -1, 1, 7);
  manual_seed(3);
  const Tensor y = dropout(x, 0.3);
  REQUIRE(y.grad_fn());
  CHECK(std::string(y.grad_fn()->name()) == "NativeDropoutBackward0");
  dropout(x, 0.3);  // a later call moves the generator on: the backward must not follow it
  weighted_sum(y, R).backward();
  const float scale = float(1.0 / 0.7);
  int64_t wrong = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float want = y.data<float>()[i] != 0.0f ? R.data<float>()[i] * scale : 0.0f;
    wrong += x.grad().data<float>()[i] != want;
  }
  CHECK(wrong == 0);
  // And by finite differences, the mask held fixed by replaying the same (seed, offset).
  const PhiloxState rng{77, 5};
  gradcheck(
      [&] {
        set_philox_state(rng);
        return weighted_sum(dropout(x, 0.3), R);
      },
      {x});
}

TEST_CASE("the Dropout layer follows train() and eval() inside a Sequential", "[dropout][module]") {
  manual_seed(9);
  Sequential model(Linear(4, 16), ReLU(), Dropout(0.5), Linear(16, 3));
  CHECK(model[2].describe() == "Dropout(p=0.5)");
  CHECK(Dropout{0.2}.describe() == "Dropout(p=0.2)");
  const Tensor x = random_tensor({8, 4}, -1, 1, 10);
  const Tensor plain = model[3](model[1](model[0](x)));  // the model without its dropout
  model.eval();
  CHECK_FALSE(model[2].is_training());
  const uint64_t offset = philox_state().offset;
  CHECK(same_bits(model(x), plain));
  CHECK(philox_state().offset == offset);
  model.train();
  const Tensor a = model(x), b = model(x);
  CHECK(philox_state().offset == offset + 2);
  CHECK_FALSE(same_bits(a, plain));
  CHECK_FALSE(same_bits(a, b));
  // In training the hidden layer is dropout(relu(fc1(x))) with the call's (seed, offset).
  set_philox_state({9, offset});
  CHECK(same_bits(a, model[3](dropout(model[1](model[0](x)), 0.5))));
}

TEST_CASE("the Sigmoid and Tanh layers are x.sigmoid() and x.tanh()", "[layers]") {
  const Tensor x = random_tensor({5, 6}, -4, 4, 12).requires_grad_();
  Sigmoid sigmoid;
  Tanh tanh;
  CHECK(sigmoid.describe() == "Sigmoid");
  CHECK(tanh.describe() == "Tanh");
  const Tensor s = sigmoid(x), t = tanh(x);
  CHECK(same_bits(s, x.sigmoid()));
  CHECK(same_bits(t, x.tanh()));
  CHECK(std::string(s.grad_fn()->name()) == "SigmoidBackward0");
  CHECK(std::string(t.grad_fn()->name()) == "TanhBackward0");
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.data<float>()[i];
    CHECK(s.data<float>()[i] == Approx(1 / (1 + std::exp(-v))).epsilon(1e-6));
    CHECK(t.data<float>()[i] == Approx(std::tanh(v)).epsilon(1e-6).margin(1e-7));
  }
  Sequential model(Linear(6, 4), Tanh(), Linear(4, 2), Sigmoid());
  CHECK(model(x).shape() == Shape{5, 2});
}

TEST_CASE("mse_loss matches a double-precision reference, its gradient PyTorch's formula", "[mse]") {
  for (const Shape& shape : {Shape{1}, Shape{7, 5}, Shape{1000}, Shape{3, 4, 5}}) {
    INFO("shape " << shape.str());
    Tensor a = random_tensor(shape, -3, 3, 13).requires_grad_();
    Tensor b = random_tensor(shape, -3, 3, 14).requires_grad_();
    const Tensor loss = MSELoss()(a, b);
    CHECK(loss.shape() == Shape{});
    CHECK(std::string(loss.grad_fn()->name()) == "MseLossBackward0");
    double ref = 0;
    const int64_t n = a.numel();
    for (int64_t i = 0; i < n; ++i) {
      const double d = double(a.data<float>()[i]) - double(b.data<float>()[i]);
      ref += d * d;
    }
    CHECK(loss.item() == Approx(ref / double(n)).epsilon(1e-6));
    loss.backward();
    const float norm = float(2.0 / double(n));  // mse_loss_backward: norm * (input - target) * grad_output
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float g = norm * (a.data<float>()[i] - b.data<float>()[i]) * 1.0f;
      wrong += a.grad().data<float>()[i] != g || b.grad().data<float>()[i] != -g;
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("mse_loss: input and target gradients match finite differences", "[mse][autograd]") {
  Tensor a = random_tensor({6, 4}, -1, 1, 15).requires_grad_();
  Tensor b = random_tensor({6, 4}, -1, 1, 16).requires_grad_();
  gradcheck([&] { return mse_loss(a, b); }, {a, b});
  gradcheck([&] { return mse_loss(a, b) * 3.0f; }, {a, b});  // dloss != 1 scales both
  Tensor W = random_tensor({3, 4}, -1, 1, 17).requires_grad_();
  const Tensor x = random_tensor({5, 4}, -1, 1, 18), y = random_tensor({5, 3}, -1, 1, 19);
  gradcheck([&] { return mse_loss(linear(x, W), y) + mse_loss(linear(x, W), y); }, {W});  // accumulated
}

TEST_CASE("mse_loss refuses shapes that differ, integer tensors and mixed devices", "[mse]") {
  const Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({3, 2});
  const std::string e = error_of([&] { mse_loss(a, b); });
  CHECK(e.find("mse_loss: input shape [2, 3] and target shape [3, 2] differ") == 0);
  CHECK(error_of([&] { mse_loss(Tensor::ones({3}), Tensor::ones({3, 1})); }).find("[3] and target shape [3, 1]") !=
        std::string::npos);  // broadcastable, refused all the same
  CHECK(error_of([&] { mse_loss(a, Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3})); })
            .find("target must be float32") != std::string::npos);
  CHECK(error_of([&] { mse_loss(Tensor(), a); }).find("input is an undefined tensor") != std::string::npos);
}

TEST_CASE("mse_loss records nothing without grad, and an empty input gives NaN", "[mse]") {
  const Tensor a = random_tensor({4}, -1, 1, 20), b = random_tensor({4}, -1, 1, 21);
  const Tensor loss = mse_loss(a, b);
  CHECK_FALSE(loss.requires_grad());
  CHECK(loss.item() > 0.0f);
  Tensor w = a.clone().requires_grad_();
  {
    NoGradGuard ng;
    CHECK_FALSE(mse_loss(w, b).grad_fn());
  }
  CHECK(std::isnan(mse_loss(Tensor::empty({0}), Tensor::empty({0})).item()));
}
