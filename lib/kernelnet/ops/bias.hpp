// Bias: y += b broadcast over rows (kn::Linear's bias), and its gradient, a sum over
// rows per column.
//
// Contract (both backends): y and dy are [rows, cols] row-major, b and db are [cols].
// bias_grad: db = beta * db + sum_r dy[r, :]; beta == 0 never reads db.
#pragma once
#include <algorithm>
#include <cstdint>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

// y[r,c] += b[c]
inline void bias_add(float* y, const float* b, int rows, int cols) {
  MatMap(y, rows, cols).rowwise() += ConstRowVecMap(b, cols);
}

// db[c] = beta * db[c] + sum_r dy[r,c]
inline void bias_grad(float* db, const float* dy, int rows, int cols, float beta) {
  // Row by row, so the inner loop runs along contiguous memory and vectorises.
  if (beta == 0.0f) std::fill(db, db + cols, 0.0f);
  else if (beta != 1.0f) VecMap(db, cols) *= beta;
  for (int r = 0; r < rows; ++r) {
    const float* row = dy + int64_t(r) * cols;
    for (int c = 0; c < cols; ++c) db[c] += row[c];
  }
}

}  // namespace kn::cpu

namespace kn::cuda {
void bias_add(float* y, const float* b, int rows, int cols, int device);
void bias_grad(float* db, const float* dy, int rows, int cols, float beta, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::bias_add), decltype(&kn::cuda::bias_add)>,
              "kn::cuda::bias_add must take kn::cpu::bias_add's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::bias_grad), decltype(&kn::cuda::bias_grad)>,
              "kn::cuda::bias_grad must take kn::cpu::bias_grad's parameters, then int device");

namespace kn::ops {

inline void bias_add(Device d, float* y, const float* b, int rows, int cols) {
  trace::Op t(d, "bias_add", rows, cols);
  if (d.is_cpu()) return cpu::bias_add(y, b, rows, cols);
  if constexpr (detail::kWithCuda) cuda::bias_add(y, b, rows, cols, d.index);
  else detail::no_cuda("bias_add", d);
}

inline void bias_grad(Device d, float* db, const float* dy, int rows, int cols, float beta) {
  trace::Op t(d, "bias_grad", rows, cols);
  if (d.is_cpu()) return cpu::bias_grad(db, dy, rows, cols, beta);
  if constexpr (detail::kWithCuda) cuda::bias_grad(db, dy, rows, cols, beta, d.index);
  else detail::no_cuda("bias_grad", d);
}

}  // namespace kn::ops
