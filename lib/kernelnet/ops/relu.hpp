// ReLU: y = max(x, 0), and its gradient.
//
// Contract (both backends): n elements, any layout. relu_backward takes the forward's
// output y, not its input (y > 0 exactly where x > 0), so the input need not be kept:
// dx = beta * dx + (y > 0 ? dy : 0); beta == 0 never reads dx.
#pragma once
#include <cstdint>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

// y = max(x, 0)
inline void relu_forward(float* y, const float* x, int64_t n) { VecMap(y, n) = ConstVecMap(x, n).cwiseMax(0.0f); }

// dx = beta * dx + (y > 0 ? dy : 0)
inline void relu_backward(float* dx, const float* dy, const float* y, int64_t n, float beta) {
  auto masked = (ConstVecMap(y, n).array() > 0.0f).select(ConstVecMap(dy, n).array(), 0.0f);
  if (beta == 0.0f) VecMap(dx, n).array() = masked;
  else VecMap(dx, n).array() = beta * VecMap(dx, n).array() + masked;
}

}  // namespace kn::cpu

namespace kn::cuda {
void relu_forward(float* y, const float* x, int64_t n, int device);
void relu_backward(float* dx, const float* dy, const float* y, int64_t n, float beta, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::relu_forward), decltype(&kn::cuda::relu_forward)>,
              "kn::cuda::relu_forward must take kn::cpu::relu_forward's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::relu_backward), decltype(&kn::cuda::relu_backward)>,
              "kn::cuda::relu_backward must take kn::cpu::relu_backward's parameters, then int device");

namespace kn::ops {

inline void relu_forward(Device d, float* y, const float* x, int64_t n) {
  trace::Op t(d, "relu_forward", n);
  if (d.is_cpu()) return cpu::relu_forward(y, x, n);
  if constexpr (detail::kWithCuda) cuda::relu_forward(y, x, n, d.index);
  else detail::no_cuda("relu_forward", d);
}

inline void relu_backward(Device d, float* dx, const float* dy, const float* y, int64_t n, float beta) {
  trace::Op t(d, "relu_backward", n);
  if (d.is_cpu()) return cpu::relu_backward(dx, dy, y, n, beta);
  if constexpr (detail::kWithCuda) cuda::relu_backward(dx, dy, y, n, beta, d.index);
  else detail::no_cuda("relu_backward", d);
}

}  // namespace kn::ops
