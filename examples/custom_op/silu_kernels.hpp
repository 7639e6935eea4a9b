// SiLU's kernels, a CPU and a CUDA twin of each, as kernelnet's own ops have
// (lib/kernelnet/ops/<op>.hpp): the CUDA twin takes the same parameters, then the device.
//   y = x * sigmoid(x)
//   dx = beta * dx + dy * sigmoid(x) * (1 + x * (1 - sigmoid(x)))
// The CPU versions are here; the CUDA ones are in silu_kernels.cu, which CMake builds
// only when kernelnet has its CUDA backend and nvcc is found (SILU_WITH_CUDA=1).
#pragma once
#include <cmath>
#include <cstdint>

namespace silu {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

namespace cpu {
inline void forward(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoid(x[i]);
}
// beta == 0 does not read dx (it may be uninitialised), as kernelnet's backward ops.
inline void backward(float* dx, const float* dy, const float* x, int64_t n, float beta) {
  for (int64_t i = 0; i < n; ++i) {
    const float s = sigmoid(x[i]), g = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    dx[i] = beta == 0.0f ? g : beta * dx[i] + g;
  }
}
}  // namespace cpu

#if SILU_WITH_CUDA
namespace cuda {  // device pointers on `device`, queued on its stream; defined in silu_kernels.cu
void forward(float* y, const float* x, int64_t n, int device);
void backward(float* dx, const float* dy, const float* x, int64_t n, float beta, int device);
}  // namespace cuda
#endif

}  // namespace silu
