// GEMM: C = alpha * op(A) op(B) + beta * C. The op behind every kn::Linear, forward and
// backward.
//
// Contract (both backends):
//   C is [M, N]; op(A) is [M, K] and op(B) is [K, N], all row-major. A is stored [M, K],
//   or [K, M] when transA is Transpose::Yes (op(A) = A^T); B is stored [K, N], or [N, K]
//   when transB is Transpose::Yes. Any M, N, K >= 0. beta == 0 never reads C (C may hold
//   garbage, even NaN, as in BLAS); K == 0 gives C = beta * C.
//
// CUDA: kernels/gemm.cu picks a kernel of the series in kernels/gemm/ for each shape
// (docs/gemm.md); <kernelnet/cuda/gemm_variants.hpp> runs any one of them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/cpu/gemm_narrow.hpp>
#include <kernelnet/cpu/threads.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn {
// Whether an operand is used as stored or transposed.
enum class Transpose : bool { No = false, Yes = true };
}  // namespace kn

namespace kn::cpu {

namespace detail {
template <typename L, typename R>
void gemm_into(MatMap& c, const L& a, const R& b, float alpha, float beta) {
  if (beta == 0.0f) {
    c.noalias() = a * b;
    if (alpha != 1.0f) c *= alpha;
  } else {
    if (beta != 1.0f) c *= beta;
    c.noalias() += alpha * a * b;
  }
}
}  // namespace detail

// The plain reference: Eigen's product, for any shape.
inline void gemm_eigen(float* C, const float* A, const float* B, int M, int N, int K, Transpose transA,
                       Transpose transB, float alpha, float beta) {
  if (M == 0 || N == 0) return;
  MatMap c(C, M, N);
  if (K == 0) {
    if (beta == 0.0f) c.setZero();
    else c *= beta;
    return;
  }
  const bool ta = transA == Transpose::Yes, tb = transB == Transpose::Yes;
  ConstMatMap a(A, ta ? K : M, ta ? M : K);
  ConstMatMap b(B, tb ? N : K, tb ? K : N);
  if (!ta && !tb) detail::gemm_into(c, a, b, alpha, beta);
  else if (!ta && tb) detail::gemm_into(c, a, b.transpose(), alpha, beta);
  else if (ta && !tb) detail::gemm_into(c, a.transpose(), b, alpha, beta);
  else detail::gemm_into(c, a.transpose(), b.transpose(), alpha, beta);
}

namespace detail {
// One thread: outputs at most 16 wide go to the tuned register panel
// (<kernelnet/cpu/gemm_narrow.hpp>), everything else to Eigen's product.
inline void gemm_one_thread(float* C, const float* A, const float* B, int M, int N, int K, Transpose transA,
                            Transpose transB, float alpha, float beta) {
  if (M == 0 || N == 0) return;
  if (K > 0 && N <= kPanelMaxN)
    return gemm_narrow(C, A, B, M, N, K, transA == Transpose::Yes, transB == Transpose::Yes, alpha, beta);
  trace::cpu_path("Eigen product");
  gemm_eigen(C, A, B, M, N, K, transA, transB, alpha, beta);
}

// Threads (docs/cpu-scaling.md). A product of at least kThreadsMinWork multiply-adds
// (M x N x K, plus M x N for writing C) is split; below it one thread was faster on the
// 2-core VM of docs/cpu-scaling.md (two threads broke even at about 2e6).
inline constexpr double kThreadsMinWork = 1 << 21;
// Split points are multiples of this many rows: Eigen's AVX-512 register block is 48
// rows (3 x 16) and the panel's 8, so each row of C goes through the same micro-kernel,
// summing in the same order, whatever the split: results equal one thread's, bit for bit.
inline constexpr int kRowBlock = 48;
// A reduction over rows (op(A) = A^T: a weight gradient, K = the batch) of at least this
// many rows is summed in fixed chunks, each chunk's product in full and the chunks' sums
// added in order. The chunks depend on K alone, so the result is the same for any number
// of threads (one included), though not bit for bit the unchunked sum's.
inline constexpr int kChunkMinK = 16384;
inline constexpr int kChunkRows = 8192, kMaxChunks = 64;

// C's rows in blocks, one task each: op(A)'s rows are A's rows (not transposed).
inline void gemm_by_rows(float* C, const float* A, const float* B, int M, int N, int K, Transpose transB,
                         float alpha, float beta, int threads) {
  // Tasks of `per` rows, a multiple of kRowBlock; the last one takes the rest too, so no
  // task is small enough for the panel's few-rows branch (M <= 16) to take it.
  const int blocks = std::min(M / kRowBlock, threads * 4);
  const int per = M / kRowBlock / blocks * kRowBlock;
  const int tasks = M / per;
  parallel_for(tasks, [&](int t) {
    const int m0 = t * per, mb = t == tasks - 1 ? M - m0 : per;
    gemm_one_thread(C + int64_t(m0) * N, A + int64_t(m0) * K, B, mb, N, K, Transpose::No, transB, alpha, beta);
  });
  trace::cpu_path("split by rows of C over threads");
}

// op(A) = A^T, op(B) = B, K large: K in fixed chunks, each a [M, N] partial sum.
inline void gemm_by_k_chunks(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                             float beta) {
  const int chunks = std::min(kMaxChunks, K / kChunkRows);
  const int64_t mn = int64_t(M) * N;
  static thread_local std::vector<float> partials;
  if (partials.size() < std::size_t(mn * chunks)) partials.resize(std::size_t(mn * chunks));
  float* P = partials.data();
  parallel_for(chunks, [&](int c) {
    const int k0 = int(int64_t(K) * c / chunks), k1 = int(int64_t(K) * (c + 1) / chunks);
    gemm_one_thread(P + mn * c, A + int64_t(k0) * M, B + int64_t(k0) * N, M, N, k1 - k0, Transpose::Yes,
                    Transpose::No, 1.0f, 0.0f);
  });
  for (int64_t i = 0; i < mn; ++i) {
    float sum = P[i];
    for (int c = 1; c < chunks; ++c) sum += P[mn * c + i];
    C[i] = alpha * sum + (beta == 0.0f ? 0.0f : beta * C[i]);
  }
  trace::cpu_path("summed in fixed chunks of K, chunks over threads");
}
}  // namespace detail

// The CPU backend: detail::gemm_one_thread, or split over get_num_threads() threads when
// the product is big enough (docs/cpu-scaling.md).
inline void gemm(float* C, const float* A, const float* B, int M, int N, int K, Transpose transA, Transpose transB,
                 float alpha, float beta) {
  if (M == 0 || N == 0) return;
  if (K > 0 && double(M) * N * (double(K) + 1) >= detail::kThreadsMinWork) {
    if (transA == Transpose::Yes && transB == Transpose::No && K >= detail::kChunkMinK)
      return detail::gemm_by_k_chunks(C, A, B, M, N, K, alpha, beta);
    const int threads = get_num_threads();
    if (transA == Transpose::No && threads > 1 && M >= 2 * detail::kRowBlock)
      return detail::gemm_by_rows(C, A, B, M, N, K, transB, alpha, beta, threads);
  }
  detail::gemm_one_thread(C, A, B, M, N, K, transA, transB, alpha, beta);
}

}  // namespace kn::cpu

namespace kn::cuda {
void gemm(float* C, const float* A, const float* B, int M, int N, int K, Transpose transA, Transpose transB,
          float alpha, float beta, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::gemm), decltype(&kn::cuda::gemm)>,
              "kn::cuda::gemm must take kn::cpu::gemm's parameters, then int device");

namespace kn::ops {

inline void gemm(Device d, float* C, const float* A, const float* B, int M, int N, int K, Transpose transA,
                 Transpose transB, float alpha, float beta) {
  trace::Op t(d, "gemm", M, N, K);
  if (d.is_cpu()) return cpu::gemm(C, A, B, M, N, K, transA, transB, alpha, beta);
  if constexpr (detail::kWithCuda) cuda::gemm(C, A, B, M, N, K, transA, transB, alpha, beta, d.index);
  else detail::no_cuda("gemm", d);
}

}  // namespace kn::ops
