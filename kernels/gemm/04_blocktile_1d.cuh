// 04 — 1-D block tiling: each thread computes TM outputs down a column of C.
//
// 03 does one FMA per two shared-memory loads. Here a thread keeps TM accumulators
// in registers; for each k it loads one B value into a register and reuses it for
// TM FMAs against a column of A (one shared-memory read each, all threads of a warp
// reading the same address: a broadcast). That is about 2 loads per FMA down to
// (1 + TM) / TM. The block tile is BM x BN with a thin BK slice of K: 64 x 64 x 8 with
// 512 threads, each loading one element of each tile per step.
//
// Shared tiles are k-major (As[k][m], Bs[k][n]); load_tile (operand.cuh) reads the
// global operand along its contiguous dimension. The +4 padding makes the
// k-contiguous case's transposing store hit 32 different banks.
//
// Launch: block (BM*BN/TM), grid (ceil(M/BM), ceil(N/BN)).
#pragma once
#include "operand.cuh"

namespace kn::cuda::gemm_kernels {

// The second __launch_bounds__ argument asks ptxas to fit 2048 / 512 = 4 blocks on an
// SM (sm_90 holds 2048 threads), i.e. at most 32 registers: it does, without spilling.
template <int BM, int BN, int BK, int TM, bool TA, bool TB>
__global__ void __launch_bounds__(BM * BN / TM, 2048 / (BM * BN / TM))
    sgemm_blocktile_1d(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                       float beta) {
  constexpr int NT = BM * BN / TM;
  constexpr int PAD = 4;
  static_assert(BM % TM == 0, "a thread's column of outputs must fit in the tile");
  __shared__ float As[BK * (BM + PAD)];
  __shared__ float Bs[BK * (BN + PAD)];

  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const int tcol = tid % BN;  // a warp shares trow: its A reads are broadcasts
  const int trow = tid / BN;  // outputs rows trow*TM .. trow*TM + TM-1

  float acc[TM] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_tile<BK, BM, BM + PAD, NT, !TA>(As, A, k0, m0, K, M, tid);
    load_tile<BK, BN, BN + PAD, NT, TB>(Bs, B, k0, n0, K, N, tid);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      const float b = Bs[k * (BN + PAD) + tcol];
#pragma unroll
      for (int i = 0; i < TM; ++i) acc[i] += As[k * (BM + PAD) + trow * TM + i] * b;
    }
    __syncthreads();
  }
  const int n = n0 + tcol;
  if (n >= N) return;
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + trow * TM + i;
    if (m < M) epilogue(&C[int64_t(m) * N + n], acc[i], alpha, beta);
  }
}

}  // namespace kn::cuda::gemm_kernels
