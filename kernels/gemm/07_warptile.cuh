// 07 — warp tiling with double buffering: the kernel the library runs for all but
// the smallest products.
//
// Three layers of tiles, each matched to a level of the hardware:
//   block tile BM x BN   staged through shared memory (as in 05/06),
//   warp tile  WM x WN   the part of the block tile one warp computes,
//   thread tile          WMITER x WNITER sub-tiles of TM x TN per thread.
// A warp's 32 threads are laid out over a WSUBM x WSUBN sub-tile (WSUBM = WM/WMITER,
// WSUBN = WN/WNITER) and step over the warp tile WMITER x WNITER times. What this buys
// over 06: the threads of a warp read neighbouring float4s of the shared tiles (no
// bank conflicts on the hot loads: four lanes share each A value by broadcast), a warp
// touches a compact WM x WN region, and the loop nest maps onto the hierarchy the
// tensor-core kernels use (block -> warp -> thread), so it is the natural place to go
// on from (cp.async / TMA and wgmma on sm_90 are the next steps; see docs/gemm.md).
//
// Double buffering: two shared-memory buffers per operand. While the block computes on
// tile t, each thread has already issued the global loads of tile t+1 into registers
// (TileLoader4::load); after the computation it stores them into the other buffer. The
// load latency hides behind BK steps of FMAs, and one __syncthreads per tile suffices:
// the buffer written during step t was last read during step t-1, which every thread
// finished before the barrier that ended it.
//
// Every size is a template parameter so the configuration can be autotuned. The
// default (128 x 128 x 16 block, 64 x 64 warp tiles, 4 warps, 8 x 16 outputs per thread)
// is siboehm's tuned kernel-10 shape, a sane start for sm_90, not yet tuned on the H200.
// Bounds and alignment are handled as in 06, so any M, N, K (including K = 0) work.
//
// Launch: block (NT), grid (ceil(M/BM), ceil(N/BN)).
#pragma once
#include "operand.cuh"
#include "vector_io.cuh"  // TileLoader4, store4, rows_16b_aligned

namespace kn::cuda::gemm_kernels {

template <int BM, int BN, int BK, int WM, int WN, int WNITER, int TM, int TN, int NT, bool TA,
          bool TB>
__global__ void __launch_bounds__(NT)
    sgemm_warptile(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                   float beta) {
  constexpr int PAD = 4;
  constexpr int LDA = BM + PAD, LDB = BN + PAD;
  constexpr int WMITER = (WM * WN) / (32 * TM * TN * WNITER);
  constexpr int WSUBM = WM / WMITER, WSUBN = WN / WNITER;
  static_assert((BM / WM) * (BN / WN) * 32 == NT, "one warp per warp tile");
  static_assert(WMITER * WNITER * TM * TN * 32 == WM * WN, "the threads must cover the warp tile");
  static_assert((WSUBM / TM) * (WSUBN / TN) == 32, "32 threads per warp sub-tile");
  static_assert(TM % 4 == 0 && TN % 4 == 0, "a thread's outputs are read and written as float4s");
  __shared__ __align__(16) float As[2][BK * LDA];
  __shared__ __align__(16) float Bs[2][BK * LDB];

  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int wrow = warp / (BN / WN), wcol = warp % (BN / WN);
  const int trow = lane / (WSUBN / TN), tcol = lane % (WSUBN / TN);
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const bool vecA = rows_16b_aligned(A, TA ? M : K);
  const bool vecB = rows_16b_aligned(B, TB ? K : N);
  const bool vecC = rows_16b_aligned(C, N);

  TileLoader4<BK, BM, LDA, NT, !TA> load_a;
  TileLoader4<BK, BN, LDB, NT, TB> load_b;
  float acc[WMITER * TM][WNITER * TN] = {};
  float a[WMITER * TM], b[WNITER * TN];

  const int tiles = ceil_div(K, BK);
  if (tiles > 0) {
    load_a.load(A, 0, m0, K, M, vecA, tid);
    load_b.load(B, 0, n0, K, N, vecB, tid);
    load_a.store(As[0], tid);
    load_b.store(Bs[0], tid);
  }
  __syncthreads();

  for (int t = 0; t < tiles; ++t) {
    const int cur = t & 1;
    const bool next = t + 1 < tiles;
    if (next) {  // in flight while we compute on `cur`
      load_a.load(A, (t + 1) * BK, m0, K, M, vecA, tid);
      load_b.load(B, (t + 1) * BK, n0, K, N, vecB, tid);
    }
    const float* as = &As[cur][wrow * WM + trow * TM];
    const float* bs = &Bs[cur][wcol * WN + tcol * TN];
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int wm = 0; wm < WMITER; ++wm)
#pragma unroll
        for (int i = 0; i < TM; i += 4) {
          const float4 v = *reinterpret_cast<const float4*>(&as[k * LDA + wm * WSUBM + i]);
          float* r = &a[wm * TM + i];
          r[0] = v.x, r[1] = v.y, r[2] = v.z, r[3] = v.w;
        }
#pragma unroll
      for (int wn = 0; wn < WNITER; ++wn)
#pragma unroll
        for (int j = 0; j < TN; j += 4) {
          const float4 v = *reinterpret_cast<const float4*>(&bs[k * LDB + wn * WSUBN + j]);
          float* r = &b[wn * TN + j];
          r[0] = v.x, r[1] = v.y, r[2] = v.z, r[3] = v.w;
        }
#pragma unroll
      for (int i = 0; i < WMITER * TM; ++i)
#pragma unroll
        for (int j = 0; j < WNITER * TN; ++j) acc[i][j] += a[i] * b[j];
    }
    if (next) {
      load_a.store(As[cur ^ 1], tid);
      load_b.store(Bs[cur ^ 1], tid);
    }
    __syncthreads();
  }

#pragma unroll
  for (int wm = 0; wm < WMITER; ++wm)
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int m = m0 + wrow * WM + wm * WSUBM + trow * TM + i;
#pragma unroll
      for (int wn = 0; wn < WNITER; ++wn)
#pragma unroll
        for (int j = 0; j < TN; j += 4) {
          const int n = n0 + wcol * WN + wn * WSUBN + tcol * TN + j;
          const float* r = &acc[wm * TM + i][wn * TN + j];
          store4(C, m, n, M, N, make_float4(r[0], r[1], r[2], r[3]), alpha, beta, vecC);
        }
    }
}

}  // namespace kn::cuda::gemm_kernels
