// Gradient clipping by the total 2-norm in two launches, with no host synchronisation:
// the contract, and the CPU mirror, are in <kernelnet/ops/clip.hpp>.
//
//   grad_norm_partials_kernel  each block sums the squares of its share of one tensor
//                              (in double) into partials[its block]
//   grad_clip_scale_kernel     each block adds all the partials, in the same fixed order
//                              (so every block finds the same total), and scales its share
//                              of the gradients by min(max_norm / (total + 1e-6), 1);
//                              block 0 writes the total
#include <kernelnet/ops/clip.hpp>

#include <vector>

#include "multi_tensor.cuh"

namespace kn::cuda {
namespace {

constexpr int kMaxTensors = 64;
// At most this many blocks sum one tensor's squares, so a block of the scaling kernel
// has at most 64 x 64 partial sums to add.
constexpr int64_t kNormBlocksPerTensor = 64;

struct GradBatch {
  float* grads[kMaxTensors];
  int64_t sizes[kMaxTensors];
  detail::BlockMap<kMaxTensors> map;
  int first_partial;  // where this batch's partial sums start in the scratch array
};

__global__ void grad_norm_partials_kernel(const __grid_constant__ GradBatch batch, double* partials) {
  __shared__ double shared[detail::kThreads];
  const int t = batch.map.tensor_of(int(blockIdx.x));
  const float* g = batch.grads[t];
  const int64_t n = batch.sizes[t], stride = batch.map.stride(t);
  double acc = 0.0;
  for (int64_t j = batch.map.start(t); j < n; j += stride) acc += double(g[j]) * double(g[j]);
  const double sum = detail::block_sum(acc, shared);
  if (threadIdx.x == 0) partials[batch.first_partial + int(blockIdx.x)] = sum;
}

__global__ void grad_clip_scale_kernel(const __grid_constant__ GradBatch batch, const double* partials,
                                       int n_partials, float max_norm, float* total_norm) {
  __shared__ double shared[detail::kThreads];
  const float total = float(sqrt(detail::block_sum_of(partials, n_partials, shared)));
  const float coef = fminf(max_norm / (total + 1e-6f), 1.0f);
  if (blockIdx.x == 0 && threadIdx.x == 0) *total_norm = total;
  const int t = batch.map.tensor_of(int(blockIdx.x));
  float* g = batch.grads[t];
  const int64_t n = batch.sizes[t], stride = batch.map.stride(t);
  for (int64_t j = batch.map.start(t); j < n; j += stride) g[j] *= coef;
}

}  // namespace

void clip_grad_norm(float* const* grads, const int64_t* sizes, int count, float max_norm, float* total_norm,
                    int device) {
  const int64_t cap = detail::resident_blocks(device, detail::kThreads);
  const int64_t norm_cap = cap < kNormBlocksPerTensor ? cap : kNormBlocksPerTensor;
  // Two grids over the same tensors: the norm's (at most kNormBlocksPerTensor blocks a
  // tensor) and the scaling's (up to what the device holds at once).
  std::vector<GradBatch> norm_batches(1), scale_batches(1);
  norm_batches[0] = GradBatch{};
  scale_batches[0] = GradBatch{};
  int n_partials = 0;
  for (int i = 0; i < count; ++i) {
    if (sizes[i] <= 0) continue;
    if (norm_batches.back().map.full()) {
      n_partials += norm_batches.back().map.blocks();
      norm_batches.push_back(GradBatch{});
      norm_batches.back().first_partial = n_partials;
      scale_batches.push_back(GradBatch{});
    }
    GradBatch& nb = norm_batches.back();
    GradBatch& sb = scale_batches.back();
    const int t = nb.map.add(sizes[i], norm_cap);
    sb.map.add(sizes[i], cap);
    nb.grads[t] = sb.grads[t] = grads[i];
    nb.sizes[t] = sb.sizes[t] = sizes[i];
  }
  n_partials += norm_batches.back().map.blocks();
  if (n_partials == 0) {  // no element at all: the norm is 0 and nothing is scaled
    const detail::DeviceGuard on(device);
    KN_CUDA_CHECK(cudaMemsetAsync(total_norm, 0, sizeof(float), detail::stream(device)));
    return;
  }
  detail::Scratch<double> partials(std::size_t(n_partials), device);
  for (const GradBatch& b : norm_batches)
    KN_LAUNCH(grad_norm_partials_kernel, device, dim3(b.map.blocks()), detail::kThreads, 0, b, partials.get());
  for (const GradBatch& b : scale_batches)
    KN_LAUNCH(grad_clip_scale_kernel, device, dim3(b.map.blocks()), detail::kThreads, 0, b, partials.get(),
              n_partials, max_norm, total_norm);
}

}  // namespace kn::cuda
