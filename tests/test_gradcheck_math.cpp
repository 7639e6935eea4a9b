// Finite-difference checks of the tensor maths' backward passes (<kernelnet/math/*.hpp>):
// every float op, each broadcast form (the gradient is summed back over what was
// stretched), reductions along each dimension, and the indexing ops (index_select's
// backward accumulates a repeated index).
#include <kernelnet/kernelnet.hpp>

#include "test_util.hpp"

using namespace kn;
using kn::test::gradcheck;
using kn::test::random_tensor;
using kn::test::weighted_sum;

namespace {
// A fixed weighting of y, so that every element of the gradient is exercised.
Tensor loss_of(const Tensor& y, uint32_t seed = 99) { return weighted_sum(y, random_tensor(y.shape(), -1, 1, seed)); }
}  // namespace

TEST_CASE("binary ops: gradients through every broadcast form", "[autograd][math]") {
  const std::vector<Shape> others = {{3, 4}, {4}, {1, 4}, {3, 1}, {1}, {}};
  for (const Shape& s : others) {
    Tensor a = random_tensor({3, 4}, 0.5f, 1.5f, 1).requires_grad_();
    Tensor b = random_tensor(s, 0.5f, 1.5f, 2).requires_grad_();
    INFO("[3, 4] with " << s.str());
    gradcheck([&] { return loss_of(a + b); }, {a, b});
    gradcheck([&] { return loss_of(a - b); }, {a, b});
    gradcheck([&] { return loss_of(a * b); }, {a, b});
    gradcheck([&] { return loss_of(a / b); }, {a, b});
    gradcheck([&] { return loss_of(b / a); }, {a, b});  // the broadcast side first
  }
}

TEST_CASE("binary ops: [N, 1] with [1, C] stretch both sides", "[autograd][math]") {
  Tensor a = random_tensor({3, 1}, 0.5f, 1.5f, 3).requires_grad_();
  Tensor b = random_tensor({1, 5}, 0.5f, 1.5f, 4).requires_grad_();
  gradcheck([&] { return loss_of(a * b - b / a); }, {a, b});
}

TEST_CASE("binary ops with a number on either side", "[autograd][math]") {
  Tensor a = random_tensor({2, 3, 2}, 0.5f, 1.5f, 5).requires_grad_();  // any rank, with a number
  gradcheck([&] { return loss_of(a + 1.f); }, {a});
  gradcheck([&] { return loss_of(2.f - a); }, {a});
  gradcheck([&] { return loss_of(a * 3.f); }, {a});
  gradcheck([&] { return loss_of(2.f / a); }, {a});
  gradcheck([&] { return loss_of(a / 4.f); }, {a});
  gradcheck([&] { return loss_of(-a); }, {a});
}

TEST_CASE("unary maths: exp, log, sqrt, abs, pow, sigmoid, tanh, relu", "[autograd][math]") {
  Tensor x = random_tensor({4, 5}, 0.2f, 2.0f, 6).requires_grad_();    // log and sqrt need x > 0
  Tensor s = random_tensor({4, 5}, -2.0f, 2.0f, 7);
  for (int64_t i = 0; i < s.numel(); ++i)                              // abs and relu: away from the kink
    if (std::fabs(s.data<float>()[i]) < 0.1f) s.data<float>()[i] = 0.5f;
  s.requires_grad_();
  gradcheck([&] { return loss_of(x.exp()); }, {x});
  gradcheck([&] { return loss_of(kn::log(x)); }, {x});
  gradcheck([&] { return loss_of(x.sqrt()); }, {x});
  gradcheck([&] { return loss_of(s.abs()); }, {s});
  gradcheck([&] { return loss_of(s.pow(2.f)); }, {s});
  gradcheck([&] { return loss_of(x.pow(-1.5f)); }, {x});
  gradcheck([&] { return loss_of(kn::sigmoid(s)); }, {s});
  gradcheck([&] { return loss_of(s.tanh()); }, {s});
  gradcheck([&] { return loss_of(s.relu()); }, {s});
}

TEST_CASE("reductions: sum and mean of everything and along each dimension", "[autograd][math]") {
  Tensor x = random_tensor({3, 5}, -1, 1, 8).requires_grad_();
  gradcheck([&] { return x.sum(); }, {x});
  gradcheck([&] { return x.mean() * 3.f; }, {x});
  for (int dim : {0, 1, -1})
    for (bool keep : {false, true}) {
      INFO("dim " << dim << " keepdim " << keep);
      gradcheck([&] { return loss_of(x.sum(dim, keep)); }, {x});
      gradcheck([&] { return loss_of(x.mean(dim, keep)); }, {x});
    }
  Tensor v = random_tensor({7}, -1, 1, 9).requires_grad_();
  gradcheck([&] { return loss_of(v.sum(0, true)); }, {v});
}

TEST_CASE("max and min: the gradient goes to the extreme element, shared among ties", "[autograd][math]") {
  Tensor x = random_tensor({4, 3}, -1, 1, 10).requires_grad_();
  gradcheck([&] { return x.max() * 2.f; }, {x});
  gradcheck([&] { return x.min() * 2.f; }, {x});
  Tensor t = kn::tensor({1.f, 3.f, 3.f, -2.f}).requires_grad_();
  t.max().backward();
  CHECK(t.grad().to_vector<float>() == std::vector<float>{0.f, 0.5f, 0.5f, 0.f});  // as PyTorch's max()
}

TEST_CASE("matmul and t(): gradients", "[autograd][math]") {
  Tensor a = random_tensor({3, 4}, -1, 1, 11).requires_grad_();
  Tensor b = random_tensor({4, 5}, -1, 1, 12).requires_grad_();
  gradcheck([&] { return loss_of(kn::matmul(a, b)); }, {a, b});
  gradcheck([&] { return loss_of(a.t().matmul(a)); }, {a});
  gradcheck([&] { return loss_of(b.t()); }, {b});
}

TEST_CASE("indexing: index_select (repeated indices accumulate), narrow, slice, select, reshape", "[autograd][math]") {
  Tensor x = random_tensor({5, 4}, -1, 1, 13).requires_grad_();
  const Tensor rows = kn::tensor({3, 0, 3, 3, 1});
  const Tensor cols = kn::tensor({2, 2, 0});
  gradcheck([&] { return loss_of(x.index_select(0, rows)); }, {x});
  gradcheck([&] { return loss_of(x.index_select(1, cols)); }, {x});
  gradcheck([&] { return loss_of(x.narrow(0, 1, 3)); }, {x});
  gradcheck([&] { return loss_of(x.narrow(1, 1, 2)); }, {x});
  gradcheck([&] { return loss_of(x.slice(0, 0, 5, 2)); }, {x});
  gradcheck([&] { return loss_of(x.slice(1, -3)); }, {x});
  gradcheck([&] { return loss_of(x.select(1, 2)); }, {x});
  gradcheck([&] { return loss_of(x[4] * x[0]); }, {x});
  gradcheck([&] { return loss_of(x.reshape({2, 10})); }, {x});
  // index_select's backward adds a repeated row's gradients: row 3 is taken three times.
  clear_grad(x);
  x.index_select(0, rows).sum().backward();
  const auto g = x.grad().to_vector<float>();
  CHECK(g[3 * 4] == 3.0f);
  CHECK(g[0] == 1.0f);
  CHECK(g[2 * 4] == 0.0f);
}

TEST_CASE("a composed graph: broadcasts, reductions and indexing together", "[autograd][math]") {
  Tensor X = random_tensor({6, 4}, -1, 1, 14).requires_grad_();
  Tensor W = random_tensor({4, 3}, -1, 1, 15).requires_grad_();
  Tensor b = random_tensor({3}, -1, 1, 16).requires_grad_();
  const Tensor idx = kn::tensor({5, 1, 1, 0});
  gradcheck(
      [&] {
        Tensor h = (kn::matmul(X, W) + b).tanh();
        Tensor p = h.index_select(0, idx).sigmoid();
        return (p - p.mean(0, true)).pow(2.f).sum() + h.narrow(1, 0, 2).abs().mean();
      },
      {X, W, b});
}
