// Plain SGD over every parameter tensor of a model, in as few launches as possible: the
// contract is in <kernelnet/ops/sgd.hpp>.
#include <kernelnet/ops/sgd.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

// Up to kMaxTensors tensors travel by value in the kernel's parameters (1.8 KB of the
// 4 KB every GPU accepts), so one launch updates a whole MLP and no pointer table has
// to be copied to the device first. Tensor t owns blocks [first_block[t],
// first_block[t+1]) of the grid, in proportion to its size: no block is idle, however
// different the sizes.
constexpr int kMaxTensors = 64;
struct SgdBatch {
  float* params[kMaxTensors];
  const float* grads[kMaxTensors];
  int64_t sizes[kMaxTensors];
  int first_block[kMaxTensors + 1];
  int count;
};

// __grid_constant__ lets threads index the batch's arrays in place, in the parameter
// space, instead of each copying the whole struct to local memory.
__global__ void sgd_step_kernel(const __grid_constant__ SgdBatch batch, float lr) {
  int t = 0;
  while (int(blockIdx.x) >= batch.first_block[t + 1]) ++t;
  float* p = batch.params[t];
  const float* g = batch.grads[t];
  const int64_t n = batch.sizes[t];
  const int64_t stride = int64_t(batch.first_block[t + 1] - batch.first_block[t]) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x - batch.first_block[t]) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    p[i] += -lr * g[i];  // PyTorch: p.add_(g, alpha=-lr)
}

}  // namespace

void sgd_step(float* const* params, const float* const* grads, const int64_t* sizes, int count, float lr,
              int device) {
  // A tensor gets one block per kThreads elements, up to what the device holds at
  // once; bigger tensors loop (grid-stride) inside their blocks.
  const int64_t cap = detail::resident_blocks(device, detail::kThreads);
  SgdBatch batch{};
  auto flush = [&] {
    if (batch.count == 0) return;
    KN_LAUNCH(sgd_step_kernel, device, dim3(batch.first_block[batch.count]), detail::kThreads, 0, batch, lr);
    batch.count = 0;
  };
  for (int i = 0; i < count; ++i) {
    if (sizes[i] <= 0) continue;
    const int64_t needed = (sizes[i] + detail::kThreads - 1) / detail::kThreads;
    const int t = batch.count++;
    batch.params[t] = params[i];
    batch.grads[t] = grads[i];
    batch.sizes[t] = sizes[i];
    batch.first_block[t + 1] = batch.first_block[t] + int(needed < cap ? needed : cap);
    if (batch.count == kMaxTensors) flush();
  }
  flush();
}

}  // namespace kn::cuda
