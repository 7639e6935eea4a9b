// Kernels with a planted defect (defects.cu), each a copy of a small kernel of kernels/
// with one line broken, and the harness's self-checks that it reports each one:
// test_defects.cpp for what the harness itself finds, crash_main.cpp for what the
// sanitizers find. Plain C++ declarations; pointers are device pointers on device 0.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kn_emu_defects {

// kernels/gemm/03_smem_tiled.cuh (8 x 8 tiles, no transposes) without the
// __syncthreads() that keeps the next tile's loads from overwriting the one still read.
void gemm_tiled_missing_sync(float* C, const float* A, const float* B, int M, int N, int K);
// The same kernel, intact: the control, which must pass.
void gemm_tiled(float* C, const float* A, const float* B, int M, int N, int K);
// kernels/bias.cu's bias_grad_columns_kernel with every thread of a row writing one
// shared slot: partial[threadIdx.y][0] instead of [threadIdx.y][threadIdx.x].
void column_sums_one_slot(float* out, const float* x, int rows, int cols);
// common.cuh's warp_sum, full mask, in a block of `threads` (not a multiple of 32).
void warp_sums_full_mask(float* out, const float* x, int threads);
// A warp_sum whose lane 5 leaves itself out of the mask.
void warp_sums_lane_left_out(float* out, const float* x);
// A __syncthreads() only the first 16 threads of a 64-thread block reach.
void barrier_in_branch(float* out);
// A shuffle whose source lane is not in the (half-warp) mask.
void shuffle_from_outside_mask(float* out, const float* x);

// A kernel that stages x[0, n) in dynamic shared memory and writes its sum to out[0],
// launched with `bytes` of it and without cudaFuncSetAttribute.
void dynamic_shared_sum(float* out, const float* x, int n, std::size_t bytes);

// For crash_main.cpp: each of these makes an access the sanitizers report.
// kernels/relu.cu's relu_forward_kernel without its bounds guard (i < n).
void relu_missing_guard(float* y, const float* x, int64_t n);
// kernels/bias.cu's bias_grad_columns_kernel with the tile's row index off by one.
void column_sums_shared_overflow(float* out, const float* x, int rows, int cols);
// A float4 load from an address 4 bytes past a 16-byte boundary.
void misaligned_float4_load(float* out, const float* x);

}  // namespace kn_emu_defects
