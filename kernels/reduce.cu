// The reductions behind sum, mean, max and min, and sum_i64: the contract is in
// <kernelnet/ops/reduce.hpp>. Every value is combined in an order fixed by the shape
// alone (never by the grid, the device or the block scheduling), with no atomics, so the
// results are the same bits on every run.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <kernelnet/ops/reduce.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

using detail::kWarpsPerBlock;

// The value that combining with changes nothing: 0 for a sum, the lowest value for a
// max, the highest for a min (each thread starts from it, so a thread or lane with no
// element takes no part).
template <typename T>
__device__ __forceinline__ T identity(ops::Reduce op) {
  if (op == ops::Reduce::Sum) return T(0);
  if constexpr (std::is_same_v<T, float>) return op == ops::Reduce::Max ? -INFINITY : INFINITY;
  else return op == ops::Reduce::Max ? INT64_MIN : INT64_MAX;
}

template <typename T>
__device__ __forceinline__ T combine(ops::Reduce op, T a, T b) {
  switch (op) {
    case ops::Reduce::Sum: return a + b;
    case ops::Reduce::Max: return b > a ? b : a;
    case ops::Reduce::Min: return b < a ? b : a;
  }
  return a;
}

// y = alpha * v + beta * y; beta == 0 does not read y, which may be uninitialised.
template <typename T>
__device__ __forceinline__ void store(T* y, T v, T alpha, T beta) {
  *y = beta == T(0) ? alpha * v : alpha * v + beta * *y;
}

// A butterfly over the warp, neighbours first (as detail::warp_sum): every lane ends
// with the warp's result, combined in the same order on every run.
template <typename T>
__device__ __forceinline__ T warp_combine(ops::Reduce op, T v) {
  for (int offset = 1; offset < detail::kWarp; offset *= 2) v = combine(op, v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Both dimensions kept: a scaled copy, one element per thread, grid-stride.
template <typename T>
__global__ void reduce_copy_kernel(T* y, const T* x, int64_t n, T alpha, T beta) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) store(y + i, x[i], alpha, beta);
}

// y[r] over each row: one warp per row (rows strided over the grid's warps), lanes
// strided over the columns, then a butterfly over the lanes.
template <typename T>
__global__ void reduce_rows_kernel(T* y, const T* x, int64_t rows, int64_t cols, ops::Reduce op, T alpha, T beta) {
  const int lane = threadIdx.x % detail::kWarp;
  const int warp = threadIdx.x / detail::kWarp;
  for (int64_t r = int64_t(blockIdx.x) * kWarpsPerBlock + warp; r < rows;
       r += int64_t(gridDim.x) * kWarpsPerBlock) {
    const T* row = x + r * cols;
    T acc = identity<T>(op);
    for (int64_t c = lane; c < cols; c += detail::kWarp) acc = combine(op, acc, row[c]);
    acc = warp_combine(op, acc);
    if (lane == 0) store(y + r, acc, alpha, beta);
  }
}

// y[c] over each column: one thread per column (grid-stride), adding the rows in order;
// neighbouring threads read neighbouring columns of a row, so the reads coalesce.
template <typename T>
__global__ void reduce_cols_kernel(T* y, const T* x, int64_t rows, int64_t cols, ops::Reduce op, T alpha, T beta) {
  for (int64_t c = detail::grid_start(); c < cols; c += detail::grid_stride()) {
    T acc = identity<T>(op);
    for (int64_t r = 0; r < rows; ++r) acc = combine(op, acc, x[r * cols + c]);
    store(y + c, acc, alpha, beta);
  }
}

// y[0] over all n elements: one block, each thread striding over the elements, then a
// tree over the block's threads in shared memory (halves, in a fixed order).
template <typename T>
__global__ void reduce_all_kernel(T* y, const T* x, int64_t n, ops::Reduce op, T alpha, T beta) {
  __shared__ T partial[detail::kThreads];
  T acc = identity<T>(op);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc = combine(op, acc, x[i]);
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) partial[threadIdx.x] = combine(op, partial[threadIdx.x], partial[threadIdx.x + half]);
    __syncthreads();
  }
  if (threadIdx.x == 0) store(y, partial[0], alpha, beta);
}

template <typename T>
void reduce_any(T* y, const T* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols, ops::Reduce op,
                T alpha, T beta, int device) {
  rows = rows > 0 ? rows : 0;
  cols = cols > 0 ? cols : 0;
  // Over nothing, the result is 0 whatever the op (max and min need an element; the CPU
  // twin gives 0 too): a sum starts from 0.
  const int64_t covered = (keep_rows ? 1 : rows) * (keep_cols ? 1 : cols);
  if (covered == 0) op = ops::Reduce::Sum;
  if (keep_rows && keep_cols) {
    const int64_t n = rows * cols;
    KN_LAUNCH((reduce_copy_kernel<T>), device, detail::grid_1d(n, device), detail::kThreads, 0, y, x, n, alpha,
              beta);
  } else if (keep_rows) {
    if (rows == 0) return;
    const dim3 grid = detail::grid_rows(rows, detail::resident_blocks(device, detail::kThreads));
    KN_LAUNCH((reduce_rows_kernel<T>), device, grid, detail::kThreads, 0, y, x, rows, cols, op, alpha, beta);
  } else if (keep_cols) {
    KN_LAUNCH((reduce_cols_kernel<T>), device, detail::grid_1d(cols, device), detail::kThreads, 0, y, x, rows, cols,
              op, alpha, beta);
  } else {
    // Launched even for an empty x: y[0] is always written.
    KN_LAUNCH((reduce_all_kernel<T>), device, dim3(1), detail::kThreads, 0, y, x, rows * cols, op, alpha, beta);
  }
}

}  // namespace

void reduce(float* y, const float* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols, ops::Reduce op,
            float alpha, float beta, int device) {
  reduce_any(y, x, rows, cols, keep_rows, keep_cols, op, alpha, beta, device);
}

void sum_i64(int64_t* y, const int64_t* x, int64_t rows, int64_t cols, bool keep_rows, bool keep_cols, int device) {
  reduce_any(y, x, rows, cols, keep_rows, keep_cols, ops::Reduce::Sum, int64_t(1), int64_t(0), device);
}

}  // namespace kn::cuda
