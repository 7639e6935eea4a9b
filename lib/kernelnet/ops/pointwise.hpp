// The pointwise ops behind the tensor maths (<kernelnet/math/pointwise.hpp>): unary maths
// and its backward, broadcast binary arithmetic, broadcast comparisons, and dtype casts.
//
// Contract (both backends):
// - unary: y[i] = f(x[i]) for n elements (Pow raises to `p`; the other ops ignore it).
//   unary_backward: dx = beta * dx + dy * f'(x), from x and/or the output y (each op
//   reads the one it needs); beta == 0 never reads dx.
// - binary, compare: out is [rows, cols] row-major. An Operand is one side of the
//   broadcast: element (r, c) is p[r * row_stride + c * col_stride] (a stride 0 repeats a
//   row or a column), or `scalar` when p is null. out may be an operand's own buffer
//   when that operand is full-size (strides cols and 1): the in-place ops use that.
// - cast: y[i] = x[i] converted: float to int64 truncates toward zero, anything to bool
//   is x != 0, bool to a number is 0 or 1 (PyTorch's .to(dtype)).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <kernelnet/ops/backend.hpp>

namespace kn::ops {

enum class Unary : int { Neg, Exp, Log, Sqrt, Abs, Pow, Sigmoid, Tanh };
enum class Binary : int { Add, Sub, Mul, Div };
enum class Compare : int { Eq, Ne, Gt, Lt, Ge, Le };
enum class Scalar : int { Float32, Int64, Bool };

template <typename T>
struct Operand {
  const T* p = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 0;
  T scalar{};
};

}  // namespace kn::ops

namespace kn::cpu {
namespace detail {
inline float unary_value(ops::Unary op, float x, float p) {
  switch (op) {
    case ops::Unary::Neg: return -x;
    case ops::Unary::Exp: return std::exp(x);
    case ops::Unary::Log: return std::log(x);
    case ops::Unary::Sqrt: return std::sqrt(x);
    case ops::Unary::Abs: return std::fabs(x);
    case ops::Unary::Pow: return std::pow(x, p);
    case ops::Unary::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case ops::Unary::Tanh: return std::tanh(x);
  }
  return x;
}
// d f(x) / dx, from the input x and the output y = f(x).
inline float unary_derivative(ops::Unary op, float x, float y, float p) {
  switch (op) {
    case ops::Unary::Neg: return -1.0f;
    case ops::Unary::Exp: return y;
    case ops::Unary::Log: return 1.0f / x;
    case ops::Unary::Sqrt: return 0.5f / y;
    case ops::Unary::Abs: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;  // sign(x), 0 at 0 as PyTorch
    case ops::Unary::Pow: return p == 0.0f ? 0.0f : p * std::pow(x, p - 1.0f);
    case ops::Unary::Sigmoid: return y * (1.0f - y);
    case ops::Unary::Tanh: return 1.0f - y * y;
  }
  return 0.0f;
}
template <typename T>
inline T operand_at(const ops::Operand<T>& a, int64_t r, int64_t c) {
  return a.p ? a.p[r * a.row_stride + c * a.col_stride] : a.scalar;
}
template <typename T>
inline bool compare_value(ops::Compare op, T a, T b) {
  switch (op) {
    case ops::Compare::Eq: return a == b;
    case ops::Compare::Ne: return a != b;
    case ops::Compare::Gt: return a > b;
    case ops::Compare::Lt: return a < b;
    case ops::Compare::Ge: return a >= b;
    case ops::Compare::Le: return a <= b;
  }
  return false;
}
template <typename T>
inline void compare(bool* out, ops::Operand<T> a, ops::Operand<T> b, int64_t rows, int64_t cols, ops::Compare op) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = compare_value(op, operand_at(a, r, c), operand_at(b, r, c));
}
template <typename To, typename From>
inline void cast(To* y, const From* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::is_same_v<To, bool> ? To(x[i] != From(0)) : To(x[i]);
}
template <typename From>
inline void cast_from(void* y, ops::Scalar to, const From* x, int64_t n) {
  if (to == ops::Scalar::Float32) cast(static_cast<float*>(y), x, n);
  else if (to == ops::Scalar::Int64) cast(static_cast<int64_t*>(y), x, n);
  else cast(static_cast<bool*>(y), x, n);
}
}  // namespace detail

inline void unary(float* y, const float* x, int64_t n, ops::Unary op, float p) {
  for (int64_t i = 0; i < n; ++i) y[i] = detail::unary_value(op, x[i], p);
}

inline void unary_backward(float* dx, const float* dy, const float* x, const float* y, int64_t n, ops::Unary op,
                           float p, float beta) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = dy[i] * detail::unary_derivative(op, x ? x[i] : 0.0f, y ? y[i] : 0.0f, p);
    dx[i] = beta == 0.0f ? g : beta * dx[i] + g;
  }
}

inline void binary(float* out, ops::Operand<float> a, ops::Operand<float> b, int64_t rows, int64_t cols,
                   ops::Binary op) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float u = detail::operand_at(a, r, c), v = detail::operand_at(b, r, c);
      float& o = out[r * cols + c];
      switch (op) {
        case ops::Binary::Add: o = u + v; break;
        case ops::Binary::Sub: o = u - v; break;
        case ops::Binary::Mul: o = u * v; break;
        case ops::Binary::Div: o = u / v; break;
      }
    }
}

inline void compare_f32(bool* out, ops::Operand<float> a, ops::Operand<float> b, int64_t rows, int64_t cols,
                        ops::Compare op) {
  detail::compare(out, a, b, rows, cols, op);
}

inline void compare_i64(bool* out, ops::Operand<int64_t> a, ops::Operand<int64_t> b, int64_t rows, int64_t cols,
                        ops::Compare op) {
  detail::compare(out, a, b, rows, cols, op);
}

inline void cast(void* y, ops::Scalar to, const void* x, ops::Scalar from, int64_t n) {
  if (from == ops::Scalar::Float32) detail::cast_from(y, to, static_cast<const float*>(x), n);
  else if (from == ops::Scalar::Int64) detail::cast_from(y, to, static_cast<const int64_t*>(x), n);
  else detail::cast_from(y, to, static_cast<const bool*>(x), n);
}

}  // namespace kn::cpu

namespace kn::cuda {
void unary(float* y, const float* x, int64_t n, ops::Unary op, float p, int device);
void unary_backward(float* dx, const float* dy, const float* x, const float* y, int64_t n, ops::Unary op, float p,
                    float beta, int device);
void binary(float* out, ops::Operand<float> a, ops::Operand<float> b, int64_t rows, int64_t cols, ops::Binary op,
            int device);
void compare_f32(bool* out, ops::Operand<float> a, ops::Operand<float> b, int64_t rows, int64_t cols,
                 ops::Compare op, int device);
void compare_i64(bool* out, ops::Operand<int64_t> a, ops::Operand<int64_t> b, int64_t rows, int64_t cols,
                 ops::Compare op, int device);
void cast(void* y, ops::Scalar to, const void* x, ops::Scalar from, int64_t n, int device);
}  // namespace kn::cuda

#define KN_TWIN(op)                                                                                   \
  static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::op), decltype(&kn::cuda::op)>, \
                "kn::cuda::" #op " must take kn::cpu::" #op "'s parameters, then int device")
KN_TWIN(unary);
KN_TWIN(unary_backward);
KN_TWIN(binary);
KN_TWIN(compare_f32);
KN_TWIN(compare_i64);
KN_TWIN(cast);
#undef KN_TWIN

namespace kn::ops {

// The dispatch: kn::ops::<op>(device, the op's parameters).
#define KN_DISPATCH(op, sizes, ...)                               \
  trace::Op t(d, #op, sizes);                                     \
  if (d.is_cpu()) return cpu::op(__VA_ARGS__);                    \
  if constexpr (detail::kWithCuda) cuda::op(__VA_ARGS__, d.index); \
  else detail::no_cuda(#op, d)

inline void unary(Device d, float* y, const float* x, int64_t n, Unary op, float p) {
  KN_DISPATCH(unary, n, y, x, n, op, p);
}
inline void unary_backward(Device d, float* dx, const float* dy, const float* x, const float* y, int64_t n, Unary op,
                           float p, float beta) {
  KN_DISPATCH(unary_backward, n, dx, dy, x, y, n, op, p, beta);
}
inline void binary(Device d, float* out, Operand<float> a, Operand<float> b, int64_t rows, int64_t cols, Binary op) {
  KN_DISPATCH(binary, rows * cols, out, a, b, rows, cols, op);
}
inline void compare_f32(Device d, bool* out, Operand<float> a, Operand<float> b, int64_t rows, int64_t cols,
                        Compare op) {
  KN_DISPATCH(compare_f32, rows * cols, out, a, b, rows, cols, op);
}
inline void compare_i64(Device d, bool* out, Operand<int64_t> a, Operand<int64_t> b, int64_t rows, int64_t cols,
                        Compare op) {
  KN_DISPATCH(compare_i64, rows * cols, out, a, b, rows, cols, op);
}
inline void cast(Device d, void* y, Scalar to, const void* x, Scalar from, int64_t n) {
  KN_DISPATCH(cast, n, y, to, x, from, n);
}
#undef KN_DISPATCH

}  // namespace kn::ops
