// 06 — vectorised memory access: 128-bit (float4) loads and stores wherever the
// data allows.
//
// Same 128 x 128 x 8 tiles and 8 x 8 outputs per thread as 05. Three changes:
//  - Global loads move a float4 at a time along the operand's contiguous dimension
//    (TileLoader4, in vector_io.cuh): a quarter of the load instructions. When that dimension is K
//    (A as stored, or B^T), the four values are scattered into the k-major tile: the
//    transpose happens on the way into shared memory.
//  - Because both tiles are k-major, a thread's TM values of A and TN values of B at
//    one k are contiguous: it reads them as float4s (2 + 2 instructions, not 16).
//  - C is written (and, with beta != 0, read) as float4s.
//
// float4 accesses need 16-byte-aligned addresses. The kernel checks each matrix at
// run time: base pointer 16-byte aligned and row length a multiple of 4 (then a float4
// that starts inside a row lies wholly inside it). A matrix that fails the check (K =
// 65, say, or a pointer offset by one float) is read and written a float at a time
// through the same code, with bounds guards, so the kernel stays correct for any
// M, N, K and any pointer.
//
// Launch: block (BM*BN/(TM*TN)), grid (ceil(M/BM), ceil(N/BN)).
#pragma once
#include "operand.cuh"
#include "vector_io.cuh"  // rows_16b_aligned, TileLoader4, store4

namespace kn::cuda::gemm_kernels {

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void __launch_bounds__(BM * BN / (TM * TN))
    sgemm_vectorized(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                     float beta) {
  constexpr int NT = BM * BN / (TM * TN);
  constexpr int PAD = 4;  // keeps rows 16-byte aligned and spreads the transposing stores
  constexpr int LDA = BM + PAD, LDB = BN + PAD;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "a thread's outputs are read and written as float4s");
  __shared__ __align__(16) float As[BK * LDA];
  __shared__ __align__(16) float Bs[BK * LDB];

  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const int tcol = tid % (BN / TN);
  const int trow = tid / (BN / TN);
  const bool vecA = rows_16b_aligned(A, TA ? M : K);
  const bool vecB = rows_16b_aligned(B, TB ? K : N);
  const bool vecC = rows_16b_aligned(C, N);

  TileLoader4<BK, BM, LDA, NT, !TA> load_a;
  TileLoader4<BK, BN, LDB, NT, TB> load_b;
  float acc[TM][TN] = {};
  float a[TM], b[TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_a.load(A, k0, m0, K, M, vecA, tid);
    load_b.load(B, k0, n0, K, N, vecB, tid);
    load_a.store(As, tid);
    load_b.store(Bs, tid);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int i = 0; i < TM; i += 4) {
        const float4 t = *reinterpret_cast<const float4*>(&As[k * LDA + trow * TM + i]);
        a[i] = t.x, a[i + 1] = t.y, a[i + 2] = t.z, a[i + 3] = t.w;
      }
#pragma unroll
      for (int j = 0; j < TN; j += 4) {
        const float4 t = *reinterpret_cast<const float4*>(&Bs[k * LDB + tcol * TN + j]);
        b[j] = t.x, b[j + 1] = t.y, b[j + 2] = t.z, b[j + 3] = t.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; j += 4)
      store4(C, m0 + trow * TM + i, n0 + tcol * TN + j, M, N,
             make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]), alpha, beta,
             vecC);
}

}  // namespace kn::cuda::gemm_kernels
