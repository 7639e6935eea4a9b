// The optimiser updates beyond plain SGD (kn::optim::SGD with momentum or weight decay,
// kn::optim::Adam, kn::optim::AdamW), each over a whole list of parameter tensors in one
// op: one kernel launch for every parameter of a model on CUDA (up to 48 or 64 tensors a
// launch; more take more), with no host synchronisation.
//
// Contract (both backends). Arrays of pointers, sizes and per-tensor scalars live on the
// host; on CUDA the tensors they point to live on the device. Every scalar is float, as
// PyTorch applies a Python number to a float32 tensor; the optimiser works them out in
// double on the host (kn::optim), as Python does. For each tensor i and element j, in
// PyTorch's order (torch.optim's documented single-tensor algorithms, foreach=False):
//
// sgd_momentum_step, hyper-parameters h:
//   d = g                                        (g = grads[i][j], p = params[i][j])
//   if h.weight_decay != 0: d = d + weight_decay * p          d_p.add(p, alpha=wd)
//   if h.momentum != 0:
//     fresh[i] ? buf = d                                      the first step clones d_p
//              : buf = buf * momentum + (1 - dampening) * d   buf.mul_(m).add_(d, alpha=1-damp)
//     d = h.nesterov ? d + momentum * buf : buf
//   p = p + (-lr) * d                                         p.add_(d, alpha=-lr)
//   bufs may be null when momentum == 0.
//
// adam_step, hyper-parameters h, per-tensor step_size[i] = lr / (1 - beta1^step) and
// bc2_sqrt[i] = sqrt(1 - beta2^step) (each parameter counts its own steps, as in PyTorch):
//   fresh[i] (the parameter's first step): m, v and vmax are taken as 0, not read, so
//   that the state needs no zeroing launch before the first step
//   if h.decay != 1: p = p * decay               AdamW: p.mul_(1 - lr * weight_decay)
//   if h.weight_decay != 0: g = g + weight_decay * p          Adam's L2 term, on the gradient
//   m = m * beta1 + one_minus_beta1 * g                       exp_avg.mul_(b1).add_(g, alpha=1-b1)
//   v = v * beta2 + one_minus_beta2 * g * g                   exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
//   if h.amsgrad: vmax = max(vmax, v), s = vmax, else s = v
//   p = p + (-step_size) * (m / (sqrt(s) / bc2_sqrt + eps))   param.addcdiv_(m, denom, value=-step_size)
//   max_exp_avg_sq may be null unless amsgrad.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::ops {

struct SgdHyper {
  float lr = 0.0f, momentum = 0.0f, dampening = 0.0f, weight_decay = 0.0f;
  float one_minus_dampening = 1.0f;  // (1 - dampening), worked out in double
  bool nesterov = false;
};

struct AdamHyper {
  float beta1 = 0.9f, beta2 = 0.999f, one_minus_beta1 = 0.1f, one_minus_beta2 = 0.001f, eps = 1e-8f;
  float weight_decay = 0.0f;  // Adam's L2 term (0 for AdamW)
  float decay = 1.0f;         // AdamW's decoupled factor 1 - lr * weight_decay (1 for Adam)
  bool amsgrad = false;
};

}  // namespace kn::ops

namespace kn::cpu {

// PyTorch's CPU kernels compute x.add_(y, alpha=a) as one fused multiply-add, fma(y, a, x)
// (Vectorized fmadd); addcmul_ as x + (value * t1) * t2 and addcdiv_ as
// x + (value * t1) / t2, unfused. The backends round each step that way too: fma where
// PyTorch fuses, separate roundings elsewhere (kernels/optim.cu writes the same with
// fmaf and __fmul_rn / __fadd_rn so that nvcc does not fuse on its own).
inline void sgd_momentum_step(float* const* params, const float* const* grads, float* const* bufs,
                              const uint8_t* fresh, const int64_t* sizes, int count, ops::SgdHyper h) {
  for (int i = 0; i < count; ++i) {
    float* p = params[i];
    const float* g = grads[i];
    float* buf = h.momentum != 0.0f ? bufs[i] : nullptr;
    for (int64_t j = 0; j < sizes[i]; ++j) {
      float d = g[j];
      if (h.weight_decay != 0.0f) d = std::fma(p[j], h.weight_decay, d);  // d_p.add(p, alpha=wd)
      if (buf) {
        const float scaled = buf[j] * h.momentum;  // buf.mul_(momentum)
        buf[j] = fresh[i] ? d : std::fma(d, h.one_minus_dampening, scaled);
        d = h.nesterov ? std::fma(buf[j], h.momentum, d) : buf[j];
      }
      p[j] = std::fma(d, -h.lr, p[j]);  // p.add_(d, alpha=-lr)
    }
  }
}

inline void adam_step(float* const* params, const float* const* grads, float* const* exp_avg, float* const* exp_avg_sq,
                      float* const* max_exp_avg_sq, const uint8_t* fresh, const float* step_size,
                      const float* bc2_sqrt, const int64_t* sizes, int count, ops::AdamHyper h) {
  for (int i = 0; i < count; ++i) {
    float* p = params[i];
    const float* g = grads[i];
    float* m = exp_avg[i];
    float* v = exp_avg_sq[i];
    float* vmax = h.amsgrad ? max_exp_avg_sq[i] : nullptr;
    const float bc2 = bc2_sqrt[i], minus_step = -step_size[i];
    const bool first = fresh[i] != 0;
    for (int64_t j = 0; j < sizes[i]; ++j) {
      float pj = p[j];
      if (h.decay != 1.0f) pj = pj * h.decay;                                   // AdamW: p.mul_(1 - lr * wd)
      const float gj = h.weight_decay != 0.0f ? std::fma(pj, h.weight_decay, g[j]) : g[j];
      const float m0 = first ? 0.0f : m[j], v0 = first ? 0.0f : v[j];
      m[j] = std::fma(gj, h.one_minus_beta1, m0 * h.beta1);                     // m.mul_(b1).add_(g, alpha=1-b1)
      v[j] = v0 * h.beta2 + (h.one_minus_beta2 * gj) * gj;                      // v.mul_(b2).addcmul_(g, g, 1-b2)
      float s = v[j];
      if (vmax) s = vmax[j] = std::max(first ? 0.0f : vmax[j], s);
      const float denom = std::sqrt(s) / bc2 + h.eps;
      p[j] = pj + (minus_step * m[j]) / denom;                                  // p.addcdiv_(m, denom, -step_size)
    }
  }
}

}  // namespace kn::cpu

namespace kn::cuda {
void sgd_momentum_step(float* const* params, const float* const* grads, float* const* bufs, const uint8_t* fresh,
                       const int64_t* sizes, int count, ops::SgdHyper h, int device);
void adam_step(float* const* params, const float* const* grads, float* const* exp_avg, float* const* exp_avg_sq,
               float* const* max_exp_avg_sq, const uint8_t* fresh, const float* step_size, const float* bc2_sqrt,
               const int64_t* sizes, int count, ops::AdamHyper h, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::sgd_momentum_step),
                                            decltype(&kn::cuda::sgd_momentum_step)>,
              "kn::cuda::sgd_momentum_step must take kn::cpu::sgd_momentum_step's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::adam_step), decltype(&kn::cuda::adam_step)>,
              "kn::cuda::adam_step must take kn::cpu::adam_step's parameters, then int device");

namespace kn::ops {

inline void sgd_momentum_step(Device d, float* const* params, const float* const* grads, float* const* bufs,
                              const uint8_t* fresh, const int64_t* sizes, int count, SgdHyper h) {
  trace::Op t(d, "sgd_momentum_step", count);
  if (d.is_cpu()) return cpu::sgd_momentum_step(params, grads, bufs, fresh, sizes, count, h);
  if constexpr (detail::kWithCuda) cuda::sgd_momentum_step(params, grads, bufs, fresh, sizes, count, h, d.index);
  else detail::no_cuda("sgd_momentum_step", d);
}

inline void adam_step(Device d, float* const* params, const float* const* grads, float* const* exp_avg,
                      float* const* exp_avg_sq, float* const* max_exp_avg_sq, const uint8_t* fresh,
                      const float* step_size, const float* bc2_sqrt, const int64_t* sizes, int count, AdamHyper h) {
  trace::Op t(d, "adam_step", count);
  if (d.is_cpu())
    return cpu::adam_step(params, grads, exp_avg, exp_avg_sq, max_exp_avg_sq, fresh, step_size, bc2_sqrt, sizes,
                          count, h);
  if constexpr (detail::kWithCuda)
    cuda::adam_step(params, grads, exp_avg, exp_avg_sq, max_exp_avg_sq, fresh, step_size, bc2_sqrt, sizes, count, h,
                    d.index);
  else detail::no_cuda("adam_step", d);
}

}  // namespace kn::ops
