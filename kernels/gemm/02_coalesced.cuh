// 02 — coalesced: the same arithmetic as 01, with threadIdx.x walking along a row
// of C instead of down a column.
//
// Now the 32 threads of a warp share one row m: they all read the same A[m,k] (one
// broadcast), read 32 neighbouring B[k,n] and write 32 neighbouring C[m,n], so each
// warp-wide access is one or two 128-byte transactions instead of 32. Nothing else
// changed; this one swap is typically worth several times in speed. (With TB, B is
// stored [N,K] and the B reads are strided again: the tiled kernels from 03 on load
// each operand along whichever dimension is contiguous.)
//
// Launch: block (32, 32), grid (ceil(N/32), ceil(M/32)).
#pragma once
#include "operand.cuh"

namespace kn::cuda::gemm_kernels {

template <bool TA, bool TB>
__global__ void sgemm_coalesced(float* C, const float* A, const float* B, int M, int N, int K,
                                float alpha, float beta) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  const int m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += a_at<TA>(A, m, k, M, K) * b_at<TB>(B, k, n, K, N);
  epilogue(&C[int64_t(m) * N + n], acc, alpha, beta);
}

}  // namespace kn::cuda::gemm_kernels
