// argmax_rows (predicted classes) and count_equal (how many predictions are right): the
// contract is in <kernelnet/ops/argmax.hpp>.
#include <kernelnet/ops/argmax.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

using detail::kWarpsPerBlock;

// Is (v, i) a better argmax candidate than (best, best_i)? Larger wins, and among
// equals the first index wins, as std::max_element does. i < 0 means "no candidate".
__device__ __forceinline__ bool better(float v, int i, float best, int best_i) {
  return i >= 0 && (best_i < 0 || v > best || (v == best && i < best_i));
}

// One warp per row, lanes strided over the columns, then a butterfly over lanes.
// cols == 0 gives index 0, like the CPU twin.
__global__ void argmax_rows_kernel(int64_t* idx, const float* x, int rows, int cols) {
  const int lane = threadIdx.x % detail::kWarp;
  const int warp = threadIdx.x / detail::kWarp;
  for (int64_t r = int64_t(blockIdx.x) * kWarpsPerBlock + warp; r < rows;
       r += int64_t(gridDim.x) * kWarpsPerBlock) {
    const float* row = x + r * cols;
    float best = 0.0f;
    int best_i = -1;
    for (int c = lane; c < cols; c += detail::kWarp)
      if (better(row[c], c, best, best_i)) best = row[c], best_i = c;
    for (int offset = detail::kWarp / 2; offset > 0; offset /= 2) {
      const float v = __shfl_xor_sync(0xffffffffu, best, offset);
      const int i = __shfl_xor_sync(0xffffffffu, best_i, offset);
      if (better(v, i, best, best_i)) best = v, best_i = i;
    }
    if (lane == 0) idx[r] = best_i < 0 ? 0 : best_i;
  }
}

// Each block counts its matches, then adds them to count[0] with one atomic. Integer
// addition is exact, so the order of the atomics does not change the result.
__global__ void count_equal_kernel(int64_t* count, const int64_t* a, const int64_t* b, int64_t n) {
  __shared__ unsigned long long block_count[kWarpsPerBlock];
  unsigned long long k = 0;
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) k += a[i] == b[i];
  k = detail::warp_sum(k);
  if (threadIdx.x % detail::kWarp == 0) block_count[threadIdx.x / detail::kWarp] = k;
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned long long total = 0;
    for (int w = 0; w < kWarpsPerBlock; ++w) total += block_count[w];
    atomicAdd(reinterpret_cast<unsigned long long*>(count), total);
  }
}

}  // namespace

void argmax_rows(int64_t* idx, const float* x, int rows, int cols, int device) {
  if (rows <= 0) return;
  const dim3 grid = detail::grid_rows(rows, detail::resident_blocks(device, detail::kThreads));
  KN_LAUNCH(argmax_rows_kernel, device, grid, detail::kThreads, 0, idx, x, rows, cols);
}

void count_equal(int64_t* count, const int64_t* a, const int64_t* b, int64_t n, int device) {
  // Zeroed in stream order first; with n == 0 that is the whole answer.
  cudaStream_t s = detail::stream(device);
  {
    const detail::DeviceGuard on(device);
    KN_CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof(int64_t), s));
  }
  KN_LAUNCH(count_equal_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, count, a, b, n);
}

}  // namespace kn::cuda
