// The reductions behind sum, mean, max and min (<kernelnet/math/reduction.hpp>), and the
// sum-to-shape that carries a gradient back through a broadcast.
//
// Contract (both backends): x is [rows, cols] row-major. y keeps the rows when keep_rows
// and the columns when keep_cols: y is [rows, cols], [rows] (one value a row), [cols]
// (one value a column) or [] (everything). Each y value is alpha * (the sum, max or min
// of the x values it covers) + beta * y; beta == 0 never reads y. With both kept it is a
// scaled copy. A sum over nothing is 0; max and min need at least one element. Sums
// are taken in a fixed order, so both backends are deterministic run to run.
// sum_i64 is the integer sum (of int64 tensors, and of bool ones cast to int64).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include <kernelnet/ops/backend.hpp>

namespace kn::ops {
enum class Reduce : int { Sum, Max, Min };
}

namespace kn::cpu {
namespace detail {
template <typename T>
inline T combine(ops::Reduce op, T a, T b) {
  return op == ops::Reduce::Sum ? a + b : op == ops::Reduce::Max ? std::max(a, b) : std::min(a, b);
}
template <typename T>
inline void reduce(T* out, const T* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols, ops::Reduce op) {
  const int64_t out_cols = keep_cols ? cols : 1;
  const int64_t n = (keep_rows ? rows : 1) * out_cols;
  const bool first_is_init = op != ops::Reduce::Sum;
  std::vector<bool> seen(first_is_init ? std::size_t(n) : 0);
  std::fill(out, out + n, T(0));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t o = (keep_rows ? r : 0) * out_cols + (keep_cols ? c : 0);
      const T v = x[r * cols + c];
      if (first_is_init && !seen[o]) {
        out[o] = v;
        seen[o] = true;
      } else {
        out[o] = combine(op, out[o], v);
      }
    }
}
}  // namespace detail

inline void reduce(float* y, const float* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols,
                   ops::Reduce op, float alpha, float beta) {
  const int64_t n = (keep_rows ? rows : 1) * (keep_cols ? cols : 1);
  std::vector<float> acc(static_cast<std::size_t>(n));
  detail::reduce(acc.data(), x, rows, cols, keep_rows, keep_cols, op);
  for (int64_t i = 0; i < n; ++i) y[i] = beta == 0.0f ? alpha * acc[i] : alpha * acc[i] + beta * y[i];
}

inline void sum_i64(int64_t* y, const int64_t* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols) {
  detail::reduce(y, x, rows, cols, keep_rows, keep_cols, ops::Reduce::Sum);
}

}  // namespace kn::cpu

namespace kn::cuda {
void reduce(float* y, const float* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols, ops::Reduce op,
            float alpha, float beta, int device);
void sum_i64(int64_t* y, const int64_t* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::reduce), decltype(&kn::cuda::reduce)>,
              "kn::cuda::reduce must take kn::cpu::reduce's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::sum_i64), decltype(&kn::cuda::sum_i64)>,
              "kn::cuda::sum_i64 must take kn::cpu::sum_i64's parameters, then int device");

namespace kn::ops {

inline void reduce(Device d, float* y, const float* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols,
                   Reduce op, float alpha, float beta) {
  trace::Op t(d, "reduce", rows, cols);
  if (d.is_cpu()) return cpu::reduce(y, x, rows, cols, keep_rows, keep_cols, op, alpha, beta);
  if constexpr (detail::kWithCuda) cuda::reduce(y, x, rows, cols, keep_rows, keep_cols, op, alpha, beta, d.index);
  else detail::no_cuda("reduce", d);
}

inline void sum_i64(Device d, int64_t* y, const int64_t* x, int64_t rows, int64_t cols, bool keep_rows,
                    bool keep_cols) {
  trace::Op t(d, "sum_i64", rows, cols);
  if (d.is_cpu()) return cpu::sum_i64(y, x, rows, cols, keep_rows, keep_cols);
  if constexpr (detail::kWithCuda) cuda::sum_i64(y, x, rows, cols, keep_rows, keep_cols, d.index);
  else detail::no_cuda("sum_i64", d);
}

}  // namespace kn::ops
