// The tensor-maths kernels on the CPU harness: pointwise.cu (unary and its backward,
// broadcast binary and comparisons, every cast), reduce.cu (reduce over every kept-axis
// combination, sum_i64) and index.cu (index_select, index_add, transpose). Each against
// the CPU backend (kn::cpu), outputs poisoned before the call, on odd shapes, on a 1-SM
// device (each thread loops) and a 132-SM one. Copies, comparisons and casts must be
// exact; maths within 1e-6; sums, whose order differs from the CPU's, within 1e-5.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <kernelnet/ops/index.hpp>
#include <kernelnet/ops/pointwise.hpp>
#include <kernelnet/ops/reduce.hpp>

#include "emu_test.hpp"

using kn::ops::Operand;
using kn::test::DeviceArray;
using kn::test::random_floats;
using kn::test::random_ints;

namespace {

struct OpShape {
  int64_t rows, cols;
};
const OpShape kOpShapes[] = {{1, 1}, {1, 37}, {37, 1}, {17, 33}, {3, 1000}, {1000, 3}, {0, 5}};
const float kOpBetas[] = {0.0f, 1.0f, 0.5f};
const int64_t kOpSizes[] = {0, 1, 37, 561, 3000};

// Poison for outputs of any type: every byte 0xAB (a NaN pattern for neither float nor
// bool, so a byte the kernel forgot shows up as a mismatch, not as a valid value).
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
std::vector<uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  const auto v = random_ints(n, seed, 0, 255);
  return std::vector<uint8_t>(v.begin(), v.end());
}
// Bools as bytes 0 and 1 (std::vector<bool> has no buffer to copy from).
std::vector<uint8_t> random_bools(std::size_t n, std::uint64_t seed) {
  const auto v = random_ints(n, seed, 0, 1);
  return std::vector<uint8_t>(v.begin(), v.end());
}
// Uniform in [-1, 1) (random_floats without its defaults, to pass as a generator).
std::vector<float> floats(std::size_t n, std::uint64_t seed) { return random_floats(n, seed); }
// Multiples of 1/4 in [-2, 2]: comparisons meet equal values often.
std::vector<float> quarter_floats(std::size_t n, std::uint64_t seed) {
  const auto k = random_ints(n, seed, -8, 8);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(k[i]) / 4.0f;
  return v;
}

// ---- One side of a broadcast: [N, C], [C] (= [1, C]), [N, 1], [1], or a scalar -------------
enum class Form { Full, Row, Col, One, Scalar };
const Form kForms[] = {Form::Full, Form::Row, Form::Col, Form::One, Form::Scalar};
const char* name(Form f) {
  switch (f) {
    case Form::Full: return "[N,C]";
    case Form::Row: return "[C]";
    case Form::Col: return "[N,1]";
    case Form::One: return "[1]";
    case Form::Scalar: return "scalar";
  }
  return "?";
}

template <typename T>
struct Side {
  std::vector<T> host;
  DeviceArray<T> dev;
  Operand<T> cpu, gpu;
};
// gen(n, seed) gives the values.
template <typename T, typename Gen>
Side<T> make_side(Form f, int64_t rows, int64_t cols, Gen gen, std::uint64_t seed) {
  Side<T> s;
  int64_t n = 0, rs = 0, cs = 0;
  switch (f) {
    case Form::Full: n = rows * cols, rs = cols, cs = 1; break;
    case Form::Row: n = cols, rs = 0, cs = 1; break;
    case Form::Col: n = rows, rs = 1, cs = 0; break;
    case Form::One: n = 1; break;
    case Form::Scalar: break;
  }
  if (f == Form::Scalar) {
    s.cpu.scalar = s.gpu.scalar = gen(1, seed)[0];
    return s;
  }
  s.host = gen(std::size_t(n), seed);
  s.dev = DeviceArray<T>(s.host);
  s.cpu = Operand<T>{s.host.data(), rs, cs, T{}};
  s.gpu = Operand<T>{s.dev.get(), rs, cs, T{}};
  return s;
}

const char* name(kn::ops::Unary op) {
  const char* names[] = {"Neg", "Exp", "Log", "Sqrt", "Abs", "Pow", "Sigmoid", "Tanh"};
  return names[int(op)];
}
const kn::ops::Unary kUnaries[] = {kn::ops::Unary::Neg, kn::ops::Unary::Exp,     kn::ops::Unary::Log,
                                   kn::ops::Unary::Sqrt, kn::ops::Unary::Abs,    kn::ops::Unary::Pow,
                                   kn::ops::Unary::Sigmoid, kn::ops::Unary::Tanh};
const kn::ops::Binary kBinaries[] = {kn::ops::Binary::Add, kn::ops::Binary::Sub, kn::ops::Binary::Mul,
                                     kn::ops::Binary::Div};
const kn::ops::Compare kCompares[] = {kn::ops::Compare::Eq, kn::ops::Compare::Ne, kn::ops::Compare::Gt,
                                      kn::ops::Compare::Lt, kn::ops::Compare::Ge, kn::ops::Compare::Le};
const kn::ops::Reduce kReduces[] = {kn::ops::Reduce::Sum, kn::ops::Reduce::Max, kn::ops::Reduce::Min};
const kn::ops::Scalar kScalars[] = {kn::ops::Scalar::Float32, kn::ops::Scalar::Int64, kn::ops::Scalar::Bool};

// Inputs in each op's domain: Log, Sqrt and Pow (of non-integer powers) need x > 0.
std::vector<float> unary_input(kn::ops::Unary op, std::size_t n, std::uint64_t seed) {
  const bool positive = op == kn::ops::Unary::Log || op == kn::ops::Unary::Sqrt || op == kn::ops::Unary::Pow;
  return positive ? random_floats(n, seed, 0.1f, 2.0f) : random_floats(n, seed, -2.0f, 2.0f);
}
// The powers Pow is tried with (the other ops ignore p).
std::vector<float> powers(kn::ops::Unary op) {
  return op == kn::ops::Unary::Pow ? std::vector<float>{2.0f, 0.5f, -1.5f, 0.0f} : std::vector<float>{1.0f};
}

}  // namespace

// ---- pointwise.cu --------------------------------------------------------------------------

TEST_CASE("unary matches the CPU for every op", "[emu][tensor-ops]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kOpSizes)
      for (auto op : kUnaries)
        for (float p : powers(op)) {
          INFO(name(op) << " (p " << p << ") on " << n << " elements, " << sms << " SMs");
          const auto x = unary_input(op, std::size_t(n), 100 + n);
          DeviceArray<float> dev_x(x), dev_y{std::size_t(n)};
          dev_y.poison();
          kn::cuda::unary(dev_y.get(), dev_x.get(), n, op, p, 0);
          std::vector<float> y(x.size());
          kn::cpu::unary(y.data(), x.data(), n, op, p);
          KN_CHECK_CLOSE(dev_y.download(), y, 1e-6, 1e-6);
        }
  }
}

TEST_CASE("unary_backward matches the CPU for every op and beta 0, 1 and 0.5, reading only x or y", "[emu][tensor-ops]") {
  using kn::ops::Unary;
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kOpSizes)
      for (auto op : kUnaries)
        for (float p : powers(op))
          for (float beta : kOpBetas) {
            INFO(name(op) << " (p " << p << ") on " << n << " elements, beta " << beta << ", " << sms << " SMs");
            const std::size_t un = std::size_t(n);
            const auto x = unary_input(op, un, 200 + n), dy = random_floats(un, 201 + n);
            std::vector<float> y(un);
            kn::cpu::unary(y.data(), x.data(), n, op, p);
            // Each op is given only what it reads: the other pointer is null.
            const bool needs_x = op == Unary::Log || op == Unary::Abs || op == Unary::Pow;
            const bool needs_y = op == Unary::Exp || op == Unary::Sqrt || op == Unary::Sigmoid || op == Unary::Tanh;
            auto dx = random_floats(un, 202 + n);
            DeviceArray<float> dev_x(x), dev_y(y), dev_dy(dy), dev_dx(dx);
            if (beta == 0.0f) dev_dx.poison();
            kn::cuda::unary_backward(dev_dx.get(), dev_dy.get(), needs_x ? dev_x.get() : nullptr,
                                     needs_y ? dev_y.get() : nullptr, n, op, p, beta, 0);
            kn::cpu::unary_backward(dx.data(), dy.data(), needs_x ? x.data() : nullptr, needs_y ? y.data() : nullptr,
                                    n, op, p, beta);
            KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 1e-6);
          }
  }
}

TEST_CASE("binary matches the CPU for every op and every pair of broadcast forms", "[emu][tensor-ops]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, cols] : kOpShapes)
      for (Form fa : kForms)
        for (Form fb : kForms)
          for (auto op : kBinaries) {
            INFO(rows << "x" << cols << ": " << name(fa) << " op " << int(op) << " " << name(fb) << ", " << sms
                      << " SMs");
            const auto a = make_side<float>(fa, rows, cols, floats, 10 + rows);
            const auto b = make_side<float>(fb, rows, cols, floats, 11 + cols);
            const std::size_t n = std::size_t(rows * cols);
            DeviceArray<float> dev_out(n);
            dev_out.poison();
            kn::cuda::binary(dev_out.get(), a.gpu, b.gpu, rows, cols, op, 0);
            std::vector<float> out(n);
            kn::cpu::binary(out.data(), a.cpu, b.cpu, rows, cols, op);
            KN_CHECK_CLOSE(dev_out.download(), out, 0.0, 0.0);
          }
  }
}

TEST_CASE("binary writes in place into a full-size operand", "[emu][tensor-ops]") {
  for (auto [rows, cols] : kOpShapes)
    for (bool into_a : {true, false})
      for (Form other : kForms)
        for (auto op : kBinaries) {
          INFO(rows << "x" << cols << ", into " << (into_a ? "a" : "b") << ", other " << name(other) << ", op "
                    << int(op));
          auto full = make_side<float>(Form::Full, rows, cols, floats, 20 + rows);
          auto o = make_side<float>(other, rows, cols, floats, 21 + cols);
          const Side<float>& a = into_a ? full : o;
          const Side<float>& b = into_a ? o : full;
          std::vector<float> out(static_cast<std::size_t>(rows * cols));
          kn::cpu::binary(out.data(), a.cpu, b.cpu, rows, cols, op);
          kn::cuda::binary(full.dev.get(), a.gpu, b.gpu, rows, cols, op, 0);
          KN_CHECK_CLOSE(full.dev.download(), out, 0.0, 0.0);
        }
}

namespace {
// compare_f32 or compare_i64 over every shape, op and pair of forms.
template <typename T, typename Gen, typename Cuda, typename Cpu>
void check_compare(Gen gen, Cuda cuda, Cpu cpu) {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, cols] : kOpShapes)
      for (Form fa : kForms)
        for (Form fb : kForms)
          for (auto op : kCompares) {
            INFO(rows << "x" << cols << ": " << name(fa) << " cmp " << int(op) << " " << name(fb) << ", " << sms
                      << " SMs");
            const auto a = make_side<T>(fa, rows, cols, gen, 30 + rows);
            const auto b = make_side<T>(fb, rows, cols, gen, 31 + cols);
            const std::size_t n = std::size_t(rows * cols);
            auto dev_out = poisoned_bytes(n);
            cuda(reinterpret_cast<bool*>(dev_out.get()), a.gpu, b.gpu, rows, cols, op, 0);
            std::vector<uint8_t> out(n, kPoisonByte);
            cpu(reinterpret_cast<bool*>(out.data()), a.cpu, b.cpu, rows, cols, op);
            CHECK(dev_out.download() == out);
          }
  }
}
}  // namespace

TEST_CASE("compare_f32 matches the CPU for every op and every pair of broadcast forms", "[emu][tensor-ops]") {
  check_compare<float>(quarter_floats, kn::cuda::compare_f32, kn::cpu::compare_f32);
}

TEST_CASE("compare_i64 matches the CPU for every op and every pair of broadcast forms", "[emu][tensor-ops]") {
  auto gen = [](std::size_t n, std::uint64_t seed) {
    auto v = random_ints(n, seed, -3, 3);
    for (std::size_t i = 0; i < n; i += 7) v[i] = v[i] * (int64_t(1) << 40);  // beyond 32 bits
    return v;
  };
  check_compare<int64_t>(gen, kn::cuda::compare_i64, kn::cpu::compare_i64);
}

namespace {
std::size_t scalar_bytes(kn::ops::Scalar s) {
  return s == kn::ops::Scalar::Float32 ? 4 : s == kn::ops::Scalar::Int64 ? 8 : 1;
}
// n values of dtype s, as bytes: floats with fractions of both signs, zeros (and -0), and
// integers past 2^24 and 2^32; int64s likewise; bools as 0 and 1.
std::vector<uint8_t> cast_input(kn::ops::Scalar s, std::size_t n, std::uint64_t seed) {
  if (s == kn::ops::Scalar::Float32) {
    auto v = random_floats(n, seed, -5.0f, 5.0f);
    for (std::size_t i = 0; i < n; i += 5) v[i] = 0.0f;
    for (std::size_t i = 3; i < n; i += 11) v[i] = -0.0f;
    for (std::size_t i = 4; i < n; i += 13) v[i] = (i % 2 ? -1.0f : 1.0f) * 1234567936.0f;  // 2^30-ish, exact
    return bytes_of(v);
  }
  if (s == kn::ops::Scalar::Int64) {
    auto v = random_ints(n, seed, -3, 3);
    for (std::size_t i = 1; i < n; i += 9) v[i] = (int64_t(1) << 40) + 12345;  // rounds on the way to float
    for (std::size_t i = 2; i < n; i += 9) v[i] = -(int64_t(1) << 25) - 1;
    return bytes_of(v);
  }
  return random_bools(n, seed);
}
}  // namespace

TEST_CASE("cast matches the CPU for every pair of dtypes", "[emu][tensor-ops]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (int64_t n : kOpSizes)
      for (auto from : kScalars)
        for (auto to : kScalars) {
          INFO("cast " << int(from) << " -> " << int(to) << " of " << n << " elements, " << sms << " SMs");
          const auto x = cast_input(from, std::size_t(n), 40 + n);
          DeviceArray<uint8_t> dev_x(x);
          auto dev_y = poisoned_bytes(std::size_t(n) * scalar_bytes(to));
          kn::cuda::cast(dev_y.get(), to, dev_x.get(), from, n, 0);
          std::vector<uint8_t> y(std::size_t(n) * scalar_bytes(to), kPoisonByte);
          kn::cpu::cast(y.data(), to, x.data(), from, n);
          CHECK(dev_y.download() == y);
        }
  }
}

// ---- reduce.cu -----------------------------------------------------------------------------

namespace {
// {2, 2500}: on one SM, the thread-per-column kernel's threads loop too.
const OpShape kReduceShapes[] = {{1, 1},    {1, 37}, {37, 1}, {17, 33}, {3, 1000},
                               {1000, 3}, {2, 2500}, {0, 5}, {5, 0},   {0, 0}};
}

TEST_CASE("reduce matches the CPU over rows, columns, both and neither, for every op and beta", "[emu][tensor-ops]") {
  const std::pair<float, float> kScales[] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.5f}};  // alpha, beta
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, cols] : kReduceShapes)
      for (bool keep_rows : {false, true})
        for (bool keep_cols : {false, true})
          for (auto op : kReduces)
            for (auto [alpha, beta] : kScales) {
              const int64_t covered = (keep_rows ? 1 : rows) * (keep_cols ? 1 : cols);
              if (op != kn::ops::Reduce::Sum && covered == 0) continue;  // max and min need an element
              INFO(rows << "x" << cols << (keep_rows ? ", keep rows" : "") << (keep_cols ? ", keep cols" : "")
                        << ", op " << int(op) << ", alpha " << alpha << ", beta " << beta << ", " << sms << " SMs");
              const int64_t n_out = (keep_rows ? rows : 1) * (keep_cols ? cols : 1);
              const auto x = random_floats(std::size_t(rows * cols), 50 + rows + 7 * cols);
              auto y = random_floats(std::size_t(n_out), 51 + rows);
              DeviceArray<float> dev_x(x), dev_y(y);
              if (beta == 0.0f) dev_y.poison();
              kn::cuda::reduce(dev_y.get(), dev_x.get(), rows, cols, keep_rows, keep_cols, op, alpha, beta, 0);
              kn::cpu::reduce(y.data(), x.data(), rows, cols, keep_rows, keep_cols, op, alpha, beta);
              if (op == kn::ops::Reduce::Sum)
                KN_CHECK_CLOSE(dev_y.download(), y, 2e-6 * double(covered + 1), 1e-5);
              else
                KN_CHECK_CLOSE(dev_y.download(), y, 1e-6, 1e-6);
            }
  }
}

TEST_CASE("reduce's max and min take negative and positive extremes, and the first element", "[emu][tensor-ops]") {
  // Every value negative (a max that started from 0 would be wrong), then every value
  // positive (likewise for a min), in each layout.
  for (float sign : {-1.0f, 1.0f})
    for (auto [rows, cols] : {OpShape{3, 70}, OpShape{70, 3}, OpShape{1, 1}})
      for (bool keep_rows : {false, true})
        for (bool keep_cols : {false, true})
          for (auto op : {kn::ops::Reduce::Max, kn::ops::Reduce::Min}) {
            INFO(rows << "x" << cols << " sign " << sign << (keep_rows ? ", keep rows" : "")
                      << (keep_cols ? ", keep cols" : "") << ", op " << int(op));
            auto x = random_floats(std::size_t(rows * cols), 60 + rows, 1.0f, 3.0f);
            for (auto& v : x) v *= sign;
            const int64_t n_out = (keep_rows ? rows : 1) * (keep_cols ? cols : 1);
            DeviceArray<float> dev_x(x), dev_y{std::size_t(n_out)};
            dev_y.poison();
            kn::cuda::reduce(dev_y.get(), dev_x.get(), rows, cols, keep_rows, keep_cols, op, 1.0f, 0.0f, 0);
            std::vector<float> y(static_cast<std::size_t>(n_out));
            kn::cpu::reduce(y.data(), x.data(), rows, cols, keep_rows, keep_cols, op, 1.0f, 0.0f);
            KN_CHECK_CLOSE(dev_y.download(), y, 0.0, 0.0);
          }
}

TEST_CASE("sum_i64 matches the CPU over rows, columns, both and neither", "[emu][tensor-ops]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, cols] : kReduceShapes)
      for (bool keep_rows : {false, true})
        for (bool keep_cols : {false, true}) {
          INFO(rows << "x" << cols << (keep_rows ? ", keep rows" : "") << (keep_cols ? ", keep cols" : "") << ", "
                    << sms << " SMs");
          const int64_t n_out = (keep_rows ? rows : 1) * (keep_cols ? cols : 1);
          auto x = random_ints(std::size_t(rows * cols), 70 + rows + cols, -1000, 1000);
          for (std::size_t i = 0; i < x.size(); i += 3) x[i] *= int64_t(1) << 33;  // past 32 bits
          DeviceArray<int64_t> dev_x(x), dev_y{std::size_t(n_out)};
          dev_y.poison();
          kn::cuda::sum_i64(dev_y.get(), dev_x.get(), rows, cols, keep_rows, keep_cols, 0);
          std::vector<int64_t> y(static_cast<std::size_t>(n_out));
          kn::cpu::sum_i64(y.data(), x.data(), rows, cols, keep_rows, keep_cols);
          CHECK(dev_y.download() == y);
        }
  }
}

// ---- index.cu ------------------------------------------------------------------------------

namespace {
struct IndexShape {
  int64_t outer, count, inner, size;
};
// Odd sizes; more indices than rows (so some repeat) and fewer; nothing to select;
// 2100 (outer, inner) pairs, so that on one SM index_add's threads loop.
const IndexShape kIndexShapes[] = {{1, 1, 1, 1},   {1, 37, 1, 5},   {37, 1, 1, 3},  {1, 1, 37, 2},
                                   {3, 5, 7, 4},   {17, 9, 33, 3},  {2, 40, 3, 50}, {1, 300, 10, 7},
                                   {1, 3, 2100, 4}, {3, 0, 4, 5},   {0, 4, 3, 5},   {3, 4, 0, 5}};
// Indices in [0, size), with repeats: the last is the first again when there are two.
std::vector<int64_t> make_index(const IndexShape& s, std::uint64_t seed) {
  auto index = random_ints(std::size_t(s.count), seed, 0, s.size - 1);
  if (index.size() >= 2) index.back() = index.front();
  return index;
}
}  // namespace

TEST_CASE("index_select matches the CPU for elements of 1, 4 and 8 bytes", "[emu][tensor-ops]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (const auto& s : kIndexShapes)
      for (int elem_bytes : {1, 4, 8}) {
        INFO("outer " << s.outer << ", count " << s.count << ", inner " << s.inner << ", size " << s.size << ", "
                      << elem_bytes << "-byte elements, " << sms << " SMs");
        const auto index = make_index(s, 80 + s.count);
        const auto x = random_bytes(std::size_t(s.outer * s.size * s.inner * elem_bytes), 81 + s.size);
        const std::size_t out_bytes = std::size_t(s.outer * s.count * s.inner * elem_bytes);
        DeviceArray<uint8_t> dev_x(x);
        DeviceArray<int64_t> dev_index(index);
        auto dev_out = poisoned_bytes(out_bytes);
        kn::cuda::index_select(dev_out.get(), dev_x.get(), dev_index.get(), s.outer, s.count, s.inner, s.size,
                               elem_bytes, 0);
        std::vector<uint8_t> out(out_bytes, kPoisonByte);
        kn::cpu::index_select(out.data(), x.data(), index.data(), s.outer, s.count, s.inner, s.size, elem_bytes);
        CHECK(dev_out.download() == out);
      }
  }
}

TEST_CASE("index_add matches the CPU bit for bit, repeated indices included, for beta 0, 1 and 0.5",
          "[emu][tensor-ops]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (const auto& s : kIndexShapes)
      for (float beta : kOpBetas) {
        INFO("outer " << s.outer << ", count " << s.count << ", inner " << s.inner << ", size " << s.size << ", beta "
                      << beta << ", " << sms << " SMs");
        const auto index = make_index(s, 90 + s.count);
        const auto dy = random_floats(std::size_t(s.outer * s.count * s.inner), 91 + s.size);
        auto dx = random_floats(std::size_t(s.outer * s.size * s.inner), 92 + s.inner);
        DeviceArray<float> dev_dy(dy), dev_dx(dx);
        DeviceArray<int64_t> dev_index(index);
        if (beta == 0.0f) dev_dx.poison();
        kn::cuda::index_add(dev_dx.get(), dev_dy.get(), dev_index.get(), s.outer, s.count, s.inner, s.size, beta, 0);
        kn::cpu::index_add(dx.data(), dy.data(), index.data(), s.outer, s.count, s.inner, s.size, beta);
        // Same additions in the same order as the CPU: the same bits.
        KN_CHECK_CLOSE(dev_dx.download(), dx, 0.0, 0.0);
      }
  }
}

TEST_CASE("transpose matches the CPU for elements of 1, 4 and 8 bytes", "[emu][tensor-ops]") {
  std::vector<OpShape> shapes(std::begin(kOpShapes), std::end(kOpShapes));
  shapes.push_back({65, 33});  // several tiles each way, both ragged
  shapes.push_back({300, 2});   // 10 rows of tiles: on one SM each block loops over several
  shapes.push_back({4, 0});
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (auto [rows, cols] : shapes)
      for (int elem_bytes : {1, 4, 8}) {
        INFO(rows << "x" << cols << ", " << elem_bytes << "-byte elements, " << sms << " SMs");
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
}

TEST_CASE("the tensor ops launch nothing on empty shapes", "[emu][tensor-ops]") {
  DeviceArray<float> none(0);
  DeviceArray<int64_t> no_index(0);
  kn_emu::reset();
  kn::cuda::unary(none.get(), none.get(), 0, kn::ops::Unary::Exp, 1.0f, 0);
  kn::cuda::unary_backward(none.get(), none.get(), none.get(), none.get(), 0, kn::ops::Unary::Exp, 1.0f, 0.0f, 0);
  kn::cuda::binary(none.get(), Operand<float>{}, Operand<float>{}, 0, 7, kn::ops::Binary::Add, 0);
  kn::cuda::binary(none.get(), Operand<float>{}, Operand<float>{}, 7, 0, kn::ops::Binary::Add, 0);
  kn::cuda::compare_f32(nullptr, Operand<float>{}, Operand<float>{}, 0, 3, kn::ops::Compare::Eq, 0);
  kn::cuda::compare_i64(nullptr, Operand<int64_t>{}, Operand<int64_t>{}, 3, 0, kn::ops::Compare::Eq, 0);
  for (auto from : kScalars)
    for (auto to : kScalars) kn::cuda::cast(none.get(), to, none.get(), from, 0, 0);
  kn::cuda::reduce(none.get(), none.get(), 0, 4, true, false, kn::ops::Reduce::Sum, 1.0f, 0.0f, 0);
  kn::cuda::reduce(none.get(), none.get(), 4, 0, false, true, kn::ops::Reduce::Sum, 1.0f, 0.0f, 0);
  kn::cuda::reduce(none.get(), none.get(), 0, 4, true, true, kn::ops::Reduce::Sum, 1.0f, 0.0f, 0);
  kn::cuda::sum_i64(no_index.get(), no_index.get(), 0, 4, true, false, 0);
  kn::cuda::index_select(none.get(), none.get(), no_index.get(), 0, 3, 3, 3, 4, 0);
  kn::cuda::index_add(none.get(), none.get(), no_index.get(), 3, 0, 3, 0, 0.0f, 0);
  kn::cuda::transpose(none.get(), none.get(), 0, 9, 8, 0);
  CHECK(kn_emu::counters().launches == 0);
}
