// kn::cuda::gemm (contract: <kernelnet/ops/gemm.hpp>) and the registry of the GEMM kernel
// series (kernels/gemm/).
//
// The kernels do the maths; this file holds each one's launch geometry (one struct per
// variant, in the order of the series), the table that runs any of them by number
// (<kernelnet/cuda/gemm_variants.hpp>), and the choice the library makes per shape.
// Every kernel takes any M, N, K and both transposes (template flags: four
// instantiations each, one picked here), so the launcher never copies or transposes.
#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>

#include <kernelnet/cuda/gemm_variants.hpp>
#include <kernelnet/ops/gemm.hpp>

#include "common.cuh"
#include "gemm/01_naive.cuh"
#include "gemm/02_coalesced.cuh"
#include "gemm/03_smem_tiled.cuh"
#include "gemm/04_blocktile_1d.cuh"
#include "gemm/05_blocktile_2d.cuh"
#include "gemm/06_vectorized.cuh"
#include "gemm/07_warptile.cuh"
#include "gemm/08_tiny.cuh"

namespace kn::cuda {
namespace {

// Kernel names stay short in launch errors and the kernel trace.
using namespace gemm_kernels;

// One product, as every kernel of the series takes it: (C, A, B, M, N, K, alpha, beta),
// launched on `device`.
struct Problem {
  float* C;
  const float* A;
  const float* B;
  int M, N, K;
  float alpha, beta;
  int device;
};

// grid.y (and z) stop at 65535; x goes to 2^31 - 1.
dim3 grid_2d(int64_t x, int64_t y) {
  KN_CHECK(x <= INT_MAX && y <= 65535, "kn::cuda::gemm: a grid of ", x, " x ", y,
           " blocks is past the device's limits (x < 2^31, y <= 65535)");
  return dim3(unsigned(x), unsigned(y));
}

// ---- Each variant's launch geometry -------------------------------------------------
// Every kernel takes (C, A, B, M, N, K, alpha, beta); only the grid and block differ.

template <bool TA, bool TB>
struct Naive {  // 01: a thread per output, threadIdx.x down the rows of C
  static void run(const Problem& p) {
    const dim3 grid = grid_2d(ceil_div(p.M, 32), ceil_div(p.N, 32)), block(32, 32);
    KN_LAUNCH((sgemm_naive<TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N, p.K, p.alpha, p.beta);
  }
};

template <bool TA, bool TB>
struct Coalesced {  // 02: a thread per output, threadIdx.x along the rows of C
  static void run(const Problem& p) {
    const dim3 grid = grid_2d(ceil_div(p.N, 32), ceil_div(p.M, 32)), block(32, 32);
    KN_LAUNCH((sgemm_coalesced<TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N, p.K, p.alpha, p.beta);
  }
};

template <bool TA, bool TB>
struct SmemTiled {  // 03: 32 x 32 tiles through shared memory
  static void run(const Problem& p) {
    constexpr int T = 32;
    const dim3 grid = grid_2d(ceil_div(p.M, T), ceil_div(p.N, T)), block(T, T);
    KN_LAUNCH((sgemm_smem_tiled<T, TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N, p.K, p.alpha,
              p.beta);
  }
};

template <bool TA, bool TB>
struct Blocktile1d {  // 04: 64 x 64 x 8 tiles, 8 outputs per thread, 512 threads
  static void run(const Problem& p) {
    constexpr int BM = 64, BN = 64, BK = 8, TM = 8;
    const dim3 grid = grid_2d(ceil_div(p.M, BM), ceil_div(p.N, BN)), block(BM * BN / TM);
    KN_LAUNCH((sgemm_blocktile_1d<BM, BN, BK, TM, TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N, p.K,
              p.alpha, p.beta);
  }
};

template <bool TA, bool TB>
struct Blocktile2d {  // 05: 128 x 128 x 8 tiles, 8 x 8 outputs per thread, 256 threads
  static void run(const Problem& p) {
    constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
    const dim3 grid = grid_2d(ceil_div(p.M, BM), ceil_div(p.N, BN)), block(BM * BN / (TM * TN));
    KN_LAUNCH((sgemm_blocktile_2d<BM, BN, BK, TM, TN, TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N,
              p.K, p.alpha, p.beta);
  }
};

template <bool TA, bool TB>
struct Vectorized {  // 06: as 05, with float4 global and shared-memory accesses
  static void run(const Problem& p) {
    constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
    const dim3 grid = grid_2d(ceil_div(p.M, BM), ceil_div(p.N, BN)), block(BM * BN / (TM * TN));
    KN_LAUNCH((sgemm_vectorized<BM, BN, BK, TM, TN, TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N,
              p.K, p.alpha, p.beta);
  }
};

// 07 in its two configurations. Large: 128 x 128 x 16 block tile, four 64 x 64 warp
// tiles, 8 x 16 outputs per thread. Small: 64 x 64 x 16, four 32 x 32 warp tiles,
// 4 x 8 per thread: four times the blocks, for products whose 128 x 128 tiles would
// leave SMs idle.
template <bool TA, bool TB>
struct Warptile128 {
  static void run(const Problem& p) {
    const dim3 grid = grid_2d(ceil_div(p.M, 128), ceil_div(p.N, 128)), block(128);
    KN_LAUNCH((sgemm_warptile<128, 128, 16, 64, 64, 4, 8, 4, 128, TA, TB>), p.device, grid, block, 0, p.C, p.A,
              p.B, p.M, p.N, p.K, p.alpha, p.beta);
  }
};
template <bool TA, bool TB>
struct Warptile64 {
  static void run(const Problem& p) {
    const dim3 grid = grid_2d(ceil_div(p.M, 64), ceil_div(p.N, 64)), block(128);
    KN_LAUNCH((sgemm_warptile<64, 64, 16, 32, 32, 2, 4, 4, 128, TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B,
              p.M, p.N, p.K, p.alpha, p.beta);
  }
};

template <bool TA, bool TB>
struct Tiny {  // 08: G lanes per output, 128-thread blocks
  static void run(const Problem& p) {
    const int64_t threads = int64_t(p.M) * p.N * tiny_group(p.K);
    const dim3 grid = grid_2d((threads + 127) / 128, 1), block(128);
    KN_LAUNCH((sgemm_tiny<TA, TB>), p.device, grid, block, 0, p.C, p.A, p.B, p.M, p.N, p.K, p.alpha, p.beta);
  }
};

// ---- The registry ---------------------------------------------------------------

using Runner = void (*)(const Problem&);
struct Kernel {
  const char* name;
  Runner run[4];  // [transA * 2 + transB]
};
template <template <bool, bool> class V>
constexpr Kernel kernel(const char* name) {
  return {name,
          {V<false, false>::run, V<false, true>::run, V<true, false>::run, V<true, true>::run}};
}

const std::array<Kernel, 8> kSeries = {
    kernel<Naive>("01_naive"),
    kernel<Coalesced>("02_coalesced"),
    kernel<SmemTiled>("03_smem_tiled"),
    kernel<Blocktile1d>("04_blocktile_1d"),
    kernel<Blocktile2d>("05_blocktile_2d"),
    kernel<Vectorized>("06_vectorized"),
    kernel<Warptile128>("07_warptile"),
    kernel<Tiny>("08_tiny"),
};
const Kernel kWarptile64 = kernel<Warptile64>("07_warptile 64x64");

// ---- What the library runs for each shape ---------------------------------------

// The shape classes (thresholds are first guesses, pending measurements on the H200;
// see docs/gemm.md):
//  - tiny: up to 64^3 multiply-adds (everything an Iris-sized MLP does: 120x10x4,
//    10x4x120, ...), or an output fewer than 16 wide with K <= 64 (the same MLP on a big
//    batch). Tiles would be mostly empty; 08 spreads the few outputs over many threads.
//  - otherwise 07, with 128 x 128 tiles when they give every SM at least one block,
//    else with 64 x 64 tiles (four times as many blocks).
const Kernel& library_kernel(int M, int N, int K, int device) {
  const int64_t work = int64_t(M) * N * K;
  if (work <= int64_t(64) * 64 * 64 || (std::min(M, N) < 16 && K <= 64)) return kSeries[7];
  const int64_t big_tiles = int64_t(ceil_div(M, 128)) * ceil_div(N, 128);
  if (big_tiles < detail::sm_count(device)) return kWarptile64;
  return kSeries[6];
}

void check_sizes(const char* who, int M, int N, int K) {
  KN_CHECK(M >= 0 && N >= 0 && K >= 0, who, ": sizes must be >= 0, got M=", M, " N=", N, " K=", K);
}

// The instantiation for the two transposes.
int which(Transpose transA, Transpose transB) {
  return (transA == Transpose::Yes ? 2 : 0) + (transB == Transpose::Yes ? 1 : 0);
}

}  // namespace

void gemm(float* C, const float* A, const float* B, int M, int N, int K, Transpose transA, Transpose transB,
          float alpha, float beta, int device) {
  check_sizes("kn::cuda::gemm", M, N, K);
  if (M == 0 || N == 0) return;  // nothing to write
  const Problem p{C, A, B, M, N, K, alpha, beta, device};
  library_kernel(M, N, K, device).run[which(transA, transB)](p);
}

int gemm_variant_count() { return int(kSeries.size()) + 1; }

const char* gemm_variant_name(int v) {
  KN_CHECK(v >= 0 && v < gemm_variant_count(), "gemm_variant_name: no variant ", v, " (0..",
           gemm_variant_count() - 1, ")");
  return v == 0 ? "0_library" : kSeries[v - 1].name;
}

void gemm_variant(int v, float* C, const float* A, const float* B, int M, int N, int K, Transpose transA,
                  Transpose transB, float alpha, float beta, int device) {
  KN_CHECK(v >= 0 && v < gemm_variant_count(), "gemm_variant: no variant ", v, " (0..",
           gemm_variant_count() - 1, ")");
  if (v == 0) return gemm(C, A, B, M, N, K, transA, transB, alpha, beta, device);
  check_sizes(kSeries[v - 1].name, M, N, K);
  if (M == 0 || N == 0) return;
  const Problem p{C, A, B, M, N, K, alpha, beta, device};
  kSeries[v - 1].run[which(transA, transB)](p);
}

const char* gemm_kernel_for(int M, int N, int K, int device) {
  check_sizes("gemm_kernel_for", M, N, K);
  return library_kernel(M, N, K, device).name;
}

}  // namespace kn::cuda
