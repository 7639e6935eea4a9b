// 08 — tiny: the products a small MLP actually runs, where launch and memory latency
// are everything and tiles are mostly empty.
//
// A 4-10-3 MLP on a batch of 120 multiplies 120x4 by 4x10 (forward), 10x120 by 120x4
// (weight gradient) and so on: a few thousand FMAs. A 128 x 128 tile would leave 97% of
// a block idle and one or two blocks would do all the work serially over K. Here the
// work is spread as wide as it goes: G consecutive lanes of a warp compute one output,
// splitting K between them (lane j takes k = j, j+G, ...), then sum with G-1 shuffles.
// G is the smallest power of two that leaves each lane at most 16 steps, capped at a
// warp (K = 4 -> 1 lane per output, K = 120 -> 8). Operands are read straight from
// global memory: a small MLP's matrices live in L1/L2, and skipping shared memory
// saves the barriers.
//
// Consecutive outputs run along a row of C, so a warp's B reads and C writes are
// contiguous and its A reads are broadcasts.
//
// Launch: block (128), grid (ceil(M*N*G / 128)), G = tiny_group(K).
#pragma once
#include "operand.cuh"

namespace kn::cuda::gemm_kernels {

// Lanes per output, as a power of two: G = 1 << tiny_group_log2(K) divides 32, so
// groups never straddle warps.
__host__ __device__ constexpr int tiny_group_log2(int K) {
  int lg = 0;
  while (lg < 5 && (16 << lg) < K) ++lg;
  return lg;
}
__host__ __device__ constexpr int tiny_group(int K) { return 1 << tiny_group_log2(K); }

template <bool TA, bool TB>
__global__ void __launch_bounds__(128)
    sgemm_tiny(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
               float beta) {
  const int lg = tiny_group_log2(K), G = 1 << lg;
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t out = t >> lg;
  const int j = int(t & (G - 1));
  // Threads past the end stay for the shuffles, which need every lane of the warp.
  const bool live = out < int64_t(M) * N;
  const int m = live ? int(out / N) : 0, n = live ? int(out % N) : 0;
  float acc = 0.0f;
  if (live) {
#pragma unroll 4
    for (int k = j; k < K; k += G) acc += a_at<TA>(A, m, k, M, K) * b_at<TB>(B, k, n, K, N);
  }
  for (int offset = G / 2; offset > 0; offset /= 2)
    acc += __shfl_xor_sync(0xffffffffu, acc, offset);
  if (live && j == 0) epilogue(&C[out], acc, alpha, beta);
}

}  // namespace kn::cuda::gemm_kernels
