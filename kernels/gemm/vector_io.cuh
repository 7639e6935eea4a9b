// The float4 (128-bit) helpers of 06 and 07: an alignment test, a guarded float4 load
// and store, and TileLoader4, which moves a tile into shared memory a float4 at a time
// (see 06_vectorized.cuh for why and when each is used).
#pragma once
#include <cstdint>

#include "operand.cuh"  // epilogue

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

}  // namespace kn::cuda::gemm_kernels
