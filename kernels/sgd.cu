// Plain SGD over every parameter tensor of a model, in as few launches as possible: the
// contract is in <kernelnet/ops/sgd.hpp>.
#include <kernelnet/ops/sgd.hpp>

#include "multi_tensor.cuh"

namespace kn::cuda {
namespace {

// Up to kMaxTensors tensors a launch (1.8 KB of the 4 KB of parameters every GPU
// accepts): one launch updates a whole MLP (multi_tensor.cuh).
constexpr int kMaxTensors = 64;
struct SgdBatch {
  float* params[kMaxTensors];
  const float* grads[kMaxTensors];
  int64_t sizes[kMaxTensors];
  detail::BlockMap<kMaxTensors> map;
};

// __grid_constant__ lets threads index the batch's arrays in place, in the parameter
// space, instead of each copying the whole struct to local memory.
__global__ void sgd_step_kernel(const __grid_constant__ SgdBatch batch, float lr) {
  const int t = batch.map.tensor_of(int(blockIdx.x));
  float* p = batch.params[t];
  const float* g = batch.grads[t];
  const int64_t n = batch.sizes[t], stride = batch.map.stride(t);
  for (int64_t i = batch.map.start(t); i < n; i += stride) p[i] += -lr * g[i];  // PyTorch: p.add_(g, alpha=-lr)
}

}  // namespace

void sgd_step(float* const* params, const float* const* grads, const int64_t* sizes, int count, float lr,
              int device) {
  // A tensor gets one block per kThreads elements, up to what the device holds at
  // once; bigger tensors loop (grid-stride) inside their blocks.
  const int64_t cap = detail::resident_blocks(device, detail::kThreads);
  SgdBatch batch{};
  detail::in_batches(
      batch, sizes, count, cap,
      [&](int t, int i) {
        batch.params[t] = params[i];
        batch.grads[t] = grads[i];
        batch.sizes[t] = sizes[i];
      },
      [&](const SgdBatch& b) { KN_LAUNCH(sgd_step_kernel, device, dim3(b.map.blocks()), detail::kThreads, 0, b, lr); });
}

}  // namespace kn::cuda
