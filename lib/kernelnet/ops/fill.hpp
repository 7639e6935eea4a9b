// fill and accumulate: the two elementwise ops on one buffer. Tensor::full/zeros/ones
// fill; autograd accumulates a leaf's gradient.
//
// Contract (both backends): n elements, any layout. fill: x[i] = value. accumulate:
// y = beta * y + x; beta == 0 never reads y (y may hold garbage, even NaN).
// The CPU twins are plain loops (the compiler vectorises them), so that
// <kernelnet/tensor.hpp>, which needs fill, does not pull Eigen into every file.
#pragma once
#include <algorithm>
#include <cstdint>

#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void fill(float* x, float value, int64_t n) { std::fill(x, x + n, value); }

inline void accumulate(float* y, const float* x, int64_t n, float beta) {
  if (beta == 0.0f)
    std::copy(x, x + n, y);
  else
    for (int64_t i = 0; i < n; ++i) y[i] = beta * y[i] + x[i];
}

}  // namespace kn::cpu

namespace kn::cuda {
void fill(float* x, float value, int64_t n, int device);
void accumulate(float* y, const float* x, int64_t n, float beta, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::fill), decltype(&kn::cuda::fill)>,
              "kn::cuda::fill must take kn::cpu::fill's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::accumulate), decltype(&kn::cuda::accumulate)>,
              "kn::cuda::accumulate must take kn::cpu::accumulate's parameters, then int device");

namespace kn::ops {

inline void fill(Device d, float* x, float value, int64_t n) {
  trace::Op t(d, "fill", n);
  if (d.is_cpu()) return cpu::fill(x, value, n);
  if constexpr (detail::kWithCuda) cuda::fill(x, value, n, d.index);
  else detail::no_cuda("fill", d);
}

inline void accumulate(Device d, float* y, const float* x, int64_t n, float beta) {
  trace::Op t(d, "accumulate", n);
  if (d.is_cpu()) return cpu::accumulate(y, x, n, beta);
  if constexpr (detail::kWithCuda) cuda::accumulate(y, x, n, beta, d.index);
  else detail::no_cuda("accumulate", d);
}

}  // namespace kn::ops
