// Bias add (broadcast over rows) and its gradient (a sum over rows per column): the
// contract is in <kernelnet/ops/bias.hpp>.
#include <kernelnet/ops/bias.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

// y is [rows, cols] flattened to n = rows * cols elements; b is [cols].
__global__ void bias_add_kernel(float* y, const float* b, int64_t n, int cols) {
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) y[i] += b[i % cols];
}

// A block sums a [rows_per_chunk, 32] tile of dy: threadIdx.x picks the column (so a
// warp reads 32 neighbouring floats of one row), threadIdx.y strides over the chunk's
// rows. The 8 partial sums per column are then added in a fixed order, so the result
// is the same on every run (atomics would not be).
// out is [gridDim.y, cols]: out[chunk, c] = beta * out[chunk, c] + sum over the chunk.
constexpr int kTileCols = 32;
constexpr int kTileRows = 8;

__global__ void bias_grad_columns_kernel(float* out, const float* dy, int rows, int cols,
                                         int rows_per_chunk, float beta) {
  __shared__ float partial[kTileRows][kTileCols + 1];  // +1: no bank conflicts on the column read
  const int c = blockIdx.x * kTileCols + threadIdx.x;
  const int64_t first = int64_t(blockIdx.y) * rows_per_chunk;
  const int64_t last = min(first + rows_per_chunk, int64_t(rows));
  float sum = 0.0f;
  if (c < cols)
    for (int64_t r = first + threadIdx.y; r < last; r += kTileRows) sum += dy[r * cols + c];
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float total = 0.0f;
    for (int k = 0; k < kTileRows; ++k) total += partial[k][threadIdx.x];
    float* o = out + int64_t(blockIdx.y) * cols + c;
    *o = beta == 0.0f ? total : beta * *o + total;  // beta == 0 does not read *o
  }
}

// db[c] = beta * db[c] + sum_k partial[k, c], k in order.
__global__ void bias_grad_finish_kernel(float* db, const float* partial, int chunks, int cols,
                                        float beta) {
  for (int64_t c = detail::grid_start(); c < cols; c += detail::grid_stride()) {
    float total = 0.0f;
    for (int k = 0; k < chunks; ++k) total += partial[int64_t(k) * cols + c];
    db[c] = beta == 0.0f ? total : beta * db[c] + total;
  }
}

}  // namespace

void bias_add(float* y, const float* b, int rows, int cols, int device) {
  const int64_t n = int64_t(rows) * cols;
  KN_LAUNCH(bias_add_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, y, b, n, cols);
}

void bias_grad(float* db, const float* dy, int rows, int cols, float beta, int device) {
  if (cols <= 0) return;
  rows = rows > 0 ? rows : 0;
  // Split the rows into chunks so that tall matrices (1e6 rows, 3 columns) still
  // fill the GPU: about 1024 blocks at most, and at least 256 rows per chunk so that
  // a small batch is one chunk written straight into db. The split depends only on
  // the shape, never on the device, so neither does the rounding.
  constexpr int kMaxBlocks = 1024, kMinRowsPerChunk = 256;
  const int col_tiles = int((int64_t(cols) + kTileCols - 1) / kTileCols);
  const int max_chunks = col_tiles >= kMaxBlocks ? 1 : kMaxBlocks / col_tiles;
  int rows_per_chunk = int((int64_t(rows) + max_chunks - 1) / max_chunks);
  if (rows_per_chunk < kMinRowsPerChunk) rows_per_chunk = kMinRowsPerChunk;
  const int chunks = rows == 0 ? 1 : int((int64_t(rows) + rows_per_chunk - 1) / rows_per_chunk);
  const dim3 block(kTileCols, kTileRows);
  if (chunks == 1) {
    KN_LAUNCH(bias_grad_columns_kernel, device, dim3(col_tiles, 1), block, 0, db, dy, rows, cols, rows_per_chunk,
              beta);
    return;
  }
  detail::Scratch<float> partial(size_t(chunks) * cols, device);
  KN_LAUNCH(bias_grad_columns_kernel, device, dim3(col_tiles, chunks), block, 0, partial.get(), dy, rows, cols,
            rows_per_chunk, 0.0f);
  KN_LAUNCH(bias_grad_finish_kernel, device, detail::grid_1d(cols, device), detail::kThreads, 0, db, partial.get(),
            chunks, cols, beta);
}

}  // namespace kn::cuda
