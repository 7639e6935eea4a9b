// What every GEMM kernel in kernels/gemm/ shares: how op(A) and op(B) are read
// and how C is written.
//
// Row-major throughout. C is [M,N]; op(A) is [M,K] and op(B) is [K,N]. A is stored
// [M,K], or [K,M] when TA (so op(A) = A^T); B is stored [K,N], or [N,K] when TB.
// The transposes are template flags: each kernel is instantiated four times and
// its index arithmetic is fixed at compile time (the launcher picks one).
#pragma once
#include <cstdint>

namespace kn::cuda::gemm_kernels {

__host__ __device__ constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

// op(A)[m,k] and op(B)[k,n]: the only place the two storage orders differ.
template <bool TA>
__device__ __forceinline__ float a_at(const float* A, int m, int k, int M, int K) {
  return TA ? A[int64_t(k) * M + m] : A[int64_t(m) * K + k];
}
template <bool TB>
__device__ __forceinline__ float b_at(const float* B, int k, int n, int K, int N) {
  return TB ? B[int64_t(n) * K + k] : B[int64_t(k) * N + n];
}

// C = alpha * acc + beta * C. With beta == 0, C is never read: like BLAS, C may
// hold garbage (even NaN) on entry and the result does not depend on it.
__device__ __forceinline__ void epilogue(float* c, float acc, float alpha, float beta) {
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

// Copies the BK x TILE slice of an operand that starts at (k0, i0) into the shared
// tile S[BK][LD], k-major, one float at a time. Tiles of both operands are stored
// k-major (S[k][m] for A, S[k][n] for B) so the inner product reads one row of each.
//
// The operand's element (k, i) is X[i*K + k] when K_CONTIG (A as stored [M,K], or B
// stored [N,K]) and X[k*I + i] otherwise; consecutive threads take consecutive
// addresses either way, so global reads coalesce. Elements outside [0,K) x [0,I) read
// as 0 and add nothing: this is what lets the tiled kernels take any M, N, K.
template <int BK, int TILE, int LD, int NT, bool K_CONTIG>
__device__ __forceinline__ void load_tile(float* S, const float* X, int k0, int i0, int K, int I,
                                          int tid) {
  static_assert((BK * TILE) % NT == 0, "the threads must cover the tile evenly");
  // The tile's origin once, in 64 bits; offsets inside the tile stay small.
  const float* Xt = K_CONTIG ? X + int64_t(i0) * K + k0 : X + int64_t(k0) * I + i0;
#pragma unroll
  for (int s = 0; s < BK * TILE / NT; ++s) {
    const int e = tid + s * NT;
    const int k = K_CONTIG ? e % BK : e / TILE;
    const int i = K_CONTIG ? e / BK : e % TILE;
    float v = 0.0f;
    if (k0 + k < K && i0 + i < I) v = K_CONTIG ? Xt[int64_t(i) * K + k] : Xt[int64_t(k) * I + i];
    S[k * LD + i] = v;
  }
}

}  // namespace kn::cuda::gemm_kernels
