// fill and accumulate, the two elementwise ops on one buffer: the contract is in
// <kernelnet/ops/fill.hpp>.
#include <kernelnet/ops/fill.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

__global__ void fill_kernel(float* x, float value, int64_t n) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) x[i] = value;
}

// beta == 0 must not read y: y may hold garbage (even NaN) that 0 * y would keep.
__global__ void accumulate_kernel(float* y, const float* x, int64_t n, float beta) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride())
    y[i] = beta == 0.0f ? x[i] : beta * y[i] + x[i];
}

}  // namespace

void fill(float* x, float value, int64_t n, int device) {
  KN_LAUNCH(fill_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, x, value, n);
}

void accumulate(float* y, const float* x, int64_t n, float beta, int device) {
  KN_LAUNCH(accumulate_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, y, x, n, beta);
}

}  // namespace kn::cuda
