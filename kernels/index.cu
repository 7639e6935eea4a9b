// The indexing ops behind index_select, narrow, slice and t(): index_select, its
// backward index_add, and transpose. The contract is in <kernelnet/ops/index.hpp>.
// The byte-generic ops move elements as an unsigned type of their size.
#include <cstdint>

#include <kernelnet/ops/index.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

// One output element per thread over the flattened [outer, count, inner] grid-stride:
// out[o, k, i] = x[o, index[k], i]. Neighbouring threads copy neighbouring elements of
// one run of `inner`, so reads and writes both coalesce.
template <typename T>
__global__ void index_select_kernel(T* out, const T* x, const int64_t* index, int64_t outer, int64_t count,
                                    int64_t inner, int64_t size) {
  const int64_t n = outer * count * inner;
  for (int64_t e = detail::grid_start(); e < n; e += detail::grid_stride()) {
    const int64_t i = e % inner, t = e / inner;
    const int64_t k = t % count, o = t / count;
    out[e] = x[(o * size + index[k]) * inner + i];
  }
}

// index_add's first pass: dx = beta * dx over all of dx, one element per thread; beta
// == 0 writes zeros without reading dx, which may be uninitialised.
__global__ void index_add_scale_kernel(float* dx, int64_t n, float beta) {
  for (int64_t e = detail::grid_start(); e < n; e += detail::grid_stride()) dx[e] = beta == 0.0f ? 0.0f : beta * dx[e];
}

// index_add's second pass: one thread per (o, i) pair (grid-stride) owns the column
// dx[o, :, i] and adds dy[o, k, i] into dx[o, index[k], i] for k in order. No two
// threads write one element, so there are no atomics, and repeated indices accumulate
// in the order of k, as on the CPU. Neighbouring threads take neighbouring i.
__global__ void index_add_kernel(float* dx, const float* dy, const int64_t* index, int64_t outer, int64_t count,
                                 int64_t inner, int64_t size) {
  const int64_t n = outer * inner;
  for (int64_t e = detail::grid_start(); e < n; e += detail::grid_stride()) {
    const int64_t i = e % inner, o = e / inner;
    float* to = dx + o * size * inner + i;
    const float* from = dy + o * count * inner + i;
    for (int64_t k = 0; k < count; ++k) to[index[k] * inner] += from[k * inner];
  }
}

// A block transposes 32 x 32 tiles through shared memory: it reads a tile of x a row at
// a time (threadIdx.x along the columns, threadIdx.y striding the tile's rows) and writes
// it to y a row of y at a time, so both the reads and the writes coalesce. blockIdx.x
// picks the tile's columns; blockIdx.y strides over the tiles' rows.
constexpr int kTile = 32;
constexpr int kTileRows = 8;

template <typename T>
__global__ void transpose_kernel(T* y, const T* x, int64_t rows, int64_t cols) {
  __shared__ T tile[kTile][kTile + 1];  // +1: a column of the tile spans every bank
  const int64_t c0 = int64_t(blockIdx.x) * kTile;
  for (int64_t r0 = int64_t(blockIdx.y) * kTile; r0 < rows; r0 += int64_t(gridDim.y) * kTile) {
    for (int m = threadIdx.y; m < kTile; m += kTileRows) {
      const int64_t r = r0 + m, c = c0 + threadIdx.x;
      if (r < rows && c < cols) tile[m][threadIdx.x] = x[r * cols + c];
    }
    __syncthreads();
    for (int m = threadIdx.y; m < kTile; m += kTileRows) {
      const int64_t c = c0 + m, r = r0 + threadIdx.x;  // y[c, r] = x[r, c]
      if (r < rows && c < cols) y[c * rows + r] = tile[threadIdx.x][m];
    }
    __syncthreads();  // the tile is read before the next one overwrites it
  }
}

template <typename T>
void index_select_as(void* out, const void* x, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
                     int64_t size, int device) {
  KN_LAUNCH((index_select_kernel<T>), device, detail::grid_1d(outer * count * inner, device), detail::kThreads, 0,
            static_cast<T*>(out), static_cast<const T*>(x), index, outer, count, inner, size);
}

template <typename T>
void transpose_as(void* y, const void* x, int64_t rows, int64_t cols, int device) {
  // Every column of tiles gets its share of the blocks the device holds at once (at
  // least one, at most 65535); each block then loops over its rows of tiles.
  const int64_t col_tiles = (cols + kTile - 1) / kTile, row_tiles = (rows + kTile - 1) / kTile;
  int64_t per_column = detail::resident_blocks(device, kTile * kTileRows) / col_tiles;
  per_column = per_column < 1 ? 1 : per_column > 65535 ? 65535 : per_column;
  const dim3 grid(unsigned(col_tiles), unsigned(row_tiles < per_column ? row_tiles : per_column));
  KN_LAUNCH((transpose_kernel<T>), device, grid, dim3(kTile, kTileRows), 0, static_cast<T*>(y),
            static_cast<const T*>(x), rows, cols);
}

}  // namespace

void index_select(void* out, const void* x, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
                  int64_t size, int elem_bytes, int device) {
  if (outer <= 0 || count <= 0 || inner <= 0) return;
  switch (elem_bytes) {
    case 1: return index_select_as<uint8_t>(out, x, index, outer, count, inner, size, device);
    case 4: return index_select_as<uint32_t>(out, x, index, outer, count, inner, size, device);
    case 8: return index_select_as<uint64_t>(out, x, index, outer, count, inner, size, device);
  }
  throw Error(str("kn::cuda::index_select: elements of ", elem_bytes, " bytes (expected 1, 4 or 8)"));
}

void index_add(float* dx, const float* dy, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
               int64_t size, float beta, int device) {
  if (outer <= 0 || inner <= 0) return;
  const int64_t n = outer * (size > 0 ? size : 0) * inner;
  KN_LAUNCH(index_add_scale_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, dx, n, beta);
  if (count <= 0 || size <= 0) return;
  KN_LAUNCH(index_add_kernel, device, detail::grid_1d(outer * inner, device), detail::kThreads, 0, dx, dy, index,
            outer, count, inner, size);
}

void transpose(void* y, const void* x, int64_t rows, int64_t cols, int elem_bytes, int device) {
  if (rows <= 0 || cols <= 0) return;
  switch (elem_bytes) {
    case 1: return transpose_as<uint8_t>(y, x, rows, cols, device);
    case 4: return transpose_as<uint32_t>(y, x, rows, cols, device);
    case 8: return transpose_as<uint64_t>(y, x, rows, cols, device);
  }
  throw Error(str("kn::cuda::transpose: elements of ", elem_bytes, " bytes (expected 1, 4 or 8)"));
}

}  // namespace kn::cuda
