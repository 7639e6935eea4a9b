// ReLU forward and backward: the contract is in <kernelnet/ops/relu.hpp>.
#include <kernelnet/ops/relu.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

__global__ void relu_forward_kernel(float* y, const float* x, int64_t n) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride())
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// The mask is taken from the output y (y > 0 exactly where x > 0), so the forward
// input need not be kept. beta == 0 does not read dx, which may be uninitialised.
__global__ void relu_backward_kernel(float* dx, const float* dy, const float* y, int64_t n,
                                     float beta) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const float g = y[i] > 0.0f ? dy[i] : 0.0f;
    dx[i] = beta == 0.0f ? g : beta * dx[i] + g;
  }
}

}  // namespace

void relu_forward(float* y, const float* x, int64_t n, int device) {
  KN_LAUNCH(relu_forward_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, y, x, n);
}

void relu_backward(float* dx, const float* dy, const float* y, int64_t n, float beta, int device) {
  KN_LAUNCH(relu_backward_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, dx, dy, y, n, beta);
}

}  // namespace kn::cuda
