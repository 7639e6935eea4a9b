// SGD with momentum or weight decay, and Adam/AdamW, each over every parameter tensor of
// a model in one launch (up to the batch sizes below; more tensors take more launches):
// the contract, and the CPU mirror, are in <kernelnet/ops/optim.hpp>.
#include <kernelnet/ops/optim.hpp>

#include "multi_tensor.cuh"

namespace kn::cuda {
namespace {

// 64 tensors of 3 pointers, a size and a flag: 2.5 KB of the 4 KB of kernel parameters.
constexpr int kSgdTensors = 64;
struct SgdMomentumBatch {
  float* params[kSgdTensors];
  const float* grads[kSgdTensors];
  float* bufs[kSgdTensors];
  int64_t sizes[kSgdTensors];
  uint8_t fresh[kSgdTensors];
  detail::BlockMap<kSgdTensors> map;
};

__global__ void sgd_momentum_kernel(const __grid_constant__ SgdMomentumBatch batch, ops::SgdHyper h) {
  const int t = batch.map.tensor_of(int(blockIdx.x));
  float* __restrict__ p = batch.params[t];
  const float* __restrict__ g = batch.grads[t];
  float* __restrict__ buf = h.momentum != 0.0f ? batch.bufs[t] : nullptr;
  const bool fresh = batch.fresh[t] != 0;
  const int64_t n = batch.sizes[t], stride = batch.map.stride(t);
  // Rounded as the CPU twin (and PyTorch's CPU kernels): fmaf where they fuse, explicit
  // roundings elsewhere, so that nvcc's own contraction does not change the result.
  for (int64_t j = batch.map.start(t); j < n; j += stride) {
    const float pj = p[j];
    float d = g[j];
    if (h.weight_decay != 0.0f) d = fmaf(pj, h.weight_decay, d);
    if (buf) {
      const float b = fresh ? d : fmaf(d, h.one_minus_dampening, __fmul_rn(buf[j], h.momentum));
      buf[j] = b;
      d = h.nesterov ? fmaf(b, h.momentum, d) : b;
    }
    p[j] = fmaf(d, -h.lr, pj);
  }
}

// 48 tensors of 5 pointers, a size, two floats and a flag: 2.9 KB.
constexpr int kAdamTensors = 48;
struct AdamBatch {
  float* params[kAdamTensors];
  const float* grads[kAdamTensors];
  float* exp_avg[kAdamTensors];
  float* exp_avg_sq[kAdamTensors];
  float* max_exp_avg_sq[kAdamTensors];
  int64_t sizes[kAdamTensors];
  float step_size[kAdamTensors];
  float bc2_sqrt[kAdamTensors];
  uint8_t fresh[kAdamTensors];
  detail::BlockMap<kAdamTensors> map;
};

__global__ void adam_kernel(const __grid_constant__ AdamBatch batch, ops::AdamHyper h) {
  const int t = batch.map.tensor_of(int(blockIdx.x));
  float* __restrict__ p = batch.params[t];
  const float* __restrict__ g = batch.grads[t];
  float* __restrict__ m = batch.exp_avg[t];
  float* __restrict__ v = batch.exp_avg_sq[t];
  float* __restrict__ vmax = batch.max_exp_avg_sq[t];
  const float minus_step = -batch.step_size[t], bc2 = batch.bc2_sqrt[t];
  const bool first = batch.fresh[t] != 0;  // the moments start at 0 and are not read
  const int64_t n = batch.sizes[t], stride = batch.map.stride(t);
  for (int64_t j = batch.map.start(t); j < n; j += stride) {
    float pj = p[j];
    if (h.decay != 1.0f) pj = __fmul_rn(pj, h.decay);
    const float gj = h.weight_decay != 0.0f ? fmaf(pj, h.weight_decay, g[j]) : g[j];
    const float mj = fmaf(gj, h.one_minus_beta1, __fmul_rn(first ? 0.0f : m[j], h.beta1));
    const float vj = __fadd_rn(__fmul_rn(first ? 0.0f : v[j], h.beta2), __fmul_rn(__fmul_rn(h.one_minus_beta2, gj), gj));
    m[j] = mj;
    v[j] = vj;
    float s = vj;
    if (h.amsgrad) {
      s = fmaxf(first ? 0.0f : vmax[j], vj);
      vmax[j] = s;
    }
    const float denom = __fadd_rn(__fdiv_rn(sqrtf(s), bc2), h.eps);
    p[j] = __fadd_rn(pj, __fdiv_rn(__fmul_rn(minus_step, mj), denom));
  }
}

}  // namespace

void sgd_momentum_step(float* const* params, const float* const* grads, float* const* bufs, const uint8_t* fresh,
                       const int64_t* sizes, int count, ops::SgdHyper h, int device) {
  SgdMomentumBatch batch{};
  detail::in_batches(
      batch, sizes, count, detail::resident_blocks(device, detail::kThreads),
      [&](int t, int i) {
        batch.params[t] = params[i];
        batch.grads[t] = grads[i];
        batch.bufs[t] = h.momentum != 0.0f ? bufs[i] : nullptr;
        batch.fresh[t] = fresh[i];
        batch.sizes[t] = sizes[i];
      },
      [&](const SgdMomentumBatch& b) {
        KN_LAUNCH(sgd_momentum_kernel, device, dim3(b.map.blocks()), detail::kThreads, 0, b, h);
      });
}

void adam_step(float* const* params, const float* const* grads, float* const* exp_avg, float* const* exp_avg_sq,
               float* const* max_exp_avg_sq, const uint8_t* fresh, const float* step_size, const float* bc2_sqrt,
               const int64_t* sizes, int count, ops::AdamHyper h, int device) {
  AdamBatch batch{};
  detail::in_batches(
      batch, sizes, count, detail::resident_blocks(device, detail::kThreads),
      [&](int t, int i) {
        batch.params[t] = params[i];
        batch.grads[t] = grads[i];
        batch.exp_avg[t] = exp_avg[i];
        batch.exp_avg_sq[t] = exp_avg_sq[i];
        batch.max_exp_avg_sq[t] = h.amsgrad ? max_exp_avg_sq[i] : nullptr;
        batch.step_size[t] = step_size[i];
        batch.bc2_sqrt[t] = bc2_sqrt[i];
        batch.fresh[t] = fresh[i];
        batch.sizes[t] = sizes[i];
      },
      [&](const AdamBatch& b) { KN_LAUNCH(adam_kernel, device, dim3(b.map.blocks()), detail::kThreads, 0, b, h); });
}

}  // namespace kn::cuda
