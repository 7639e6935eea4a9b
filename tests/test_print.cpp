// std::ostream << kn::Tensor prints what PyTorch's print(t) prints. Every expected string
// below was printed by PyTorch 1.13 (python3-torch): the comment above each check is the
// Python expression whose str() it is.
#include <sstream>

#include <kernelnet/print.hpp>

#include "test_util.hpp"

using namespace kn;

namespace {

std::string printed(const Tensor& t) {
  std::ostringstream s;
  s << t;
  return s.str();
}

// torch.arange(n, dtype=torch.float32) / divisor, reshaped.
Tensor arange(const Shape& shape, float divisor = 1.0f) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i) / divisor;
  return t;
}

Tensor bools(const std::vector<bool>& values) {
  Tensor t = Tensor::empty(Shape{int64_t(values.size())}, Dtype::Bool);
  for (std::size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
  return t;
}

// A node standing for the op that made a tensor (the name is all that printing reads).
struct NamedBackward : Node {
  const char* n;
  explicit NamedBackward(const char* name) : n(name) {}
  const char* name() const override { return n; }
  void backward(const Tensor&) override {}
};

}  // namespace

TEST_CASE("float32 tensors print as PyTorch prints them", "[print]") {
  // torch.tensor([[1., 2.], [3., 4.]])
  CHECK(printed(Tensor::from_vector<float>({1, 2, 3, 4}, Shape{2, 2})) ==
        "tensor([[1., 2.],\n"
        "        [3., 4.]])");
  // torch.tensor([0.12345, 2.5, 10.])
  CHECK(printed(Tensor::from_vector<float>({0.12345f, 2.5f, 10.f})) == "tensor([ 0.1235,  2.5000, 10.0000])");
  // torch.tensor([[-1.5, 2.25], [3., -0.125]])
  CHECK(printed(Tensor::from_vector<float>({-1.5f, 2.25f, 3.f, -0.125f}, Shape{2, 2})) ==
        "tensor([[-1.5000,  2.2500],\n"
        "        [ 3.0000, -0.1250]])");
  // torch.tensor([-0., 0., 1.])
  CHECK(printed(Tensor::from_vector<float>({-0.f, 0.f, 1.f})) == "tensor([-0., 0., 1.])");
  // torch.arange(24.).reshape(2, 3, 4) / 4
  CHECK(printed(arange(Shape{2, 3, 4}, 4)) ==
        "tensor([[[0.0000, 0.2500, 0.5000, 0.7500],\n"
        "         [1.0000, 1.2500, 1.5000, 1.7500],\n"
        "         [2.0000, 2.2500, 2.5000, 2.7500]],\n"
        "\n"
        "        [[3.0000, 3.2500, 3.5000, 3.7500],\n"
        "         [4.0000, 4.2500, 4.5000, 4.7500],\n"
        "         [5.0000, 5.2500, 5.5000, 5.7500]]])");
  // torch.arange(30.) / 3: a long row wraps at 80 columns.
  CHECK(printed(arange(Shape{30}, 3)) ==
        "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
        "        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,\n"
        "        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,\n"
        "        9.0000, 9.3333, 9.6667])");
}

TEST_CASE("scientific notation, nan and inf as PyTorch chooses them", "[print]") {
  // torch.tensor([1e5, 1.])
  CHECK(printed(Tensor::from_vector<float>({1e5f, 1.f})) == "tensor([1.0000e+05, 1.0000e+00])");
  // torch.tensor([1e-5, 0.5])
  CHECK(printed(Tensor::from_vector<float>({1e-5f, 0.5f})) == "tensor([1.0000e-05, 5.0000e-01])");
  // torch.tensor([1e9, 2e9])
  CHECK(printed(Tensor::from_vector<float>({1e9f, 2e9f})) == "tensor([1.0000e+09, 2.0000e+09])");
  const float inf = INFINITY, nan = NAN;
  // torch.tensor([float('nan'), float('inf'), -float('inf'), 1.])
  CHECK(printed(Tensor::from_vector<float>({nan, inf, -inf, 1.f})) == "tensor([nan, inf, -inf, 1.])");
  // torch.tensor([float('nan'), 0.5, -float('inf')]) (a NaN with its sign bit set prints the same)
  CHECK(printed(Tensor::from_vector<float>({-nan, 0.5f, -inf})) == "tensor([   nan, 0.5000,   -inf])");
}

TEST_CASE("more than 1000 elements are summarised as PyTorch does", "[print]") {
  // torch.arange(2000.)
  CHECK(printed(arange(Shape{2000})) ==
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])");
  // torch.arange(2500.).reshape(50, 50)
  CHECK(printed(arange(Shape{50, 50})) ==
        "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
        "         4.9000e+01],\n"
        "        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n"
        "         9.9000e+01],\n"
        "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n"
        "         1.4900e+02],\n"
        "        ...,\n"
        "        [2.3500e+03, 2.3510e+03, 2.3520e+03,  ..., 2.3970e+03, 2.3980e+03,\n"
        "         2.3990e+03],\n"
        "        [2.4000e+03, 2.4010e+03, 2.4020e+03,  ..., 2.4470e+03, 2.4480e+03,\n"
        "         2.4490e+03],\n"
        "        [2.4500e+03, 2.4510e+03, 2.4520e+03,  ..., 2.4970e+03, 2.4980e+03,\n"
        "         2.4990e+03]])");
  // torch.arange(1200).reshape(2, 600)
  std::vector<int64_t> ints(1200);
  for (int64_t i = 0; i < 1200; ++i) ints[i] = i;
  CHECK(printed(Tensor::from_vector<int64_t>(ints, Shape{2, 600})) ==
        "tensor([[   0,    1,    2,  ...,  597,  598,  599],\n"
        "        [ 600,  601,  602,  ..., 1197, 1198, 1199]])");
}

TEST_CASE("int64, bool and 0-d tensors print as PyTorch prints them", "[print]") {
  // torch.tensor([2, 0, 1])
  CHECK(printed(Tensor::from_vector<int64_t>({2, 0, 1})) == "tensor([2, 0, 1])");
  // torch.tensor([[-100, 5], [7, 12345]])
  CHECK(printed(Tensor::from_vector<int64_t>({-100, 5, 7, 12345}, Shape{2, 2})) ==
        "tensor([[ -100,     5],\n"
        "        [    7, 12345]])");
  // torch.tensor([True, False])
  CHECK(printed(bools({true, false})) == "tensor([ True, False])");
  // torch.tensor([True, True])
  CHECK(printed(bools({true, true})) == "tensor([True, True])");
  // torch.tensor(3.)
  CHECK(printed(Tensor::from_vector<float>({3.f}, Shape{})) == "tensor(3.)");
  // torch.tensor(-0.5)
  CHECK(printed(Tensor::from_vector<float>({-0.5f}, Shape{})) == "tensor(-0.5000)");
  // torch.tensor(7)
  CHECK(printed(Tensor::from_vector<int64_t>({7}, Shape{})) == "tensor(7)");
}

TEST_CASE("empty and undefined tensors", "[print]") {
  // torch.tensor([])
  CHECK(printed(Tensor::empty(Shape{0})) == "tensor([])");
  // torch.zeros(0, 3)
  CHECK(printed(Tensor::empty(Shape{0, 3})) == "tensor([], size=(0, 3))");
  // torch.tensor([], dtype=torch.int64)
  CHECK(printed(Tensor::empty(Shape{0}, Dtype::Int64)) == "tensor([], dtype=torch.int64)");
  // torch.zeros(0, dtype=torch.bool)
  CHECK(printed(Tensor::empty(Shape{0}, Dtype::Bool)) == "tensor([], dtype=torch.bool)");
  CHECK(printed(Tensor()) == "Tensor(undefined)");
}

TEST_CASE("requires_grad and grad_fn suffixes", "[print]") {
  // torch.tensor([1., 2.], requires_grad=True)
  Tensor leaf = Tensor::from_vector<float>({1, 2});
  leaf.requires_grad_();
  CHECK(printed(leaf) == "tensor([1., 2.], requires_grad=True)");
  // torch.full((7,), 1.5, requires_grad=True): the suffix goes to a new line past 80 columns.
  Tensor wide = Tensor::full(Shape{7}, 1.5f);
  wide.requires_grad_();
  CHECK(printed(wide) ==
        "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000],\n"
        "       requires_grad=True)");
  // torch.tensor([1., 2.], requires_grad=True) * 1 (the node is made by hand here)
  Tensor made = Tensor::from_vector<float>({1, 2});
  made.impl().requires_grad = true;
  made.impl().grad_fn = std::make_shared<NamedBackward>("MulBackward0");
  CHECK(printed(made) == "tensor([1., 2.], grad_fn=<MulBackward0>)");
}
