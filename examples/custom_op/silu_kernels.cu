// SiLU's CUDA kernels and their launchers. kn::cuda::launch_user_kernel runs each launch
// on kernelnet's stream (so it is ordered with kernelnet's own work), checks it, counts
// it in kn::stats() and shows it in the trace, like the library's kernels.
#include <cuda_runtime.h>

#include <kernelnet/cuda/runtime.hpp>

#include "silu_kernels.hpp"

namespace silu::cuda {
namespace {

constexpr int kThreads = 256;

__device__ float sigmoid_d(float x) { return 1.0f / (1.0f + __expf(-x)); }

// Grid-stride loops: any n, with a grid capped at a few thousand blocks.
__global__ void silu_forward_kernel(float* y, const float* x, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] * sigmoid_d(x[i]);
}

__global__ void silu_backward_kernel(float* dx, const float* dy, const float* x, int64_t n, float beta) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float s = sigmoid_d(x[i]), g = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    dx[i] = beta == 0.0f ? g : beta * dx[i] + g;
  }
}

unsigned blocks_for(int64_t n) {
  const int64_t needed = (n + kThreads - 1) / kThreads;
  return unsigned(needed < 4096 ? needed : 4096);
}

}  // namespace

void forward(float* y, const float* x, int64_t n, int device) {
  if (n <= 0) return;
  const unsigned blocks = blocks_for(n);
  kn::cuda::launch_user_kernel("silu_forward_kernel", {blocks}, {kThreads}, [&](void* stream) {
    silu_forward_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(y, x, n);
  }, device);
}

void backward(float* dx, const float* dy, const float* x, int64_t n, float beta, int device) {
  if (n <= 0) return;
  const unsigned blocks = blocks_for(n);
  kn::cuda::launch_user_kernel("silu_backward_kernel", {blocks}, {kThreads}, [&](void* stream) {
    silu_backward_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(dx, dy, x, n, beta);
  }, device);
}

}  // namespace silu::cuda
