// The pointwise ops behind the tensor maths: unary maths and its backward, broadcast
// binary arithmetic and comparisons, dtype casts. The contract is in
// <kernelnet/ops/pointwise.hpp>.
#include <cmath>
#include <type_traits>

#include <kernelnet/ops/pointwise.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

using ops::Operand;

// The same formulas as the CPU twin (kn::cpu::detail::unary_value and
// unary_derivative), with CUDA's single-precision maths.
__device__ __forceinline__ float unary_value(ops::Unary op, float x, float p) {
  switch (op) {
    case ops::Unary::Neg: return -x;
    case ops::Unary::Exp: return expf(x);
    case ops::Unary::Log: return logf(x);
    case ops::Unary::Sqrt: return sqrtf(x);
    case ops::Unary::Abs: return fabsf(x);
    case ops::Unary::Pow: return powf(x, p);
    case ops::Unary::Sigmoid: return 1.0f / (1.0f + expf(-x));
    case ops::Unary::Tanh: return tanhf(x);
  }
  return x;
}

__device__ __forceinline__ float unary_derivative(ops::Unary op, float x, float y, float p) {
  switch (op) {
    case ops::Unary::Neg: return -1.0f;
    case ops::Unary::Exp: return y;
    case ops::Unary::Log: return 1.0f / x;
    case ops::Unary::Sqrt: return 0.5f / y;
    case ops::Unary::Abs: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
    case ops::Unary::Pow: return p == 0.0f ? 0.0f : p * powf(x, p - 1.0f);
    case ops::Unary::Sigmoid: return y * (1.0f - y);
    case ops::Unary::Tanh: return 1.0f - y * y;
  }
  return 0.0f;
}

// Element (r, c) of a broadcast operand, or its scalar when it has no buffer.
template <typename T>
__device__ __forceinline__ T operand_at(const Operand<T>& a, int64_t r, int64_t c) {
  return a.p ? a.p[r * a.row_stride + c * a.col_stride] : a.scalar;
}

// One element per thread, grid-stride; the op is switched on inside the loop (it is
// the same for every thread, so no warp diverges).
__global__ void unary_kernel(float* y, const float* x, int64_t n, ops::Unary op, float p) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) y[i] = unary_value(op, x[i], p);
}

// One element per thread, grid-stride. x or y may be null when the op does not need
// it; beta == 0 does not read dx, which may be uninitialised.
__global__ void unary_backward_kernel(float* dx, const float* dy, const float* x, const float* y, int64_t n,
                                      ops::Unary op, float p, float beta) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const float g = dy[i] * unary_derivative(op, x ? x[i] : 0.0f, y ? y[i] : 0.0f, p);
    dx[i] = beta == 0.0f ? g : beta * dx[i] + g;
  }
}

// One output element per thread over the flattened [rows, cols] grid-stride; (r, c)
// from the flat index, then each operand by its strides. A thread reads its operands
// before it writes out[i], so out may be a full-size operand's own buffer.
__global__ void binary_kernel(float* out, Operand<float> a, Operand<float> b, int64_t rows, int64_t cols,
                              ops::Binary op) {
  const int64_t n = rows * cols;
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const int64_t r = i / cols, c = i - r * cols;
    const float u = operand_at(a, r, c), v = operand_at(b, r, c);
    float o = 0.0f;
    switch (op) {
      case ops::Binary::Add: o = u + v; break;
      case ops::Binary::Sub: o = u - v; break;
      case ops::Binary::Mul: o = u * v; break;
      case ops::Binary::Div: o = u / v; break;
    }
    out[i] = o;
  }
}

template <typename T>
__device__ __forceinline__ bool compare_value(ops::Compare op, T a, T b) {
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

// As binary_kernel, for float32 or int64 operands, writing one bool (a byte) each.
template <typename T>
__global__ void compare_kernel(bool* out, Operand<T> a, Operand<T> b, int64_t rows, int64_t cols, ops::Compare op) {
  const int64_t n = rows * cols;
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const int64_t r = i / cols, c = i - r * cols;
    out[i] = compare_value(op, operand_at(a, r, c), operand_at(b, r, c));
  }
}

// One element per thread, grid-stride; one instantiation per (to, from) pair. A C++
// conversion truncates float to int64 toward zero; to bool it is x != 0.
template <typename To, typename From>
__global__ void cast_kernel(To* y, const From* x, int64_t n) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    if constexpr (std::is_same_v<To, bool>) y[i] = x[i] != From(0);
    else y[i] = To(x[i]);
  }
}

template <typename From>
void cast_from(void* y, ops::Scalar to, const From* x, int64_t n, int device) {
  const dim3 grid = detail::grid_1d(n, device);
  switch (to) {
    case ops::Scalar::Float32:
      KN_LAUNCH((cast_kernel<float, From>), device, grid, detail::kThreads, 0, static_cast<float*>(y), x, n);
      return;
    case ops::Scalar::Int64:
      KN_LAUNCH((cast_kernel<int64_t, From>), device, grid, detail::kThreads, 0, static_cast<int64_t*>(y), x, n);
      return;
    case ops::Scalar::Bool:
      KN_LAUNCH((cast_kernel<bool, From>), device, grid, detail::kThreads, 0, static_cast<bool*>(y), x, n);
      return;
  }
  throw Error(str("kn::cuda::cast: unknown destination dtype ", int(to)));
}

}  // namespace

void unary(float* y, const float* x, int64_t n, ops::Unary op, float p, int device) {
  KN_LAUNCH(unary_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, y, x, n, op, p);
}

void unary_backward(float* dx, const float* dy, const float* x, const float* y, int64_t n, ops::Unary op, float p,
                    float beta, int device) {
  KN_LAUNCH(unary_backward_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, dx, dy, x, y, n, op, p,
            beta);
}

void binary(float* out, Operand<float> a, Operand<float> b, int64_t rows, int64_t cols, ops::Binary op,
            int device) {
  if (rows <= 0 || cols <= 0) return;
  KN_LAUNCH(binary_kernel, device, detail::grid_1d(rows * cols, device), detail::kThreads, 0, out, a, b, rows, cols,
            op);
}

void compare_f32(bool* out, Operand<float> a, Operand<float> b, int64_t rows, int64_t cols, ops::Compare op,
                 int device) {
  if (rows <= 0 || cols <= 0) return;
  KN_LAUNCH((compare_kernel<float>), device, detail::grid_1d(rows * cols, device), detail::kThreads, 0, out, a, b,
            rows, cols, op);
}

void compare_i64(bool* out, Operand<int64_t> a, Operand<int64_t> b, int64_t rows, int64_t cols, ops::Compare op,
                 int device) {
  if (rows <= 0 || cols <= 0) return;
  KN_LAUNCH((compare_kernel<int64_t>), device, detail::grid_1d(rows * cols, device), detail::kThreads, 0, out, a, b,
            rows, cols, op);
}

void cast(void* y, ops::Scalar to, const void* x, ops::Scalar from, int64_t n, int device) {
  switch (from) {
    case ops::Scalar::Float32: return cast_from(y, to, static_cast<const float*>(x), n, device);
    case ops::Scalar::Int64: return cast_from(y, to, static_cast<const int64_t*>(x), n, device);
    case ops::Scalar::Bool: return cast_from(y, to, static_cast<const bool*>(x), n, device);
  }
  throw Error(str("kn::cuda::cast: unknown source dtype ", int(from)));
}

}  // namespace kn::cuda
