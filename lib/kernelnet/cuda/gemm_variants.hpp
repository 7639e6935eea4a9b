// The GEMM kernel series of kernels/gemm/, runnable one by one: for the tests, the
// benchmark, and anyone following docs/gemm.md. Plain C++; defined in kernels/gemm.cu.
//
// Every variant computes what kn::cuda::gemm computes (the contract is in
// <kernelnet/ops/gemm.hpp>): C[M,N] = alpha * op(A) op(B) + beta * C, row-major, device
// pointers on `device`, queued on its stream, for any M, N, K >= 0, either transpose and
// any alpha, beta (beta == 0 never reads C). Variant 0 is kn::cuda::gemm itself, which picks one of the kernels for
// each shape (gemm_kernel_for says which); variants 1..8 run the kernel of
// kernels/gemm/01_naive.cuh .. 08_tiny.cuh on every shape.
#pragma once
#include <kernelnet/error.hpp>
#include <kernelnet/ops/gemm.hpp>

namespace kn::cuda {

#if KN_WITH_CUDA
int gemm_variant_count();              // 9: variant 0 and the kernels 1..8
const char* gemm_variant_name(int v);  // "0_library", "01_naive", ..., "08_tiny"
void gemm_variant(int v, float* C, const float* A, const float* B, int M, int N, int K, Transpose transA,
                  Transpose transB, float alpha, float beta, int device);

// The kernel (and configuration) kn::cuda::gemm runs for an M x N x K product on
// `device`: "08_tiny", "07_warptile" (128 x 128 tiles) or "07_warptile 64x64".
const char* gemm_kernel_for(int M, int N, int K, int device);
#else
// Built without CUDA: no variants to run.
inline int gemm_variant_count() { return 0; }
inline const char* gemm_variant_name(int v) {
  throw Error(str("gemm_variant_name(", v, "): kernelnet was built without CUDA"));
}
inline void gemm_variant(int v, float*, const float*, const float*, int, int, int, Transpose, Transpose, float,
                         float, int) {
  throw Error(str("gemm_variant(", v, "): kernelnet was built without CUDA"));
}
inline const char* gemm_kernel_for(int, int, int, int) {
  throw Error("gemm_kernel_for: kernelnet was built without CUDA");
}
#endif

}  // namespace kn::cuda
