// 05 — 2-D block tiling: each thread computes a TM x TN square of outputs.
//
// Per k, a thread loads TM values of A and TN values of B from shared memory into
// registers and does TM*TN FMAs with them (an outer product): (TM + TN) loads for
// TM*TN FMAs, 16 for 64 at 8 x 8, against 9 for 8 in 04. The block tile grows to
// 128 x 128 (x 8 of K) with 256 threads, so each thread now loads several elements of
// each tile per step (load_tile strides over the tile).
//
// What is left: the shared-memory reads are scalar, threads of a quarter-warp hit the
// same banks reading Bs (threads tcol and tcol+4 are 32 floats apart), and the global
// loads are one float at a time. 06 vectorises both.
//
// Launch: block (BM*BN/(TM*TN)), grid (ceil(M/BM), ceil(N/BN)).
#pragma once
#include "operand.cuh"

namespace kn::cuda::gemm_kernels {

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void __launch_bounds__(BM * BN / (TM * TN))
    sgemm_blocktile_2d(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                       float beta) {
  constexpr int NT = BM * BN / (TM * TN);
  constexpr int PAD = 4;
  __shared__ float As[BK * (BM + PAD)];
  __shared__ float Bs[BK * (BN + PAD)];

  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const int tcol = tid % (BN / TN);
  const int trow = tid / (BN / TN);

  float acc[TM][TN] = {};
  float a[TM], b[TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_tile<BK, BM, BM + PAD, NT, !TA>(As, A, k0, m0, K, M, tid);
    load_tile<BK, BN, BN + PAD, NT, TB>(Bs, B, k0, n0, K, N, tid);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[k * (BM + PAD) + trow * TM + i];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[k * (BN + PAD) + tcol * TN + j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + trow * TM + i;
    if (m >= M) break;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int n = n0 + tcol * TN + j;
      if (n < N) epilogue(&C[int64_t(m) * N + n], acc[i][j], alpha, beta);
    }
  }
}

}  // namespace kn::cuda::gemm_kernels
