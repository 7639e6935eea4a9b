// The tensor a libtorch user reaches for (<kernelnet/math.hpp>): factories, arithmetic
// with broadcasting, reductions, comparisons, dtype conversion and indexing, each
// against values worked out by hand, and the errors that name what was wrong.
#include <sstream>

#include <kernelnet/kernelnet.hpp>

#include "test_util.hpp"

using namespace kn;
using Catch::Matchers::Contains;

namespace {
std::vector<float> F(const Tensor& t) { return t.to(kFloat32).to_vector<float>(); }
std::vector<int64_t> I(const Tensor& t) { return t.to(kInt64).to_vector<int64_t>(); }
}  // namespace

TEST_CASE("factories: kn::tensor infers float32 and int64; zeros, ones, full, arange", "[math]") {
  Tensor a = kn::tensor({{1.f, 2.f}, {3.f, 4.f}});
  CHECK(a.dtype() == kFloat32);
  CHECK(a.sizes() == Shape{2, 2});
  CHECK(F(a) == std::vector<float>{1, 2, 3, 4});
  Tensor i = kn::tensor({2, 0, 1});
  CHECK(i.dtype() == kInt64);
  CHECK(I(i) == std::vector<int64_t>{2, 0, 1});
  CHECK(kn::tensor({1.5, 2.5}).dtype() == kFloat32);
  CHECK(F(kn::zeros({2, 3})) == std::vector<float>(6, 0.f));
  CHECK(F(kn::ones({2})) == std::vector<float>{1, 1});
  CHECK(F(kn::full({2, 3}, 7.f)) == std::vector<float>(6, 7.f));
  CHECK(kn::zeros({2}, kInt64).dtype() == kInt64);
  CHECK(I(kn::arange(5)) == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(I(kn::arange(2, 9, 3)) == std::vector<int64_t>{2, 5, 8});
  CHECK(kn::ones({2}, TensorOptions().requires_grad(true)).requires_grad());
  CHECK_THROWS_WITH(kn::tensor({{1.f, 2.f}, {3.f}}), Contains("row 1 has 1 values but row 0 has 2"));
}

TEST_CASE("rand, randn and randperm come from the seeded generator", "[math]") {
  kn::manual_seed(3);
  const auto r1 = F(kn::rand({100}, TensorOptions())), n1 = F(kn::randn({1000}));
  const auto p1 = I(kn::randperm(10));
  kn::manual_seed(3);
  CHECK(F(kn::rand({100}, TensorOptions())) == r1);
  CHECK(F(kn::randn({1000})) == n1);
  CHECK(I(kn::randperm(10)) == p1);
  for (float v : r1) CHECK((v >= 0.f && v < 1.f));
  double mean = 0, sq = 0;
  for (float v : n1) mean += v, sq += double(v) * v;
  mean /= 1000, sq /= 1000;
  CHECK(std::fabs(mean) < 0.1);            // 1000 draws: the mean's spread is 0.03
  CHECK(std::fabs(sq - mean * mean - 1) < 0.15);
  auto sorted = p1;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == I(kn::arange(10)));
  CHECK(p1 != sorted);  // seed 3 draws a permutation that is not the identity
}

TEST_CASE("arithmetic: every broadcast form of [N, C]", "[math]") {
  Tensor a = kn::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  CHECK(F(a + a) == std::vector<float>{2, 4, 6, 8, 10, 12});
  CHECK(F(a - kn::tensor({1.f, 2.f, 3.f})) == std::vector<float>{0, 0, 0, 3, 3, 3});            // [C]
  CHECK(F(a * kn::tensor({{1.f, 0.f, 2.f}})) == std::vector<float>{1, 0, 6, 4, 0, 12});         // [1, C]
  CHECK(F(a / kn::tensor({{1.f}, {2.f}})) == std::vector<float>{1, 2, 3, 2, 2.5f, 3});          // [N, 1]
  CHECK(F(a + kn::tensor({10.f})) == std::vector<float>{11, 12, 13, 14, 15, 16});               // [1]
  CHECK(F(a + kn::scalar_tensor(1.f)) == std::vector<float>{2, 3, 4, 5, 6, 7});                 // []
  Tensor outer = kn::tensor({{1.f}, {2.f}}) * kn::tensor({{1.f, 10.f, 100.f}});                 // [N,1] x [1,C]
  CHECK(outer.sizes() == Shape{2, 3});
  CHECK(F(outer) == std::vector<float>{1, 10, 100, 2, 20, 200});
  CHECK(F(a * 2 + 1.f) == std::vector<float>{3, 5, 7, 9, 11, 13});
  CHECK(F(2.f * a - 1) == std::vector<float>{1, 3, 5, 7, 9, 11});
  CHECK(F(12.f / a) == std::vector<float>{12, 6, 4, 3, 2.4f, 2});
  CHECK(F(a / 2.f) == std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3});
  CHECK(F(-a) == std::vector<float>{-1, -2, -3, -4, -5, -6});
  CHECK_THROWS_WITH(a + kn::tensor({1.f, 2.f}), Contains("shapes [2, 3] and [2] do not broadcast"));
  CHECK_THROWS_WITH(a + kn::ones({2, 3, 1}), Contains("up to 2 dimensions"));
  CHECK_THROWS_WITH(kn::tensor({1, 2}).exp(), Contains("exp: needs a float32 tensor, got Tensor([2], int64, cpu)"));
  CHECK_THROWS_WITH(kn::tensor({1, 2}) * 2.f, Contains("mul: needs a float32 tensor"));
}

TEST_CASE("in-place ops broadcast the right side, write through views, refuse tensors that require grad", "[math]") {
  Tensor a = kn::tensor({{1.f, 2.f}, {3.f, 4.f}});
  Tensor alias = a;  // a handle sharing the data, as in libtorch
  a += 1.f;
  a *= kn::tensor({1.f, 10.f});
  a -= kn::tensor({{1.f}, {2.f}});
  a /= 2.f;
  CHECK(F(alias) == std::vector<float>{0.5f, 14.5f, 1.f, 24.f});
  Tensor row = a[1];  // a view of row 1
  row += 100.f;
  CHECK(F(a) == std::vector<float>{0.5f, 14.5f, 101.f, 124.f});
  Tensor one_row = kn::ones({1, 2});
  CHECK_THROWS_WITH(one_row += kn::ones({3, 2}), Contains("the result would have shape [3, 2]"));
  CHECK(F(one_row) == std::vector<float>{1, 1});  // untouched
  Tensor w = kn::ones({2}).requires_grad_();
  CHECK_THROWS_WITH(w += 1.f, Contains("requires grad"));
  {
    NoGradGuard ng;
    w -= 0.5f;  // an optimizer's update
  }
  CHECK(F(w) == std::vector<float>{0.5f, 0.5f});
}

TEST_CASE("unary maths match the C library", "[math]") {
  const std::vector<float> v{0.25f, 1.f, 2.5f};
  Tensor x = kn::tensor({0.25f, 1.f, 2.5f});
  const auto check = [&](const Tensor& y, float (*f)(float)) {
    const auto got = F(y);
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(got[i] == Approx(f(v[i])).epsilon(1e-6));
  };
  check(x.exp(), [](float u) { return std::exp(u); });
  check(kn::log(x), [](float u) { return std::log(u); });
  check(x.sqrt(), [](float u) { return std::sqrt(u); });
  check((-x).abs(), [](float u) { return u; });
  check(x.pow(3.f), [](float u) { return u * u * u; });
  check(x.sigmoid(), [](float u) { return 1.f / (1.f + std::exp(-u)); });
  check(kn::tanh(x), [](float u) { return std::tanh(u); });
  check((x - 1.f).relu(), [](float u) { return u > 1.f ? u - 1.f : 0.f; });
}

TEST_CASE("reductions: sum, mean, keepdim, max, min, argmax, and integer sums", "[math]") {
  Tensor a = kn::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  CHECK(a.sum().item<float>() == 21.f);
  CHECK(a.sum().dim() == 0);
  CHECK(F(a.sum(0)) == std::vector<float>{5, 7, 9});
  CHECK(F(a.sum(1)) == std::vector<float>{6, 15});
  CHECK(a.sum(1, true).sizes() == Shape{2, 1});
  CHECK(a.sum(0, true).sizes() == Shape{1, 3});
  CHECK(a.sum(-1).sizes() == Shape{2});
  CHECK(a.mean().item<float>() == 3.5f);
  CHECK(F(a.mean(0)) == std::vector<float>{2.5f, 3.5f, 4.5f});
  CHECK(F(kn::mean(a, 1)) == std::vector<float>{2, 5});
  CHECK(a.max().item<float>() == 6.f);
  CHECK(a.min().item<float>() == 1.f);
  CHECK(I(a.argmax(1)) == std::vector<int64_t>{2, 2});
  Tensor i = kn::tensor({{1, 2}, {3, 4}});
  CHECK(i.sum().dtype() == kInt64);
  CHECK(i.sum().item<int64_t>() == 10);
  CHECK(I(i.sum(0)) == std::vector<int64_t>{4, 6});
  CHECK(kn::zeros({0}).sum().item<float>() == 0.f);
  CHECK_THROWS_WITH(a.sum(2), Contains("sum(2): dimension out of range for Tensor([2, 3], float32, cpu)"));
  CHECK_THROWS_WITH(i.mean(), Contains("mean: needs a float32 tensor"));
  CHECK_THROWS_WITH(kn::zeros({0}).max(), Contains("is empty"));
}

TEST_CASE("comparisons give kBool; (pred == y).sum() counts as an int64 scalar", "[math]") {
  Tensor a = kn::tensor({1.f, 2.f, 3.f}), b = kn::tensor({1.f, 5.f, 0.f});
  CHECK((a == b).dtype() == kBool);
  CHECK(I(a == b) == std::vector<int64_t>{1, 0, 0});
  CHECK(I(a != b) == std::vector<int64_t>{0, 1, 1});
  CHECK(I(a > b) == std::vector<int64_t>{0, 0, 1});
  CHECK(I(a < b) == std::vector<int64_t>{0, 1, 0});
  CHECK(I(a >= 2.f) == std::vector<int64_t>{0, 1, 1});
  CHECK(I(a <= 2) == std::vector<int64_t>{1, 1, 0});
  CHECK(I(a == 2.f) == std::vector<int64_t>{0, 1, 0});
  Tensor pred = kn::tensor({2, 0, 1, 1}), y = kn::tensor({2, 1, 1, 1});
  Tensor right = (pred == y).sum();
  CHECK(right.dtype() == kInt64);
  CHECK(right.dim() == 0);
  CHECK(right.item<int64_t>() == 3);
  CHECK((pred == y).to(kFloat32).mean().item<float>() == 0.75f);
  CHECK(I(kn::tensor({{1.f, 2.f}, {3.f, 4.f}}) > kn::tensor({{1.5f}, {3.5f}})) == std::vector<int64_t>{0, 1, 0, 1});
  CHECK(I(pred == kn::tensor({2.f, 0.5f, 1.f, 0.f})) == std::vector<int64_t>{1, 0, 1, 0});  // int64 vs float: as float
}

TEST_CASE("to(dtype): float, int64 and bool convert as PyTorch's", "[math]") {
  Tensor f = kn::tensor({-1.7f, 0.f, 2.9f});
  CHECK(I(f.to(kInt64)) == std::vector<int64_t>{-1, 0, 2});  // toward zero
  CHECK(I(f.to(kBool)) == std::vector<int64_t>{1, 0, 1});
  CHECK(F(kn::tensor({3, 0}).to(kFloat32)) == std::vector<float>{3, 0});
  CHECK(f.to(kFloat32).same(f));
  CHECK(f.to(Device::cpu(), kInt64).dtype() == kInt64);
}

TEST_CASE("matmul and t()", "[math]") {
  Tensor a = kn::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  Tensor b = kn::tensor({{1.f, 0.f}, {0.f, 1.f}, {1.f, 1.f}});
  CHECK(F(kn::matmul(a, b)) == std::vector<float>{4, 5, 10, 11});
  CHECK(F(a.matmul(b)) == std::vector<float>{4, 5, 10, 11});
  CHECK(a.t().sizes() == Shape{3, 2});
  CHECK(F(a.t()) == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(I(kn::tensor({{1, 2}, {3, 4}}).t()) == std::vector<int64_t>{1, 3, 2, 4});
  CHECK_THROWS_WITH(kn::matmul(a, a), Contains("shapes [2, 3] and [2, 3] cannot be multiplied (3 columns against 2 rows)"));
}

TEST_CASE("indexing: index_select, narrow, slice, select, [] and their views", "[math]") {
  Tensor a = kn::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}, {7.f, 8.f, 9.f}});
  CHECK(F(a.index_select(0, kn::tensor({2, 0, 2}))) == std::vector<float>{7, 8, 9, 1, 2, 3, 7, 8, 9});
  CHECK(F(a.index_select(1, kn::tensor({1}))) == std::vector<float>{2, 5, 8});
  CHECK(I(kn::tensor({5, 6, 7}).index_select(0, kn::tensor({2, 2}))) == std::vector<int64_t>{7, 7});
  CHECK(F(a.narrow(0, 1, 2)) == std::vector<float>{4, 5, 6, 7, 8, 9});
  CHECK(F(a.narrow(1, 1, 2)) == std::vector<float>{2, 3, 5, 6, 8, 9});
  CHECK(F(a.narrow(0, -1, 1)) == std::vector<float>{7, 8, 9});
  CHECK(F(a.slice(0, 0, 3, 2)) == std::vector<float>{1, 2, 3, 7, 8, 9});
  CHECK(F(a.slice(1, -2)) == std::vector<float>{2, 3, 5, 6, 8, 9});
  CHECK(a.slice(0, 5, 10).sizes() == Shape{0, 3});  // clamped, as Python's slices
  CHECK(F(a.select(1, 0)) == std::vector<float>{1, 4, 7});
  CHECK(F(a[1]) == std::vector<float>{4, 5, 6});
  CHECK(a[-1][2].item<float>() == 9.f);
  CHECK(a[0].dim() == 1);
  CHECK(a.size(0) == 3);
  CHECK(a.numel() == 9);
  CHECK(a.dim() == 2);
  CHECK(a.reshape({9}).sizes() == Shape{9});
  CHECK_THROWS_WITH(a.index_select(0, kn::tensor({0, 3})),
                    Contains("index 3 (at position 1 of the index) is out of range for dimension 0 of size 3"));
  CHECK_THROWS_WITH(a.index_select(0, kn::tensor({0.f})), Contains("the index must be int64"));
  CHECK_THROWS_WITH(a[3], Contains("select(): index 3 is out of range for dimension 0 of size 3"));
  CHECK_THROWS_WITH(a.narrow(1, 2, 2), Contains("exceeds dimension 1 of size 3"));
  CHECK_THROWS_WITH(a.reshape({4, 2}), Contains("cannot view [3, 3] (9 elements) as [4, 2] (8 elements)"));
}

TEST_CASE("a tensor made by an op prints its grad_fn as PyTorch names it", "[math][print]") {
  Tensor w = kn::tensor({1.f, 2.f}).requires_grad_();
  std::ostringstream s;
  s << w * 2.f << "|" << w.sum() << "|" << w[0] << "|" << w;
  // torch: w = torch.tensor([1., 2.], requires_grad=True); print(w * 2, w.sum(), w[0], w)
  CHECK(s.str() == "tensor([2., 4.], grad_fn=<MulBackward0>)|tensor(3., grad_fn=<SumBackward0>)|"
                   "tensor(1., grad_fn=<SelectBackward0>)|tensor([1., 2.], requires_grad=True)");
}

TEST_CASE("ops refuse tensors on different devices and undefined tensors, naming them", "[math]") {
  CHECK_THROWS_WITH(Tensor() + kn::ones({2}), Contains("undefined"));
  CHECK_THROWS_WITH(kn::ones({2}).sum(5), Contains("dimension out of range"));
}

TEST_CASE("issue 14's API block compiles and runs as written", "[math]") {
  const Device device = Device::cpu();
  const int64_t start = 0, length = 1, end = 2, i = 1;
  kn::Tensor a = kn::tensor({{1.f, 2.f}, {3.f, 4.f}});
  kn::Tensor b = kn::tensor({{2.f, 2.f}, {2.f, 2.f}});
  kn::Tensor idx = kn::tensor({1, 0, 1});
  kn::zeros({2, 3}); kn::ones({2, 3}); kn::full({2, 3}, 7.f); kn::rand({2, 3}); kn::randn({2, 3});
  kn::arange(5); kn::randperm(10);
  CHECK(F(a + b - a * b / b + (-a) + (a + 1.f) + 2.f * a + a / 2.f).size() == 4);
  a += b; a -= b; a *= b; a /= b;
  CHECK(F(a) == std::vector<float>{1, 2, 3, 4});
  kn::matmul(a, b); a.matmul(b); a.t();
  a.sum(); a.sum(1); a.sum(1, /*keepdim=*/true); a.mean(); a.mean(0);
  a.exp(); a.log(); a.sqrt(); a.abs(); a.pow(2.f); a.sigmoid(); a.tanh(); a.relu();
  kn::exp(a); kn::sigmoid(a);
  a.max(); a.min(); a.argmax(1);
  a == b; a != b; a > b; a < b; a == 2.f;
  CHECK((a == b).sum().item<int64_t>() == 1);
  a.to(kn::kFloat32); a.to(kn::kInt64); a.to(device);
  a.index_select(0, idx); a.narrow(0, start, length); a.slice(0, start, end); a[i];
  a.sizes(); a.size(0); a.dim(); a.numel(); a.sum().item<float>(); (a > 1.f).sum().item<int64_t>();
  std::ostringstream os;
  os << a;
  CHECK(os.str() == "tensor([[1., 2.],\n        [3., 4.]])");
}
