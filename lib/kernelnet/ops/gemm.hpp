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
#include <cstdint>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/cpu/gemm_narrow.hpp>
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

// The CPU backend: outputs at most 16 wide go to the tuned register panel
// (<kernelnet/cpu/gemm_narrow.hpp>), everything else to Eigen's product.
inline void gemm(float* C, const float* A, const float* B, int M, int N, int K, Transpose transA, Transpose transB,
                 float alpha, float beta) {
  if (M == 0 || N == 0) return;
  if (K > 0 && N <= detail::kPanelMaxN)
    return detail::gemm_narrow(C, A, B, M, N, K, transA == Transpose::Yes, transB == Transpose::Yes, alpha, beta);
  trace::cpu_path("Eigen product");
  gemm_eigen(C, A, B, M, N, K, transA, transB, alpha, beta);
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
