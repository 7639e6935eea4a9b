// kn-emu-one-block: one block of the tiled GEMM (kernels/gemm/03_smem_tiled.cuh) on the
// CPU harness, for a learner with a debugger (docs/kernels-on-cpu.md walks through it).
// C[32,32] = A[32,64] B[64,32]: one block of 32 x 32 threads, two tiles of k. A is
// A[m][k] = m + k / 100 and B the identity on its first 32 rows, so every value in the
// tiles says where it came from. Runs the block once, in thread order; prints C[2][3].
#include <cstdio>
#include <vector>

#include <kernelnet/cuda/gemm_variants.hpp>
#include <kernelnet/cuda/runtime.hpp>

#include "emu.hpp"

int main() {
  const int M = 32, N = 32, K = 64;
  std::vector<float> a(M * K), b(K * N, 0.0f), c(M * N);
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k) a[m * K + k] = float(m) + float(k) / 100.0f;
  for (int n = 0; n < N; ++n) b[n * N + n] = 1.0f;  // rows 32..63 of B stay 0
  kn_emu::options().orders = 1;
  auto* A = static_cast<float*>(kn::cuda::malloc(a.size() * sizeof(float), 0));
  auto* B = static_cast<float*>(kn::cuda::malloc(b.size() * sizeof(float), 0));
  auto* C = static_cast<float*>(kn::cuda::malloc(c.size() * sizeof(float), 0));
  kn::cuda::copy_to_device(A, a.data(), a.size() * sizeof(float), 0);
  kn::cuda::copy_to_device(B, b.data(), b.size() * sizeof(float), 0);
  kn::cuda::gemm_variant(3, C, A, B, M, N, K, kn::Transpose::No, kn::Transpose::No, 1.0f, 0.0f, 0);
  kn::cuda::copy_to_host(c.data(), C, c.size() * sizeof(float), 0);
  std::printf("C[2][3] = %g (A[2][3] = %g)\n", double(c[2 * N + 3]), double(a[2 * K + 3]));
  kn::cuda::free(A, 0);
  kn::cuda::free(B, 0);
  kn::cuda::free(C, 0);
  return c[2 * N + 3] == a[2 * K + 3] ? 0 : 1;
}
