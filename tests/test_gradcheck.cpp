// Finite-difference checks of every backward pass.
#include "test_util.hpp"

using namespace kn;
using kn::test::gradcheck;
using kn::test::random_tensor;
using kn::test::weighted_sum;

TEST_CASE("linear: dx, dW and db match finite differences", "[autograd]") {
  Tensor x = random_tensor({5, 4}, -1, 1, 1).requires_grad_();
  Tensor W = random_tensor({3, 4}, -1, 1, 2).requires_grad_();
  Tensor b = random_tensor({3}, -1, 1, 3).requires_grad_();
  Tensor R = random_tensor({5, 3}, -1, 1, 4);
  gradcheck([&] { return weighted_sum(linear(x, W, b), R); }, {x, W, b});
}

TEST_CASE("relu: the gradient passes where the output is positive", "[autograd]") {
  Tensor x = random_tensor({6, 7}, -1, 1, 5);
  // keep inputs away from the kink at 0, where the derivative is undefined
  for (int64_t i = 0; i < x.numel(); ++i)
    if (std::fabs(x.data<float>()[i]) < 0.05f) x.data<float>()[i] = 0.3f;
  x.requires_grad_();
  Tensor R = random_tensor({6, 7}, -1, 1, 6);
  gradcheck([&] { return weighted_sum(relu(x), R); }, {x});
}

TEST_CASE("cross_entropy: the fused gradient matches finite differences", "[autograd]") {
  Tensor logits = random_tensor({8, 5}, -2, 2, 8).requires_grad_();
  Tensor labels = Tensor::from_vector<int64_t>({0, 4, 2, 2, 1, 3, 0, 4});
  gradcheck([&] { return cross_entropy(logits, labels); }, {logits});
}

TEST_CASE("cross_entropy: value equals log-sum-exp minus the label's logit, and is stable", "[autograd]") {
  Tensor logits = Tensor::from_vector<float>({1000.f, 1001.f, 999.f, -5.f, 0.f, 5.f}, {2, 3});
  Tensor labels = Tensor::from_vector<int64_t>({1, 0});
  auto lse = [](double a, double b, double c) {
    const double m = std::max({a, b, c});
    return m + std::log(std::exp(a - m) + std::exp(b - m) + std::exp(c - m));
  };
  const double expected = ((lse(1000, 1001, 999) - 1001) + (lse(-5, 0, 5) + 5)) / 2;
  const float got = cross_entropy(logits, labels).item();
  REQUIRE(std::isfinite(got));
  CHECK(got == Approx(expected).epsilon(1e-5));
}

TEST_CASE("a composed MLP: every parameter's gradient matches finite differences", "[autograd]") {
  manual_seed(7);
  Linear fc1(4, 6), fc2(6, 3);
  ReLU act;
  Tensor x = random_tensor({10, 4}, 0, 1, 9);
  Tensor y = Tensor::from_vector<int64_t>({0, 1, 2, 0, 1, 2, 0, 1, 2, 0});
  {  // finite differences are meaningless across ReLU's kink: keep every hidden unit clear of 0
    NoGradGuard ng;
    for (float h : fc1(x).to_vector<float>()) REQUIRE(std::fabs(h) > 0.01f);
  }
  // a small step, so that no perturbation pushes a hidden unit across ReLU's kink
  gradcheck([&] { return cross_entropy(fc2(act(fc1(x))), y); }, {fc1.weight, fc1.bias, fc2.weight, fc2.bias}, 1e-3,
            1e-3, 2e-2);
}

TEST_CASE("gradients accumulate across backward calls until zero_grad", "[autograd]") {
  Tensor W = random_tensor({3, 4}, -1, 1, 11).requires_grad_();
  Tensor x = random_tensor({2, 4}, -1, 1, 12);
  Tensor R = random_tensor({2, 3}, -1, 1, 13);
  weighted_sum(linear(x, W), R).backward();
  const auto once = W.grad().to_vector<float>();
  weighted_sum(linear(x, W), R).backward();
  const auto twice = W.grad().to_vector<float>();
  for (size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == Approx(2 * once[i]));
  clear_grad(W);
  CHECK_FALSE(W.grad().defined());
  weighted_sum(linear(x, W), R).backward();
  const auto again = W.grad().to_vector<float>();
  for (size_t i = 0; i < once.size(); ++i) CHECK(again[i] == Approx(once[i]));
}

TEST_CASE("a tensor used twice gets the sum of both gradients", "[autograd]") {
  Tensor x = random_tensor({3, 3}, 0.1f, 1, 14).requires_grad_();
  Tensor W = random_tensor({3, 3}, -1, 1, 15);
  Tensor R = random_tensor({3, 3}, -1, 1, 16);
  // h = relu(x); out = sum(R * (h W^T)) + sum(R * h): h feeds two ops
  gradcheck(
      [&] {
        Tensor h = relu(x);
        Tensor a = weighted_sum(linear(h, W), R);
        Tensor b = weighted_sum(h, R);
        // a + b through a linear layer of a stacked [1, 2] tensor would need more ops; add by hand:
        Tensor s = Tensor::empty(Shape{});
        s.data<float>()[0] = a.item() + b.item();
        if (needs_grad(a)) {
          struct Add : Node {
            const char* name() const override { return "Add"; }
            void backward(const Tensor& d) override {
              for (size_t i = 0; i < 2; ++i)
                if (GradSlot g = slot(i))  // beta 0: a fresh buffer, never read
                  g.buffer.data<float>()[0] = (g.beta == 0.0f ? 0.0f : g.beta * g.buffer.data<float>()[0]) + d.item();
            }
          };
          record(s, std::make_shared<Add>(), a, b);
        }
        return s;
      },
      {x});
}

TEST_CASE("NoGradGuard records nothing; backward twice is an error", "[autograd]") {
  Tensor W = random_tensor({3, 4}).requires_grad_();
  Tensor x = random_tensor({2, 4});
  {
    NoGradGuard ng;
    Tensor y = linear(x, W);
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
  }
  Tensor loss = cross_entropy(linear(x, W), Tensor::from_vector<int64_t>({0, 1}));
  CHECK(loss.grad_fn());
  loss.backward();
  CHECK(test::error_of([&] { loss.backward(); }).find("second time") != std::string::npos);
  CHECK(test::error_of([&] { linear(x, W.detach()).backward(); }).find("does not require grad") !=
        std::string::npos);
}
