// Plain SGD over a whole list of parameter tensors in one op (kn::optim::SGD::step).
//
// Contract (both backends): for every i < count, params[i][j] += -lr * grads[i][j] for
// j < sizes[i], rounded as PyTorch's p.add_(g, alpha=-lr). The three arrays live on the
// host; on CUDA the tensors they point to live on the device.
#pragma once
#include <cstdint>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void sgd_step(float* const* params, const float* const* grads, const int64_t* sizes, int count, float lr) {
  for (int i = 0; i < count; ++i) VecMap(params[i], sizes[i]) += (-lr) * ConstVecMap(grads[i], sizes[i]);
}

}  // namespace kn::cpu

namespace kn::cuda {
void sgd_step(float* const* params, const float* const* grads, const int64_t* sizes, int count, float lr,
              int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::sgd_step), decltype(&kn::cuda::sgd_step)>,
              "kn::cuda::sgd_step must take kn::cpu::sgd_step's parameters, then int device");

namespace kn::ops {

inline void sgd_step(Device d, float* const* params, const float* const* grads, const int64_t* sizes, int count,
                     float lr) {
  trace::Op t(d, "sgd_step", count);
  if (d.is_cpu()) return cpu::sgd_step(params, grads, sizes, count, lr);
  if constexpr (detail::kWithCuda) cuda::sgd_step(params, grads, sizes, count, lr, d.index);
  else detail::no_cuda("sgd_step", d);
}

}  // namespace kn::ops
