// Softmax cross-entropy (kn::cross_entropy): the mean loss over rows and, in the same
// pass, the gradient of that mean with respect to the logits; then the backward, which
// only scales that gradient by dloss.
//
// Contract (both backends): logits and dlogits are [rows, classes] row-major, labels
// [rows] (int64 class indices), loss one float.
//   forward:  loss[0] = mean_r(logsumexp(logits[r,:]) - logits[r, labels[r]]);
//             dlogits = (softmax(logits) - onehot(labels)) / rows. A label outside
//             [0, classes) makes the loss NaN. The row losses are summed in double, as
//             PyTorch does.
//   backward: dx = beta * dx + dloss[0] * dlogits, with dloss read where it lives (on
//             CUDA, on the device: the backward never waits for the host); beta == 0
//             never reads dx.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/cpu/scratch.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                               int classes) {
  // Three passes so that exp and log run over whole arrays, where Eigen vectorises
  // them, instead of one libm call per element.
  const int64_t n = int64_t(rows) * classes;
  float* row_max = detail::scratch(3 * std::size_t(rows), 0);
  float* row_sum = row_max + rows;
  float* row_lse = row_sum + rows;
  for (int r = 0; r < rows; ++r) {
    const float* x = logits + int64_t(r) * classes;
    float m = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < classes; ++c) m = std::max(m, x[c]);
    row_max[r] = m;
    for (int c = 0; c < classes; ++c) dlogits[int64_t(r) * classes + c] = x[c] - m;  // <= 0: exp cannot overflow
  }
  VecMap(dlogits, n).array() = ConstVecMap(dlogits, n).array().exp();
  for (int r = 0; r < rows; ++r) {
    const float* e = dlogits + int64_t(r) * classes;
    float sum = 0.0f;
    for (int c = 0; c < classes; ++c) sum += e[c];
    row_sum[r] = sum;
  }
  VecMap(row_lse, rows).array() = ConstVecMap(row_sum, rows).array().log();
  double total = 0.0;
  const float inv_rows = 1.0f / float(rows);
  for (int r = 0; r < rows; ++r) {
    const int64_t label = labels[r];
    if (label < 0 || label >= classes) {
      total = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const float* x = logits + int64_t(r) * classes;
    float* d = dlogits + int64_t(r) * classes;
    total += double(row_lse[r] + row_max[r] - x[label]);
    const float scale = inv_rows / row_sum[r];
    for (int c = 0; c < classes; ++c) d[c] *= scale;
    d[label] -= inv_rows;
  }
  loss[0] = float(total / rows);
}

inline void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n, float beta) {
  if (beta == 0.0f) VecMap(dx, n) = dloss[0] * ConstVecMap(dlogits, n);
  else VecMap(dx, n) = beta * VecMap(dx, n) + dloss[0] * ConstVecMap(dlogits, n);
}

}  // namespace kn::cpu

namespace kn::cuda {
void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                        int classes, int device);
void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n, float beta, int device);
}  // namespace kn::cuda
static_assert(
    kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::softmax_ce_forward), decltype(&kn::cuda::softmax_ce_forward)>,
    "kn::cuda::softmax_ce_forward must take kn::cpu::softmax_ce_forward's parameters, then int device");
static_assert(
    kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::softmax_ce_backward), decltype(&kn::cuda::softmax_ce_backward)>,
    "kn::cuda::softmax_ce_backward must take kn::cpu::softmax_ce_backward's parameters, then int device");

namespace kn::ops {

inline void softmax_ce_forward(Device d, float* loss, float* dlogits, const float* logits, const int64_t* labels,
                               int rows, int classes) {
  trace::Op t(d, "softmax_ce_forward", rows, classes);
  if (d.is_cpu()) return cpu::softmax_ce_forward(loss, dlogits, logits, labels, rows, classes);
  if constexpr (detail::kWithCuda) cuda::softmax_ce_forward(loss, dlogits, logits, labels, rows, classes, d.index);
  else detail::no_cuda("softmax_ce_forward", d);
}

inline void softmax_ce_backward(Device d, float* dx, const float* dlogits, const float* dloss, int64_t n,
                                float beta) {
  trace::Op t(d, "softmax_ce_backward", n);
  if (d.is_cpu()) return cpu::softmax_ce_backward(dx, dlogits, dloss, n, beta);
  if constexpr (detail::kWithCuda) cuda::softmax_ce_backward(dx, dlogits, dloss, n, beta, d.index);
  else detail::no_cuda("softmax_ce_backward", d);
}

}  // namespace kn::ops
