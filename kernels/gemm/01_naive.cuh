// 01 — naive: one thread per element of C, every operand read from global memory.
//
// threadIdx.x walks down the rows of C, so the 32 threads of a warp read 32
// different rows of A and write 32 different rows of C: 32 memory transactions
// where one would do. Each element of A is read N times and each of B M times, all
// from DRAM/L2. 02 fixes the first problem, 03 the second.
//
// Launch: block (32, 32), grid (ceil(M/32), ceil(N/32)).
#pragma once
#include "operand.cuh"

namespace kn::cuda::gemm_kernels {

template <bool TA, bool TB>
__global__ void sgemm_naive(float* C, const float* A, const float* B, int M, int N, int K,
                            float alpha, float beta) {
  const int m = blockIdx.x * blockDim.x + threadIdx.x;
  const int n = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += a_at<TA>(A, m, k, M, K) * b_at<TB>(B, k, n, K, N);
  epilogue(&C[int64_t(m) * N + n], acc, alpha, beta);
}

}  // namespace kn::cuda::gemm_kernels
