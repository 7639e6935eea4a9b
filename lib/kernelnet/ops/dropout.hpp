// Dropout (kn::dropout): zeroes each element with probability p and scales the others
// by 1 / (1 - p); the backward applies the same mask and scale to the gradient. The mask
// is never stored: both directions recompute it from (seed, offset), so a CPU and a CUDA
// run with the same pair drop the same elements, bit for bit.
//
// Contract (both backends): n elements, any layout, 0 <= p <= 1.
//   mask:     element i is kept iff u_i >= p, where u_i = (w_i >> 8) * 2^-24 is a float
//             in [0, 1) made from w_i = philox_element(seed, offset, i), the 32-bit word
//             of <kernelnet/philox.hpp>; so it is kept with probability 1 - p, to within
//             2^-24. In integers: (w_i >> 8) >= ceil(p * 2^24) (dropout_threshold).
//   scale:    float(1.0 / (1.0 - p)) computed in double, and 0 when p == 1 (PyTorch's
//             native_dropout: no division by zero).
//   forward:  y[i] = (x[i] * m_i) * scale, m_i = 1.0f if kept, else 0.0f: PyTorch's
//             input.mul(mask).mul_(scale). A kept element is x[i] * scale; a dropped one
//             is 0 (-0 for a negative x, NaN for an infinite or NaN x, as in PyTorch).
//   backward: dx = beta * dx + (dy[i] * m_i) * scale (native_dropout_backward's
//             grad * mask * scale); beta == 0 never reads dx.
// p == 0 keeps every element (threshold 0) and scales by 1, p == 1 drops every one.
#pragma once
#include <cstdint>

#include <kernelnet/ops/backend.hpp>
#include <kernelnet/philox.hpp>

namespace kn::ops::detail {

// ceil(p * 2^24): element i is kept iff (w_i >> 8) >= this. Exact: p * 2^24 is exact in
// double, so this is u_i >= p without rounding, and both backends compare integers.
constexpr uint32_t dropout_threshold(double p) {
  const double t = p * 16777216.0;  // p in [0, 1]: t in [0, 2^24]
  const uint32_t floor_t = uint32_t(t);
  return floor_t + (double(floor_t) < t ? 1u : 0u);
}
constexpr float dropout_scale(double p) { return p >= 1.0 ? 0.0f : float(1.0 / (1.0 - p)); }
// m_i for a word: 1 kept, 0 dropped.
constexpr float dropout_mask(uint32_t word, uint32_t threshold) { return (word >> 8) >= threshold ? 1.0f : 0.0f; }

}  // namespace kn::ops::detail

namespace kn::cpu {

// dx = beta * dx + (dy * m) * scale, four elements per Philox call.
inline void dropout_backward(float* dx, const float* dy, int64_t n, double p, uint64_t seed, uint64_t offset,
                             float beta) {
  const uint32_t threshold = ops::detail::dropout_threshold(p);
  const float scale = ops::detail::dropout_scale(p);
  for (int64_t g = 0; g * 4 < n; ++g) {
    const PhiloxCounter r = philox_group(seed, offset, uint64_t(g));
    for (int j = 0; j < 4 && g * 4 + j < n; ++j) {
      const int64_t i = g * 4 + j;
      const float v = dy[i] * ops::detail::dropout_mask(philox_word(r, j), threshold) * scale;
      dx[i] = beta == 0.0f ? v : beta * dx[i] + v;
    }
  }
}

// y = (x * m) * scale: the backward's arithmetic with beta 0 (which never reads y).
inline void dropout_forward(float* y, const float* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  dropout_backward(y, x, n, p, seed, offset, 0.0f);
}

}  // namespace kn::cpu

namespace kn::cuda {
void dropout_forward(float* y, const float* x, int64_t n, double p, uint64_t seed, uint64_t offset, int device);
void dropout_backward(float* dx, const float* dy, int64_t n, double p, uint64_t seed, uint64_t offset, float beta,
                      int device);
}  // namespace kn::cuda
static_assert(
    kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::dropout_forward), decltype(&kn::cuda::dropout_forward)>,
    "kn::cuda::dropout_forward must take kn::cpu::dropout_forward's parameters, then int device");
static_assert(
    kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::dropout_backward), decltype(&kn::cuda::dropout_backward)>,
    "kn::cuda::dropout_backward must take kn::cpu::dropout_backward's parameters, then int device");

namespace kn::ops {

inline void dropout_forward(Device d, float* y, const float* x, int64_t n, double p, uint64_t seed,
                            uint64_t offset) {
  trace::Op t(d, "dropout_forward", n);
  if (d.is_cpu()) return cpu::dropout_forward(y, x, n, p, seed, offset);
  if constexpr (detail::kWithCuda) cuda::dropout_forward(y, x, n, p, seed, offset, d.index);
  else detail::no_cuda("dropout_forward", d);
}

inline void dropout_backward(Device d, float* dx, const float* dy, int64_t n, double p, uint64_t seed,
                             uint64_t offset, float beta) {
  trace::Op t(d, "dropout_backward", n);
  if (d.is_cpu()) return cpu::dropout_backward(dx, dy, n, p, seed, offset, beta);
  if constexpr (detail::kWithCuda) cuda::dropout_backward(dx, dy, n, p, seed, offset, beta, d.index);
  else detail::no_cuda("dropout_backward", d);
}

}  // namespace kn::ops
