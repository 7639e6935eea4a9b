// How the optimiser kernels (sgd.cu, optim.cu, clip.cu) spread a list of tensors over
// one grid: the tensors travel by value in the kernel's parameters (so no pointer table
// is copied to the device first), and tensor t owns blocks [first_block[t],
// first_block[t+1]) of the grid, in proportion to its size up to a cap: no block is idle,
// however different the sizes. A bigger tensor loops (grid-stride) inside its blocks.
#pragma once
#include <cstdint>

#include "common.cuh"

namespace kn::cuda::detail {

// Which blocks belong to which of up to N tensors.
template <int N>
struct BlockMap {
  int first_block[N + 1];
  int count;

  // Adds a tensor of n > 0 elements, given at most max_blocks blocks; returns its slot.
  int add(int64_t n, int64_t max_blocks) {
    const int64_t needed = (n + kThreads - 1) / kThreads;
    const int t = count++;
    first_block[t + 1] = first_block[t] + int(needed < max_blocks ? needed : max_blocks);
    return t;
  }
  bool full() const { return count == N; }
  int blocks() const { return first_block[count]; }

#ifdef __CUDACC__
  // The tensor block b works on (a short scan: N is small and the array is in the
  // kernel's parameter space, read in place thanks to __grid_constant__).
  __device__ int tensor_of(int b) const {
    int t = 0;
    while (b >= first_block[t + 1]) ++t;
    return t;
  }
  // This thread's first element of tensor t, and the stride over its blocks.
  __device__ int64_t start(int t) const {
    return int64_t(int(blockIdx.x) - first_block[t]) * blockDim.x + threadIdx.x;
  }
  __device__ int64_t stride(int t) const { return int64_t(first_block[t + 1] - first_block[t]) * blockDim.x; }
#endif
};

// Puts the non-empty tensors of sizes[0 .. count) into `batch` (a struct with a BlockMap
// `map`) in turn, each given at most max_blocks blocks: fill(t, i) stores tensor i in
// slot t, and launch(batch) runs each batch once it is full, and the last one.
template <typename Batch, typename Fill, typename Launch>
void in_batches(Batch& batch, const int64_t* sizes, int count, int64_t max_blocks, Fill&& fill, Launch&& launch) {
  for (int i = 0; i < count; ++i) {
    if (sizes[i] <= 0) continue;
    fill(batch.map.add(sizes[i], max_blocks), i);
    if (batch.map.full()) {
      launch(batch);
      batch.map.count = 0;
    }
  }
  if (batch.map.count > 0) launch(batch);
  batch.map.count = 0;
}

}  // namespace kn::cuda::detail
