// The CPU backend's tuned GEMM for narrow outputs (N <= 16 columns), apart from the plain
// Eigen product in <kernelnet/ops/gemm.hpp>, which it is tested against
// (tests/test_gemm_narrow.cpp).
//
// Why: Eigen's GEMM packs its operands into blocks first, which costs more than the
// maths when one side is as narrow as a 4-10-3 MLP's (3, 4 or 10 columns). Here each
// output row is a handful of accumulators whose count N is known at compile time, so
// they sit in one vector register and the k loop is a broadcast and a fused
// multiply-add. R rows go together when N is tiny, to fill the register.
#pragma once
#include <array>
#include <cstdint>
#include <utility>


#include <kernelnet/cpu/scratch.hpp>
#include <kernelnet/cpu/simd.hpp>
#include <kernelnet/trace/scope.hpp>

namespace kn::cpu::detail {

// op(A)(i, k) = A[i * si + k * sk]; Bp is op(B) as a row-major [K, N] panel.
template <int N, int R>
void gemm_panel(float* C, const float* A, int64_t si, int64_t sk, const float* Bp, int M, int K, float alpha,
                float beta) {
  int i = 0;
  for (; i + R <= M; i += R) {
    float acc[R][N] = {};
    for (int k = 0; k < K; ++k) {
      const float* b = Bp + int64_t(k) * N;
      for (int r = 0; r < R; ++r) {
        const float a = A[(i + r) * si + k * sk];
        for (int j = 0; j < N; ++j) acc[r][j] += a * b[j];
      }
    }
    for (int r = 0; r < R; ++r) {
      float* c = C + int64_t(i + r) * N;
      if (beta == 0.0f)
        for (int j = 0; j < N; ++j) c[j] = alpha * acc[r][j];
      else
        for (int j = 0; j < N; ++j) c[j] = alpha * acc[r][j] + beta * c[j];
    }
  }
  if (i < M) gemm_panel<N, 1>(C + int64_t(i) * N, A + i * si, si, sk, Bp, M - i, K, alpha, beta);
}

constexpr int kPanelMaxN = 16;
using PanelFn = void (*)(float*, const float*, int64_t, int64_t, const float*, int, int, float, float);
template <int... Ns>
constexpr std::array<PanelFn, sizeof...(Ns)> make_panels(std::integer_sequence<int, Ns...>) {
  return {&gemm_panel<Ns + 1, (Ns + 1 <= 4 ? 4 : Ns + 1 <= 8 ? 2 : 1)>...};
}
inline constexpr auto kPanels = make_panels(std::make_integer_sequence<int, kPanelMaxN>{});

#if KN_CPU_AVX512
// The same panel where AVX-512 exists: a row of N <= 16 outputs fits one register of
// 4, 8 or 16 lanes (the narrowest that holds it: a 512-bit FMA costs two 256-bit ones on
// some cores), whose unused lanes a mask keeps out of every load and store (so op(B)'s
// rows are read in place, and nothing past C's row is touched). R rows go together, each
// its own chain of fused multiply-adds; when only a few rows remain, even and odd k run
// as separate chains (summed at the end), so the k loop is not bound by the FMA's latency.
// ldb: the distance between op(B)'s rows.
template <int W, int R>
void gemm_panel_avx512(float* C, const float* A, int64_t si, int64_t sk, const float* Bp, int64_t ldb, int M, int N,
                       int K, float alpha, float beta) {
  using L = simd::Lanes<W>;
  using V = typename L::V;
  const auto mask = L::mask(N);
  constexpr int S = R <= 2 ? 2 : 1;  // chains per row
  int i = 0;
  for (; i + R <= M; i += R) {
    V acc[S][R];
    for (int s = 0; s < S; ++s)
      for (int r = 0; r < R; ++r) acc[s][r] = L::zero();
    const float* a = A + int64_t(i) * si;
    int k = 0;
    for (; k + S <= K; k += S)
      for (int s = 0; s < S; ++s) {
        const V b = L::load(mask, Bp + int64_t(k + s) * ldb);
        for (int r = 0; r < R; ++r) acc[s][r] = L::fma(L::set1(a[r * si + (k + s) * sk]), b, acc[s][r]);
      }
    for (; k < K; ++k) {
      const V b = L::load(mask, Bp + int64_t(k) * ldb);
      for (int r = 0; r < R; ++r) acc[0][r] = L::fma(L::set1(a[r * si + k * sk]), b, acc[0][r]);
    }
    for (int r = 0; r < R; ++r) {
      V v = acc[0][r];
      if constexpr (S == 2) v = L::add(v, acc[1][r]);
      v = L::mul(L::set1(alpha), v);
      float* c = C + int64_t(i + r) * N;
      if (beta != 0.0f) {
        L::store(c, mask, L::fma(L::set1(beta), L::load(mask, c), v));
      } else if (int64_t(i + r) * N + W <= int64_t(M) * N) {
        // A full store: its lanes past N fall on the rows after it, whose own stores, next,
        // overwrite them. Masked stores cost more, and a load that overlaps one waits for it.
        L::store_all(c, v);
      } else {
        L::store(c, mask, v);  // the full vector would pass C's end: nothing there is ours
      }
    }
  }
  if constexpr (R > 1)
    if (i < M) gemm_panel_avx512<W, R / 2>(C + int64_t(i) * N, A + i * si, si, sk, Bp, ldb, M - i, N, K, alpha, beta);
}

inline void gemm_panel_avx512(float* C, const float* A, int64_t si, int64_t sk, const float* Bp, int M, int N, int K,
                              float alpha, float beta) {
  if (N <= 4) gemm_panel_avx512<4, 8>(C, A, si, sk, Bp, N, M, N, K, alpha, beta);
  else if (N <= 8) gemm_panel_avx512<8, 8>(C, A, si, sk, Bp, N, M, N, K, alpha, beta);
  else gemm_panel_avx512<16, 8>(C, A, si, sk, Bp, N, M, N, K, alpha, beta);
}
#endif

// C[M,N] = alpha * op(A) op(B) + beta * C for 1 <= N <= kPanelMaxN, M >= 1, K >= 1; the
// contract of <kernelnet/ops/gemm.hpp>, with the transposes as flags.
inline void gemm_narrow(float* C, const float* A, const float* B, int M, int N, int K, bool transA, bool transB,
                        float alpha, float beta) {
  // A narrow output with few rows is better computed transposed: C^T = op(B)^T op(A)^T
  // has M columns, and the transpose back is at most 16 x 16 elements.
  if (N < M && M <= kPanelMaxN && N < 8) {
    float* Ct = scratch(std::size_t(N) * M, 1);
    gemm_narrow(Ct, B, A, N, M, K, !transB, !transA, 1.0f, 0.0f);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        float& c = C[int64_t(i) * N + j];
        c = alpha * Ct[int64_t(j) * M + i] + (beta == 0.0f ? 0.0f : beta * c);
      }
    trace::cpu_path("register panel on C^T = op(B)^T op(A)^T, then transposed back");
    return;
  }
  trace::cpu_path(transB ? "register panel, B^T packed first" : "register panel");
  const float* Bp = B;  // op(B) as [K, N]
  if (transB) {
    float* t = scratch(std::size_t(K) * N, 0);
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) t[int64_t(k) * N + n] = B[int64_t(n) * K + k];
    Bp = t;
  }
  const int64_t si = transA ? 1 : K, sk = transA ? M : 1;
#if KN_CPU_AVX512
  return gemm_panel_avx512(C, A, si, sk, Bp, M, N, K, alpha, beta);
#endif
  kPanels[N - 1](C, A, si, sk, Bp, M, K, alpha, beta);
}

}  // namespace kn::cpu::detail
