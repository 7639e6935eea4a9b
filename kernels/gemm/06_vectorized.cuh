// 06 — vectorised memory access: 128-bit (float4) loads and stores wherever the
// data allows.
//
// Same 128 x 128 x 8 tiles and 8 x 8 outputs per thread as 05. Three changes:
//  - Global loads move a float4 at a time along the operand's contiguous dimension
//    (TileLoader4): a quarter of the load instructions. When that dimension is K
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

namespace kn::cuda::gemm_kernels {

// Every row of a row-major matrix with row length ld starts on a 16-byte boundary.
__device__ __forceinline__ bool rows_16b_aligned(const void* p, int ld) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && ld % 4 == 0;
}

// X[row, col .. col+3] of a dense rows x cols matrix, reading what lies outside as 0.
// vec: rows_16b_aligned(X, cols) and col % 4 == 0.
__device__ __forceinline__ float4 load4(const float* X, int row, int col, int rows, int cols,
                                        bool vec) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (row >= rows || col >= cols) return v;
  const float* p = X + int64_t(row) * cols + col;
  if (vec) return *reinterpret_cast<const float4*>(p);  // cols % 4 == 0: all four are in range
  v.x = p[0];
  if (col + 1 < cols) v.y = p[1];
  if (col + 2 < cols) v.z = p[2];
  if (col + 3 < cols) v.w = p[3];
  return v;
}

// C[row, col .. col+3] = alpha * acc + beta * C (C unread when beta == 0), skipping what
// lies outside M x N. vec: rows_16b_aligned(C, N) and col % 4 == 0.
__device__ __forceinline__ void store4(float* C, int row, int col, int M, int N, float4 acc,
                                       float alpha, float beta, bool vec) {
  if (row >= M || col >= N) return;
  float* p = C + int64_t(row) * N + col;
  if (vec) {
    float4 r = make_float4(alpha * acc.x, alpha * acc.y, alpha * acc.z, alpha * acc.w);
    if (beta != 0.0f) {
      const float4 c = *reinterpret_cast<const float4*>(p);
      r.x += beta * c.x, r.y += beta * c.y, r.z += beta * c.z, r.w += beta * c.w;
    }
    *reinterpret_cast<float4*>(p) = r;
    return;
  }
  epilogue(p, acc.x, alpha, beta);
  if (col + 1 < N) epilogue(p + 1, acc.y, alpha, beta);
  if (col + 2 < N) epilogue(p + 2, acc.z, alpha, beta);
  if (col + 3 < N) epilogue(p + 3, acc.w, alpha, beta);
}

// Moves the BK x TILE slice of an operand that starts at (k0, i0) into the k-major
// shared tile S[BK][LD] in two steps, load() (global -> registers) and store()
// (registers -> shared), so that 07 can issue the loads of the next tile before
// computing on the current one. Element (k, i) of the operand is X[i*K + k] when
// K_CONTIG, else X[k*I + i] (as for load_tile in operand.cuh).
template <int BK, int TILE, int LD, int NT, bool K_CONTIG>
struct TileLoader4 {
  static_assert(BK % 4 == 0 && TILE % 4 == 0 && LD % 4 == 0, "tiles are moved as float4s");
  static_assert((BK * TILE / 4) % NT == 0, "the threads must cover the tile evenly");
  static constexpr int kPerThread = BK * TILE / 4 / NT;
  float4 v[kPerThread];

  // The four elements of slot e: (k .. k+3, i) when K_CONTIG, else (k, i .. i+3).
  // Neighbouring threads take neighbouring float4s in global memory.
  __device__ __forceinline__ static void slot(int e, int& k, int& i) {
    if (K_CONTIG) k = e % (BK / 4) * 4, i = e / (BK / 4);
    else k = e / (TILE / 4), i = e % (TILE / 4) * 4;
  }
  __device__ __forceinline__ void load(const float* X, int k0, int i0, int K, int I, bool vec,
                                       int tid) {
#pragma unroll
    for (int s = 0; s < kPerThread; ++s) {
      int k, i;
      slot(tid + s * NT, k, i);
      v[s] = K_CONTIG ? load4(X, i0 + i, k0 + k, I, K, vec) : load4(X, k0 + k, i0 + i, K, I, vec);
    }
  }
  __device__ __forceinline__ void store(float* S, int tid) const {
#pragma unroll
    for (int s = 0; s < kPerThread; ++s) {
      int k, i;
      slot(tid + s * NT, k, i);
      if (K_CONTIG) {  // transpose on the way in
        S[(k + 0) * LD + i] = v[s].x;
        S[(k + 1) * LD + i] = v[s].y;
        S[(k + 2) * LD + i] = v[s].z;
        S[(k + 3) * LD + i] = v[s].w;
      } else {
        *reinterpret_cast<float4*>(&S[k * LD + i]) = v[s];
      }
    }
  }
};

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
