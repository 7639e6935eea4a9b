// Making tensors as libtorch does: kn::tensor({...}) from values, kn::zeros, ones, full,
// empty, rand, randn, arange, randperm, zeros_like and ones_like, each taking
// kn::TensorOptions (a dtype, a device, or both: kn::zeros({2, 3}, kn::kInt64)).
//
// Random values come from the generator kn::manual_seed seeds (<kernelnet/random.hpp>),
// drawn on the host in order and copied to the device: the same seed gives the same
// values on every device. rand matches PyTorch's CPU generator; randn (Box-Muller) and
// randperm (Fisher-Yates) are kernelnet's own, reproducible but not PyTorch's streams.
#pragma once
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <numeric>
#include <type_traits>
#include <vector>

#include <kernelnet/math/pointwise.hpp>
#include <kernelnet/random.hpp>
#include <kernelnet/tensor.hpp>

namespace kn {

namespace detail {
// The dtype torch.tensor infers from C++ values: floating point gives float32, integers
// int64, bool bool.
template <typename T>
constexpr Dtype inferred_dtype() {
  return std::is_same_v<T, bool> ? Dtype::Bool : std::is_integral_v<T> ? Dtype::Int64 : Dtype::Float32;
}
template <typename T>
using stored_t = std::conditional_t<std::is_integral_v<T>, int64_t, float>;  // bools pass as int64, then cast

// Host values made into a tensor with the options (the dtype inferred from T unless they
// name one): cast, moved, requires_grad.
template <typename T, typename U>
Tensor finish(const std::vector<U>& values, const Shape& shape, const TensorOptions& o) {
  Tensor t = Tensor::from_vector(values, shape);
  t = t.to(o.has_dtype() ? o.dtype() : inferred_dtype<T>()).to(o.device());
  if (o.requires_grad()) t.requires_grad_();
  return t;
}
}  // namespace detail

// kn::tensor({1.f, 2.f}) is float32, kn::tensor({2, 0, 1}) int64, kn::tensor({true}) bool,
// and nested lists make 2-D tensors, unless the options name a dtype.
template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(std::initializer_list<T> values, const TensorOptions& o = {}) {
  std::vector<detail::stored_t<T>> v(values.begin(), values.end());
  return detail::finish<T>(v, Shape{int64_t(v.size())}, o);
}
template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows, const TensorOptions& o = {}) {
  std::vector<detail::stored_t<T>> v;
  const int64_t cols = rows.size() ? int64_t(rows.begin()->size()) : 0;
  int64_t r = 0;
  for (const auto& row : rows) {
    KN_CHECK(int64_t(row.size()) == cols, "kn::tensor: row ", r, " has ", row.size(), " values but row 0 has ", cols,
             "; every row needs the same length");
    v.insert(v.end(), row.begin(), row.end());
    ++r;
  }
  return detail::finish<T>(v, Shape{int64_t(rows.size()), cols}, o);
}
// A single number: a 0-dim tensor, as torch.tensor(3.).
inline Tensor scalar_tensor(float v, const TensorOptions& o = {}) {
  return detail::finish<float>(std::vector<float>{v}, Shape{}, o);
}

inline Tensor empty(const Shape& shape, const TensorOptions& o = {}) {
  check_device_usable(o.device());
  Tensor t = Tensor::empty(shape, o.dtype(), o.device());
  if (o.requires_grad()) t.requires_grad_();
  return t;
}
inline Tensor full(const Shape& shape, float value, const TensorOptions& o = {}) {
  Tensor t;
  if (o.dtype() == Dtype::Float32) t = Tensor::full(shape, value, o.device());
  else t = Tensor::full(shape, value).to(o.dtype()).to(o.device());
  if (o.requires_grad()) t.requires_grad_();
  return t;
}
inline Tensor zeros(const Shape& shape, const TensorOptions& o = {}) { return full(shape, 0.0f, o); }
inline Tensor ones(const Shape& shape, const TensorOptions& o = {}) { return full(shape, 1.0f, o); }
inline Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), TensorOptions(t.dtype()).device(t.device())); }
inline Tensor ones_like(const Tensor& t) { return ones(t.shape(), TensorOptions(t.dtype()).device(t.device())); }

// Uniform in [0, 1) (kn::rand(shape, from, to) in <kernelnet/random.hpp> takes bounds).
inline Tensor rand(const Shape& shape, const TensorOptions& o) {
  KN_CHECK(o.dtype() == Dtype::Float32, "rand: makes float32 tensors, not ", dtype_name(o.dtype()));
  Tensor t = rand(shape, 0.0, 1.0).to(o.device());
  if (o.requires_grad()) t.requires_grad_();
  return t;
}
// Standard normal values: Box-Muller on pairs of the generator's uniform floats.
inline Tensor randn(const Shape& shape, const TensorOptions& o = {}) {
  KN_CHECK(o.dtype() == Dtype::Float32, "randn: makes float32 tensors, not ", dtype_name(o.dtype()));
  std::vector<float> v(std::size_t(shape.numel()));
  for (std::size_t i = 0; i < v.size(); i += 2) {
    const float u1 = 1.0f - uniform_float(detail::generator(), 0.0f, 1.0f);  // in (0, 1]: log is finite
    const float u2 = uniform_float(detail::generator(), 0.0f, 1.0f);
    const float r = std::sqrt(-2.0f * std::log(u1)), theta = 6.2831853071795864f * u2;
    v[i] = r * std::cos(theta);
    if (i + 1 < v.size()) v[i + 1] = r * std::sin(theta);
  }
  return detail::finish<float>(v, shape, o);
}
// 0, 1, ..., end - 1 (int64, as torch.arange of integers); start, start + step, ... below end.
inline Tensor arange(int64_t start, int64_t end, int64_t step = 1, const TensorOptions& o = {}) {
  KN_CHECK(step != 0, "arange: step must be nonzero");
  std::vector<int64_t> v;
  for (int64_t x = start; step > 0 ? x < end : x > end; x += step) v.push_back(x);
  return detail::finish<int64_t>(v, Shape{int64_t(v.size())}, o);
}
inline Tensor arange(int64_t end, const TensorOptions& o = {}) { return arange(0, end, 1, o); }
// A random permutation of 0 .. n - 1 (int64), from the global generator or the one given.
inline Tensor randperm(int64_t n, std::mt19937& gen, const TensorOptions& o = {}) {
  KN_CHECK(n >= 0, "randperm: n must be >= 0, got ", n);
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), int64_t(0));
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[std::size_t(i)], v[std::size_t(gen() % uint32_t(i + 1))]);
  return detail::finish<int64_t>(v, Shape{n}, o);
}
inline Tensor randperm(int64_t n, const TensorOptions& o = {}) { return randperm(n, detail::generator(), o); }

}  // namespace kn
