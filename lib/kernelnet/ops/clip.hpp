// Gradient clipping by the total 2-norm (kn::nn::utils::clip_grad_norm_), over a whole
// list of gradient tensors: two launches on CUDA (the norm, then the scaling), with no
// host synchronisation.
//
// Contract (both backends): total = the 2-norm of every gradient element together;
// coef = max_norm / (total + 1e-6), clamped to at most 1 (float, as PyTorch computes it
// on float32 tensors); every gradient is multiplied by coef, even when it is 1 (as
// PyTorch does); total_norm[0] = total, written where it lives (on CUDA a device float:
// reading it is the caller's choice, and the only thing that waits). The pointer and
// size arrays live on the host.
//   CPU: each tensor's norm with its squares summed in double, then the norm of those
//   norms, as torch.norm(torch.stack([g.norm() for g in grads])).
//   CUDA: each block sums the squares of its share of one tensor (a fixed tree, so the
//   result is the same on every run); the scaling kernel's blocks each add those partial
//   sums in the same fixed order. Deterministic; its rounding differs from the CPU's.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void clip_grad_norm(float* const* grads, const int64_t* sizes, int count, float max_norm, float* total_norm) {
  double sum_of_norms_sq = 0.0;
  for (int i = 0; i < count; ++i) {
    const auto g = ConstVecMap(grads[i], sizes[i]).cast<double>();
    const float norm = float(std::sqrt(g.squaredNorm()));
    sum_of_norms_sq += double(norm) * double(norm);
  }
  const float total = float(std::sqrt(sum_of_norms_sq));
  const float coef = std::min(max_norm / (total + 1e-6f), 1.0f);
  for (int i = 0; i < count; ++i) VecMap(grads[i], sizes[i]) *= coef;
  *total_norm = total;
}

}  // namespace kn::cpu

namespace kn::cuda {
void clip_grad_norm(float* const* grads, const int64_t* sizes, int count, float max_norm, float* total_norm,
                    int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::clip_grad_norm), decltype(&kn::cuda::clip_grad_norm)>,
              "kn::cuda::clip_grad_norm must take kn::cpu::clip_grad_norm's parameters, then int device");

namespace kn::ops {

inline void clip_grad_norm(Device d, float* const* grads, const int64_t* sizes, int count, float max_norm,
                           float* total_norm) {
  trace::Op t(d, "clip_grad_norm", count);
  if (d.is_cpu()) return cpu::clip_grad_norm(grads, sizes, count, max_norm, total_norm);
  if constexpr (detail::kWithCuda) cuda::clip_grad_norm(grads, sizes, count, max_norm, total_norm, d.index);
  else detail::no_cuda("clip_grad_norm", d);
}

}  // namespace kn::ops
