// Planted defects for the harness's self-checks (see defects.hpp). Each broken line is
// marked `// planted: <case>`; tests/emu/expect_report.cmake finds the crash cases' lines
// by that mark and expects the sanitizer's report to name them.
#include "defects.hpp"

#include "common.cuh"

namespace kn_emu_defects {
namespace {

using kn::cuda::detail::kWarp;

constexpr int kTile = 8;

template <bool kSyncBeforeNextTile>
__global__ void gemm_tiled_kernel(float* C, const float* A, const float* B, int M, int N, int K) {
  __shared__ float As[kTile][kTile + 1];
  __shared__ float Bs[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m0 = blockIdx.x * kTile, n0 = blockIdx.y * kTile;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    As[ty][tx] = (m0 + ty < M && k0 + tx < K) ? A[int64_t(m0 + ty) * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && n0 + tx < N) ? B[int64_t(k0 + ty) * N + n0 + tx] : 0.0f;
    __syncthreads();
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    if (kSyncBeforeNextTile) __syncthreads();  // planted: missing_sync (when false)
  }
  if (m0 + ty < M && n0 + tx < N) C[int64_t(m0 + ty) * N + n0 + tx] = acc;
}

constexpr int kTileCols = 32, kTileRows = 8;

template <bool kOneSlot, bool kOffByOne>
__global__ void column_sums_kernel(float* out, const float* x, int rows, int cols) {
  __shared__ float partial[kTileRows][kTileCols + 1];
  const int c = blockIdx.x * kTileCols + threadIdx.x;
  float sum = 0.0f;
  if (c < cols)
    for (int r = threadIdx.y; r < rows; r += kTileRows) sum += x[int64_t(r) * cols + c];
  if (kOneSlot) partial[threadIdx.y][0] = sum;  // planted: one_slot
  else if (kOffByOne) partial[threadIdx.y + 1][threadIdx.x] = sum;  // planted: shared_overflow
  else partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float total = 0.0f;
    for (int k = 0; k < kTileRows; ++k) total += partial[k][kOneSlot ? 0 : threadIdx.x];
    out[c] = total;
  }
}

__global__ void warp_sums_kernel(float* out, const float* x, unsigned mask, int left_out_lane) {
  float v = x[threadIdx.x];
  if (int(threadIdx.x % kWarp) == left_out_lane) mask &= ~(1u << left_out_lane);  // planted: lane_left_out
  for (int offset = 1; offset < kWarp; offset *= 2) v += __shfl_xor_sync(mask, v, offset);  // planted: full_mask
  out[threadIdx.x] = v;
}

__global__ void barrier_in_branch_kernel(float* out) {
  __shared__ float s[64];
  s[threadIdx.x] = float(threadIdx.x);
  if (threadIdx.x < 16) __syncthreads();  // planted: divergent_barrier
  out[threadIdx.x] = s[63 - threadIdx.x];
}

__global__ void shuffle_from_outside_mask_kernel(float* out, const float* x) {
  // Lanes 0-15 shuffle among themselves, but each reads lane + 16 (lane ^ 16).
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, x[threadIdx.x], 16);  // planted: outside_mask
}

__global__ void relu_missing_guard_kernel(float* y, const float* x, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  y[i] = x[i] > 0.0f ? x[i] : 0.0f;  // planted: global_overflow
}

__global__ void dynamic_shared_sum_kernel(float* out, const float* x, int n) {
  extern __shared__ float staged[];
  for (int i = threadIdx.x; i < n; i += blockDim.x) staged[i] = x[i];  // planted: dynamic_shared_overflow
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int i = 0; i < n; ++i) total += staged[i];
    out[0] = total;
  }
}

__global__ void misaligned_float4_kernel(float* out, const float* x) {
  const float4 v = *reinterpret_cast<const float4*>(x + 1);  // planted: misaligned_float4
  out[threadIdx.x] = v.x + v.y + v.z + v.w;
}

}  // namespace

void gemm_tiled_missing_sync(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid((M + kTile - 1) / kTile, (N + kTile - 1) / kTile), block(kTile, kTile);
  KN_LAUNCH(gemm_tiled_kernel<false>, 0, grid, block, 0, C, A, B, M, N, K);
}
void gemm_tiled(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid((M + kTile - 1) / kTile, (N + kTile - 1) / kTile), block(kTile, kTile);
  KN_LAUNCH(gemm_tiled_kernel<true>, 0, grid, block, 0, C, A, B, M, N, K);
}
void column_sums_one_slot(float* out, const float* x, int rows, int cols) {
  KN_LAUNCH((column_sums_kernel<true, false>), 0, dim3((cols + kTileCols - 1) / kTileCols), dim3(kTileCols, kTileRows),
            0, out, x, rows, cols);
}
void column_sums_shared_overflow(float* out, const float* x, int rows, int cols) {
  KN_LAUNCH((column_sums_kernel<false, true>), 0, dim3((cols + kTileCols - 1) / kTileCols), dim3(kTileCols, kTileRows),
            0, out, x, rows, cols);
}
void warp_sums_full_mask(float* out, const float* x, int threads) {
  KN_LAUNCH(warp_sums_kernel, 0, dim3(1), dim3(threads), 0, out, x, 0xffffffffu, -1);
}
void warp_sums_lane_left_out(float* out, const float* x) {
  KN_LAUNCH(warp_sums_kernel, 0, dim3(1), dim3(32), 0, out, x, 0xffffffffu, 5);
}
void barrier_in_branch(float* out) { KN_LAUNCH(barrier_in_branch_kernel, 0, dim3(1), dim3(64), 0, out); }
void shuffle_from_outside_mask(float* out, const float* x) {
  KN_LAUNCH(shuffle_from_outside_mask_kernel, 0, dim3(1), dim3(32), 0, out, x);
}
void relu_missing_guard(float* y, const float* x, int64_t n) {
  KN_LAUNCH(relu_missing_guard_kernel, 0, dim3(unsigned((n + 255) / 256)), dim3(256), 0, y, x, n);
}
void dynamic_shared_sum(float* out, const float* x, int n, std::size_t bytes) {
  KN_LAUNCH(dynamic_shared_sum_kernel, 0, dim3(1), dim3(64), bytes, out, x, n);
}
void misaligned_float4_load(float* out, const float* x) {
  KN_LAUNCH(misaligned_float4_kernel, 0, dim3(1), dim3(1), 0, out, x);
}

}  // namespace kn_emu_defects
