// 03 — shared-memory tiling: a block stages a TILE x TILE square of A and of B in
// shared memory, then every thread reads its operands from there.
//
// In 01/02 each element of A and B is fetched from global memory once per thread that
// uses it. Here a block of TILE x TILE threads loads each element of the two tiles
// once (one float per thread per tile, coalesced), synchronises, and does TILE
// multiply-adds per thread from shared memory: global traffic drops by a factor of
// TILE. Still one output per thread, so each FMA needs two shared-memory loads; the
// kernel is now limited by shared-memory bandwidth, which 04 attacks.
//
// The +1 padding: with a transposed operand the coalesced global read runs along the
// other tile dimension, so the tile is written column-wise; the padding puts a
// column's 32 elements in 32 different banks.
//
// Out-of-range elements are loaded as 0 and out-of-range outputs are not stored, so
// any M, N, K work; K = 0 gives C = beta * C.
//
// Launch: block (TILE, TILE), grid (ceil(M/TILE), ceil(N/TILE)). Row tiles go on grid.x
// (up to 2^31-1) and column tiles on grid.y (up to 65535), as in all the tiled kernels:
// a batch of millions of rows fits.
#pragma once
#include "operand.cuh"

namespace kn::cuda::gemm_kernels {

template <int TILE, bool TA, bool TB>
__global__ void __launch_bounds__(TILE * TILE)
    sgemm_smem_tiled(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                     float beta) {
  __shared__ float As[TILE][TILE + 1];  // As[m][k]
  __shared__ float Bs[TILE][TILE + 1];  // Bs[k][n]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m0 = blockIdx.x * TILE, n0 = blockIdx.y * TILE;

  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += TILE) {
    // tx runs along the dimension that is contiguous in global memory.
    if (!TA) {  // A stored [M,K]: contiguous in k
      const int m = m0 + ty, k = k0 + tx;
      As[ty][tx] = (m < M && k < K) ? A[int64_t(m) * K + k] : 0.0f;
    } else {    // A stored [K,M]: contiguous in m
      const int m = m0 + tx, k = k0 + ty;
      As[tx][ty] = (m < M && k < K) ? A[int64_t(k) * M + m] : 0.0f;
    }
    if (!TB) {  // B stored [K,N]: contiguous in n
      const int k = k0 + ty, n = n0 + tx;
      Bs[ty][tx] = (k < K && n < N) ? B[int64_t(k) * N + n] : 0.0f;
    } else {    // B stored [N,K]: contiguous in k
      const int k = k0 + tx, n = n0 + ty;
      Bs[tx][ty] = (k < K && n < N) ? B[int64_t(n) * K + k] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];  // As: broadcast; Bs: a row
    __syncthreads();  // before the next tile overwrites what others may still read
  }
  const int m = m0 + ty, n = n0 + tx;
  if (m < M && n < N) epilogue(&C[int64_t(m) * N + n], acc, alpha, beta);
}

}  // namespace kn::cuda::gemm_kernels
