// The tensor-maths ops on the GPU (kernels/pointwise.cu, reduce.cu, index.cu) against
// their CPU twins: the emulator's coverage (tests/emu/test_tensor_ops.cpp) in brief, plus
// sizes only a GPU runs in time. Outputs are poisoned first; beta == 0 runs on a poisoned
// output. Copies, comparisons and casts are exact; maths within 1e-6 (relative, plus
// ulps of CUDA's expf/powf); sums in a different order within 1e-5.
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <kernelnet/ops/index.hpp>
#include <kernelnet/ops/pointwise.hpp>
#include <kernelnet/ops/reduce.hpp>

#include "gpu_test_util.hpp"

using kn::ops::Operand;
using kn::test::DeviceArray;
using kn::test::random_floats;
using kn::test::random_ints;

namespace {

struct TensorShape {
  int64_t rows, cols;
};
const TensorShape kTensorShapes[] = {{1, 1}, {1, 37}, {37, 1}, {17, 33}, {3, 1000}, {1000, 3}, {0, 5}, {257, 4099}};
const float kTensorBetas[] = {0.0f, 1.0f, 0.5f};
const int64_t kTensorSizes[] = {0, 1, 37, 561, 1000003};

constexpr uint8_t kPoisonByte = 0xAB;
DeviceArray<uint8_t> poisoned_bytes(std::size_t bytes) {
  DeviceArray<uint8_t> d(bytes);
  d.upload(std::vector<uint8_t>(bytes, kPoisonByte));
  return d;
}
template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}
std::vector<uint8_t> random_bytes(std::size_t n, std::uint64_t seed, int64_t hi = 255) {
  const auto v = random_ints(n, seed, 0, hi);
  return std::vector<uint8_t>(v.begin(), v.end());
}
std::vector<float> floats(std::size_t n, std::uint64_t seed) { return random_floats(n, seed); }
// Multiples of 1/4 in [-2, 2]: comparisons meet equal values often.
std::vector<float> quarter_floats(std::size_t n, std::uint64_t seed) {
  const auto k = random_ints(n, seed, -8, 8);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(k[i]) / 4.0f;
  return v;
}
std::vector<int64_t> small_ints(std::size_t n, std::uint64_t seed) { return random_ints(n, seed, -3, 3); }

enum class Form { Full, Row, Col, One, Scalar };  // [N,C], [C] (= [1,C]), [N,1], [1], p == nullptr
const Form kForms[] = {Form::Full, Form::Row, Form::Col, Form::One, Form::Scalar};

template <typename T>
struct Side {
  std::vector<T> host;
  DeviceArray<T> dev;
  Operand<T> cpu, gpu;
};
template <typename T, typename Gen>
Side<T> make_side(Form f, int64_t rows, int64_t cols, Gen gen, std::uint64_t seed) {
  Side<T> s;
  int64_t n = 0, rs = 0, cs = 0;
  switch (f) {
    case Form::Full: n = rows * cols, rs = cols, cs = 1; break;
    case Form::Row: n = cols, rs = 0, cs = 1; break;
    case Form::Col: n = rows, rs = 1, cs = 0; break;
    case Form::One: n = 1; break;
    case Form::Scalar: s.cpu.scalar = s.gpu.scalar = gen(1, seed)[0]; return s;
  }
  s.host = gen(std::size_t(n), seed);
  s.dev = DeviceArray<T>(s.host);
  s.cpu = Operand<T>{s.host.data(), rs, cs, T{}};
  s.gpu = Operand<T>{s.dev.get(), rs, cs, T{}};
  return s;
}

const kn::ops::Unary kUnaries[] = {kn::ops::Unary::Neg,  kn::ops::Unary::Exp, kn::ops::Unary::Log,
                                   kn::ops::Unary::Sqrt, kn::ops::Unary::Abs, kn::ops::Unary::Pow,
                                   kn::ops::Unary::Sigmoid, kn::ops::Unary::Tanh};
const kn::ops::Binary kBinaries[] = {kn::ops::Binary::Add, kn::ops::Binary::Sub, kn::ops::Binary::Mul,
                                     kn::ops::Binary::Div};
const kn::ops::Compare kCompares[] = {kn::ops::Compare::Eq, kn::ops::Compare::Ne, kn::ops::Compare::Gt,
                                      kn::ops::Compare::Lt, kn::ops::Compare::Ge, kn::ops::Compare::Le};
const kn::ops::Reduce kReduces[] = {kn::ops::Reduce::Sum, kn::ops::Reduce::Max, kn::ops::Reduce::Min};
const kn::ops::Scalar kScalars[] = {kn::ops::Scalar::Float32, kn::ops::Scalar::Int64, kn::ops::Scalar::Bool};

std::vector<float> unary_input(kn::ops::Unary op, std::size_t n, std::uint64_t seed) {
  const bool positive = op == kn::ops::Unary::Log || op == kn::ops::Unary::Sqrt || op == kn::ops::Unary::Pow;
  return positive ? random_floats(n, seed, 0.1f, 2.0f) : random_floats(n, seed, -2.0f, 2.0f);
}
std::vector<float> powers(kn::ops::Unary op) {
  return op == kn::ops::Unary::Pow ? std::vector<float>{2.0f, 0.5f, -1.5f, 0.0f} : std::vector<float>{1.0f};
}

}  // namespace

TEST_CASE("unary and unary_backward match the CPU for every op", "[gpu]") {
  using kn::ops::Unary;
  for (int64_t n : kTensorSizes)
    for (auto op : kUnaries)
      for (float p : powers(op)) {
        INFO("op " << int(op) << " (p " << p << ") on " << n << " elements");
        const std::size_t un = std::size_t(n);
        const auto x = unary_input(op, un, 100 + n);
        DeviceArray<float> dev_x(x), dev_y(un);
        dev_y.poison();
        kn::cuda::unary(dev_y.get(), dev_x.get(), n, op, p, 0);
        std::vector<float> y(un);
        kn::cpu::unary(y.data(), x.data(), n, op, p);
        KN_CHECK_CLOSE(dev_y.download(), y, 1e-6, 2e-6);

        const bool needs_x = op == Unary::Log || op == Unary::Abs || op == Unary::Pow;
        const bool needs_y = op == Unary::Exp || op == Unary::Sqrt || op == Unary::Sigmoid || op == Unary::Tanh;
        const auto dy = random_floats(un, 101 + n);
        dev_y.upload(y);  // the CPU's y, so that only the backward is compared
        DeviceArray<float> dev_dy(dy), dev_dx(un);
        for (float beta : kTensorBetas) {
          INFO("beta " << beta);
          auto dx = random_floats(un, 102 + n);
          if (beta == 0.0f) dev_dx.poison();
          else dev_dx.upload(dx);
          kn::cuda::unary_backward(dev_dx.get(), dev_dy.get(), needs_x ? dev_x.get() : nullptr,
                                   needs_y ? dev_y.get() : nullptr, n, op, p, beta, 0);
          kn::cpu::unary_backward(dx.data(), dy.data(), needs_x ? x.data() : nullptr, needs_y ? y.data() : nullptr, n,
                                  op, p, beta);
          KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 2e-6);
        }
      }
}

TEST_CASE("binary and compare match the CPU for every op and pair of broadcast forms", "[gpu]") {
  for (auto [rows, cols] : kTensorShapes)
    for (Form fa : kForms)
      for (Form fb : kForms) {
        INFO(rows << "x" << cols << ", forms " << int(fa) << " and " << int(fb));
        const std::size_t n = std::size_t(rows * cols);
        const auto a = make_side<float>(fa, rows, cols, floats, 10 + rows);
        const auto b = make_side<float>(fb, rows, cols, floats, 11 + cols);
        DeviceArray<float> dev_out(n);
        for (auto op : kBinaries) {
          INFO("binary " << int(op));
          dev_out.poison();
          kn::cuda::binary(dev_out.get(), a.gpu, b.gpu, rows, cols, op, 0);
          std::vector<float> out(n);
          kn::cpu::binary(out.data(), a.cpu, b.cpu, rows, cols, op);
          KN_CHECK_CLOSE(dev_out.download(), out, 0.0, 0.0);
        }
        const auto qa = make_side<float>(fa, rows, cols, quarter_floats, 12 + rows);
        const auto qb = make_side<float>(fb, rows, cols, quarter_floats, 13 + cols);
        const auto ia = make_side<int64_t>(fa, rows, cols, small_ints, 14 + rows);
        const auto ib = make_side<int64_t>(fb, rows, cols, small_ints, 15 + cols);
        for (auto op : kCompares) {
          INFO("compare " << int(op));
          auto dev_f = poisoned_bytes(n), dev_i = poisoned_bytes(n);
          kn::cuda::compare_f32(reinterpret_cast<bool*>(dev_f.get()), qa.gpu, qb.gpu, rows, cols, op, 0);
          kn::cuda::compare_i64(reinterpret_cast<bool*>(dev_i.get()), ia.gpu, ib.gpu, rows, cols, op, 0);
          std::vector<uint8_t> f(n, kPoisonByte), i(n, kPoisonByte);
          kn::cpu::compare_f32(reinterpret_cast<bool*>(f.data()), qa.cpu, qb.cpu, rows, cols, op);
          kn::cpu::compare_i64(reinterpret_cast<bool*>(i.data()), ia.cpu, ib.cpu, rows, cols, op);
          CHECK(dev_f.download() == f);
          CHECK(dev_i.download() == i);
        }
      }
}

TEST_CASE("binary writes in place into a full-size operand", "[gpu]") {
  for (auto [rows, cols] : kTensorShapes)
    for (Form other : kForms) {
      INFO(rows << "x" << cols << ", other form " << int(other));
      auto full = make_side<float>(Form::Full, rows, cols, floats, 20 + rows);
      auto o = make_side<float>(other, rows, cols, floats, 21 + cols);
      std::vector<float> out(full.host.size());
      kn::cpu::binary(out.data(), o.cpu, full.cpu, rows, cols, kn::ops::Binary::Div);
      kn::cuda::binary(full.dev.get(), o.gpu, full.gpu, rows, cols, kn::ops::Binary::Div, 0);
      KN_CHECK_CLOSE(full.dev.download(), out, 0.0, 0.0);
    }
}

TEST_CASE("cast matches the CPU for every pair of dtypes", "[gpu]") {
  for (int64_t n : kTensorSizes)
    for (auto from : kScalars)
      for (auto to : kScalars) {
        INFO("cast " << int(from) << " -> " << int(to) << " of " << n << " elements");
        const std::size_t un = std::size_t(n);
        std::vector<uint8_t> x;
        if (from == kn::ops::Scalar::Float32) {
          auto v = random_floats(un, 40 + n, -5.0f, 5.0f);
          for (std::size_t i = 0; i < un; i += 5) v[i] = i % 2 ? -0.0f : 0.0f;
          x = bytes_of(v);
        } else if (from == kn::ops::Scalar::Int64) {
          auto v = random_ints(un, 41 + n, -3, 3);
          for (std::size_t i = 1; i < un; i += 9) v[i] = (int64_t(1) << 40) + 12345;
          x = bytes_of(v);
        } else {
          x = random_bytes(un, 42 + n, 1);
        }
        const std::size_t out_bytes = un * (to == kn::ops::Scalar::Float32 ? 4 : to == kn::ops::Scalar::Int64 ? 8 : 1);
        DeviceArray<uint8_t> dev_x(x);
        auto dev_y = poisoned_bytes(out_bytes);
        kn::cuda::cast(dev_y.get(), to, dev_x.get(), from, n, 0);
        std::vector<uint8_t> y(out_bytes, kPoisonByte);
        kn::cpu::cast(y.data(), to, x.data(), from, n);
        CHECK(dev_y.download() == y);
      }
}

TEST_CASE("reduce and sum_i64 match the CPU over rows, columns, both and neither", "[gpu]") {
  std::vector<TensorShape> shapes(std::begin(kTensorShapes), std::end(kTensorShapes));
  shapes.push_back({5, 0});
  shapes.push_back({70000, 5});
  shapes.push_back({5, 70000});
  const std::pair<float, float> kScales[] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.5f}};
  for (auto [rows, cols] : shapes)
    for (bool keep_rows : {false, true})
      for (bool keep_cols : {false, true}) {
        INFO(rows << "x" << cols << (keep_rows ? ", keep rows" : "") << (keep_cols ? ", keep cols" : ""));
        const int64_t covered = (keep_rows ? 1 : rows) * (keep_cols ? 1 : cols);
        const std::size_t n_out = std::size_t((keep_rows ? rows : 1) * (keep_cols ? cols : 1));
        const auto x = random_floats(std::size_t(rows * cols), 50 + rows + 7 * cols);
        DeviceArray<float> dev_x(x), dev_y(n_out);
        for (auto op : kReduces)
          for (auto [alpha, beta] : kScales) {
            if (op != kn::ops::Reduce::Sum && covered == 0) continue;  // max and min need an element
            INFO("op " << int(op) << ", alpha " << alpha << ", beta " << beta);
            auto y = random_floats(n_out, 51 + rows);
            if (beta == 0.0f) dev_y.poison();
            else dev_y.upload(y);
            kn::cuda::reduce(dev_y.get(), dev_x.get(), rows, cols, keep_rows, keep_cols, op, alpha, beta, 0);
            kn::cpu::reduce(y.data(), x.data(), rows, cols, keep_rows, keep_cols, op, alpha, beta);
            if (op == kn::ops::Reduce::Sum)
              KN_CHECK_CLOSE(dev_y.download(), y, 2e-6 * double(covered + 1), 1e-5);
            else
              KN_CHECK_CLOSE(dev_y.download(), y, 1e-6, 1e-6);
          }
        auto xi = random_ints(std::size_t(rows * cols), 52 + rows, -1000, 1000);
        for (std::size_t i = 0; i < xi.size(); i += 3) xi[i] *= int64_t(1) << 33;
        DeviceArray<int64_t> dev_xi(xi), dev_yi(n_out);
        dev_yi.poison();
        kn::cuda::sum_i64(dev_yi.get(), dev_xi.get(), rows, cols, keep_rows, keep_cols, 0);
        std::vector<int64_t> yi(n_out);
        kn::cpu::sum_i64(yi.data(), xi.data(), rows, cols, keep_rows, keep_cols);
        CHECK(dev_yi.download() == yi);
      }
}

TEST_CASE("reduce is deterministic: the same bits on every run", "[gpu]") {
  const int64_t rows = 3001, cols = 1001;
  const auto x = random_floats(std::size_t(rows * cols), 53);
  DeviceArray<float> dev_x(x);
  for (bool keep_rows : {false, true})
    for (bool keep_cols : {false, true}) {
      if (keep_rows && keep_cols) continue;
      const std::size_t n_out = std::size_t((keep_rows ? rows : 1) * (keep_cols ? cols : 1));
      DeviceArray<float> dev_y(n_out);
      kn::cuda::reduce(dev_y.get(), dev_x.get(), rows, cols, keep_rows, keep_cols, kn::ops::Reduce::Sum, 1.0f, 0.0f, 0);
      const auto first = bytes_of(dev_y.download());
      for (int run = 0; run < 5; ++run) {
        dev_y.poison();
        kn::cuda::reduce(dev_y.get(), dev_x.get(), rows, cols, keep_rows, keep_cols, kn::ops::Reduce::Sum, 1.0f, 0.0f,
                         0);
        CHECK(bytes_of(dev_y.download()) == first);
      }
    }
}

namespace {
struct IndexShape {
  int64_t outer, count, inner, size;
};
const IndexShape kIndexShapes[] = {{1, 1, 1, 1},   {1, 37, 1, 5},      {37, 1, 1, 3},    {3, 5, 7, 4},
                                   {17, 9, 33, 3}, {2, 40, 3, 50},     {1, 300, 10, 7},  {1, 3, 2100, 4},
                                   {3, 0, 4, 5},   {0, 4, 3, 5},       {3, 4, 0, 5},     {1, 5000, 64, 1000},
                                   {64, 100, 1, 500}};
std::vector<int64_t> make_index(const IndexShape& s, std::uint64_t seed) {
  auto index = random_ints(std::size_t(s.count), seed, 0, s.size - 1);
  if (index.size() >= 2) index.back() = index.front();  // a repeat, at least
  return index;
}
}  // namespace

TEST_CASE("index_select and index_add match the CPU, repeated indices included", "[gpu]") {
  for (const auto& s : kIndexShapes) {
    INFO("outer " << s.outer << ", count " << s.count << ", inner " << s.inner << ", size " << s.size);
    const auto index = make_index(s, 80 + s.count);
    DeviceArray<int64_t> dev_index(index);
    for (int elem_bytes : {1, 4, 8}) {
      INFO(elem_bytes << "-byte elements");
      const auto x = random_bytes(std::size_t(s.outer * s.size * s.inner * elem_bytes), 81 + s.size);
      const std::size_t out_bytes = std::size_t(s.outer * s.count * s.inner * elem_bytes);
      DeviceArray<uint8_t> dev_x(x);
      auto dev_out = poisoned_bytes(out_bytes);
      kn::cuda::index_select(dev_out.get(), dev_x.get(), dev_index.get(), s.outer, s.count, s.inner, s.size,
                             elem_bytes, 0);
      std::vector<uint8_t> out(out_bytes, kPoisonByte);
      kn::cpu::index_select(out.data(), x.data(), index.data(), s.outer, s.count, s.inner, s.size, elem_bytes);
      CHECK(dev_out.download() == out);
    }
    const auto dy = random_floats(std::size_t(s.outer * s.count * s.inner), 91 + s.size);
    DeviceArray<float> dev_dy(dy), dev_dx(std::size_t(s.outer * s.size * s.inner));
    for (float beta : kTensorBetas) {
      INFO("index_add, beta " << beta);
      auto dx = random_floats(std::size_t(s.outer * s.size * s.inner), 92 + s.inner);
      if (beta == 0.0f) dev_dx.poison();
      else dev_dx.upload(dx);
      kn::cuda::index_add(dev_dx.get(), dev_dy.get(), dev_index.get(), s.outer, s.count, s.inner, s.size, beta, 0);
      kn::cpu::index_add(dx.data(), dy.data(), index.data(), s.outer, s.count, s.inner, s.size, beta);
      KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 1e-6);
    }
  }
}

TEST_CASE("transpose matches the CPU for elements of 1, 4 and 8 bytes", "[gpu]") {
  std::vector<TensorShape> shapes(std::begin(kTensorShapes), std::end(kTensorShapes));
  shapes.push_back({65, 33});
  shapes.push_back({4, 0});
  shapes.push_back({2100000, 3});  // more rows of tiles than a grid's y holds: blocks loop
  for (auto [rows, cols] : shapes)
    for (int elem_bytes : {1, 4, 8}) {
      INFO(rows << "x" << cols << ", " << elem_bytes << "-byte elements");
      const std::size_t bytes = std::size_t(rows * cols * elem_bytes);
      const auto x = random_bytes(bytes, 95 + rows + cols);
      DeviceArray<uint8_t> dev_x(x);
      auto dev_y = poisoned_bytes(bytes);
      kn::cuda::transpose(dev_y.get(), dev_x.get(), rows, cols, elem_bytes, 0);
      std::vector<uint8_t> y(bytes, kPoisonByte);
      kn::cpu::transpose(y.data(), x.data(), rows, cols, elem_bytes);
      CHECK(dev_y.download() == y);
    }
}
