// Dropout forward and backward: the contract, and the mask rule both backends share, are
// in <kernelnet/ops/dropout.hpp>. The mask is recomputed from (seed, offset), never stored.
#include <kernelnet/ops/dropout.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

// Each thread takes groups of four elements (grid-stride over the groups): one Philox
// call gives the four words, with the same arithmetic as the CPU twin, so the two agree
// bit for bit.
__global__ void dropout_forward_kernel(float* y, const float* x, int64_t n, uint32_t threshold, float scale,
                                       uint64_t seed, uint64_t offset) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = detail::grid_start(); g < groups; g += detail::grid_stride()) {
    const PhiloxCounter r = philox_group(seed, offset, uint64_t(g));
    for (int j = 0; j < 4 && g * 4 + j < n; ++j) {
      const int64_t i = g * 4 + j;
      y[i] = x[i] * ops::detail::dropout_mask(philox_word(r, j), threshold) * scale;
    }
  }
}

// beta == 0 does not read dx, which may be uninitialised.
__global__ void dropout_backward_kernel(float* dx, const float* dy, int64_t n, uint32_t threshold, float scale,
                                        uint64_t seed, uint64_t offset, float beta) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = detail::grid_start(); g < groups; g += detail::grid_stride()) {
    const PhiloxCounter r = philox_group(seed, offset, uint64_t(g));
    for (int j = 0; j < 4 && g * 4 + j < n; ++j) {
      const int64_t i = g * 4 + j;
      const float v = dy[i] * ops::detail::dropout_mask(philox_word(r, j), threshold) * scale;
      dx[i] = beta == 0.0f ? v : beta * dx[i] + v;
    }
  }
}

}  // namespace

void dropout_forward(float* y, const float* x, int64_t n, double p, uint64_t seed, uint64_t offset, int device) {
  KN_LAUNCH(dropout_forward_kernel, device, detail::grid_1d((n + 3) / 4, device), detail::kThreads, 0, y, x, n,
            ops::detail::dropout_threshold(p), ops::detail::dropout_scale(p), seed, offset);
}

void dropout_backward(float* dx, const float* dy, int64_t n, double p, uint64_t seed, uint64_t offset, float beta,
                      int device) {
  KN_LAUNCH(dropout_backward_kernel, device, detail::grid_1d((n + 3) / 4, device), detail::kThreads, 0, dx, dy, n,
            ops::detail::dropout_threshold(p), ops::detail::dropout_scale(p), seed, offset, beta);
}

}  // namespace kn::cuda
