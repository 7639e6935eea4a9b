// Mean squared error (kn::mse_loss): the mean loss and, in the same pass, its gradient
// with respect to the prediction; then the backward, which only scales that gradient by
// dloss (and negates it for the target).
//
// Contract (both backends): pred, target and dpred are n floats, any layout (the same
// for all three); loss is one float.
//   forward:  loss[0] = float(sum_i double(d_i * d_i) / n), d_i = pred[i] - target[i]
//             in float, each square rounded to float (as PyTorch squares in the input's
//             dtype) and the squares summed in double; n == 0 gives NaN (PyTorch's mean
//             of nothing). When dpred is not null, dpred[i] = norm * d_i with
//             norm = float(2.0 / n): PyTorch's mse_loss_backward computes
//             norm * (input - target) * grad_output, and the backward below multiplies
//             by grad_output, so the gradient is PyTorch's to the bit.
//   backward: dx = beta * dx + sign * (dpred[i] * dloss[0]), sign = +1 for the
//             prediction and -1 for the target (PyTorch's target gradient,
//             norm * (target - input) * grad_output, is exactly the negation). dloss
//             is read where it lives (on CUDA, on the device); beta == 0 never reads dx.
// The CUDA loss is summed in a fixed order that depends on n only, so it is the same on
// every GPU and every run; it may differ from the CPU's sum in the last bit of the
// double, which almost never reaches the float.
#pragma once
#include <cstdint>

#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void mse_forward(float* loss, float* dpred, const float* pred, const float* target, int64_t n) {
  const float norm = float(2.0 / double(n));
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float d = pred[i] - target[i];
    total += double(d * d);
    if (dpred) dpred[i] = norm * d;
  }
  loss[0] = float(total / double(n));
}

inline void mse_backward(float* dx, const float* dpred, const float* dloss, int64_t n, float sign, float beta) {
  const float g = dloss[0];
  for (int64_t i = 0; i < n; ++i) {
    const float v = sign * (dpred[i] * g);
    dx[i] = beta == 0.0f ? v : beta * dx[i] + v;
  }
}

}  // namespace kn::cpu

namespace kn::cuda {
void mse_forward(float* loss, float* dpred, const float* pred, const float* target, int64_t n, int device);
void mse_backward(float* dx, const float* dpred, const float* dloss, int64_t n, float sign, float beta, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::mse_forward), decltype(&kn::cuda::mse_forward)>,
              "kn::cuda::mse_forward must take kn::cpu::mse_forward's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::mse_backward), decltype(&kn::cuda::mse_backward)>,
              "kn::cuda::mse_backward must take kn::cpu::mse_backward's parameters, then int device");

namespace kn::ops {

inline void mse_forward(Device d, float* loss, float* dpred, const float* pred, const float* target, int64_t n) {
  trace::Op t(d, "mse_forward", n);
  if (d.is_cpu()) return cpu::mse_forward(loss, dpred, pred, target, n);
  if constexpr (detail::kWithCuda) cuda::mse_forward(loss, dpred, pred, target, n, d.index);
  else detail::no_cuda("mse_forward", d);
}

inline void mse_backward(Device d, float* dx, const float* dpred, const float* dloss, int64_t n, float sign,
                         float beta) {
  trace::Op t(d, "mse_backward", n);
  if (d.is_cpu()) return cpu::mse_backward(dx, dpred, dloss, n, sign, beta);
  if constexpr (detail::kWithCuda) cuda::mse_backward(dx, dpred, dloss, n, sign, beta, d.index);
  else detail::no_cuda("mse_backward", d);
}

}  // namespace kn::ops
