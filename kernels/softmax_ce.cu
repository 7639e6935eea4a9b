// Softmax cross-entropy: the mean loss over rows and the gradient of that mean with
// respect to the logits, in one pass; then the backward that scales it by dloss. The
// contract is in <kernelnet/ops/softmax_ce.hpp>.
#include <cmath>

#include <kernelnet/ops/softmax_ce.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

using detail::kWarpsPerBlock;
// The grid never depends on the device, so the order in which row losses are added,
// and so the loss's last bit, is the same on every GPU and every run.
constexpr int kMaxBlocks = 1024;

// One warp per row (rows strided over the grid's warps): lanes stride the classes, a
// row of a few thousand classes stays in cache across the three passes (max, sum of
// exponentials, gradient). Row losses are summed in double, per warp then per block,
// into partial[blockIdx.x]; softmax_ce_finish_kernel adds the blocks.
// A label outside [0, classes) makes the row's loss and gradient NaN, which then
// reaches the mean: a bad label cannot train silently.
__global__ void softmax_ce_rows_kernel(double* partial, float* dlogits, const float* logits,
                                       const int64_t* labels, int rows, int classes) {
  const int lane = threadIdx.x % detail::kWarp;
  const int warp = threadIdx.x / detail::kWarp;
  const float inv_rows = 1.0f / float(rows);
  double warp_loss = 0.0;
  for (int64_t r = int64_t(blockIdx.x) * kWarpsPerBlock + warp; r < rows;
       r += int64_t(gridDim.x) * kWarpsPerBlock) {
    const float* x = logits + r * classes;
    float* d = dlogits + r * classes;
    float m = -INFINITY;
    for (int c = lane; c < classes; c += detail::kWarp) m = fmaxf(m, x[c]);
    m = detail::warp_max(m);
    float sum = 0.0f;
    for (int c = lane; c < classes; c += detail::kWarp) sum += expf(x[c] - m);
    sum = detail::warp_sum(sum);
    const int64_t label = labels[r];
    const bool valid = label >= 0 && label < classes;
    const float inv_sum = 1.0f / sum;
    // Same arithmetic as the CPU twin: p / rows, then minus 1 / rows at the label.
    for (int c = lane; c < classes; c += detail::kWarp) {
      float g = expf(x[c] - m) * inv_sum * inv_rows;
      if (c == label) g -= inv_rows;
      d[c] = valid ? g : NAN;
    }
    if (lane == 0) warp_loss += valid ? double(logf(sum) + m - x[label]) : double(NAN);
  }
  __shared__ double block_loss[kWarpsPerBlock];
  if (lane == 0) block_loss[warp] = warp_loss;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int w = 0; w < kWarpsPerBlock; ++w) total += block_loss[w];
    partial[blockIdx.x] = total;
  }
}

// One block adds the per-block sums in a fixed tree and writes the mean. rows == 0
// gives 0 / 0 = NaN, as the CPU twin does.
__global__ void softmax_ce_finish_kernel(float* loss, const double* partial, int blocks, int rows) {
  __shared__ double sums[detail::kThreads];
  const double total = detail::block_sum_of(partial, blocks, sums);
  if (threadIdx.x == 0) loss[0] = float(total / double(rows));
}

// dloss is read on the device: the backward never waits for the host to learn it.
__global__ void softmax_ce_backward_kernel(float* dx, const float* dlogits, const float* dloss,
                                           int64_t n, float beta) {
  const float scale = dloss[0];
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const float g = scale * dlogits[i];
    dx[i] = beta == 0.0f ? g : beta * dx[i] + g;  // beta == 0 does not read dx
  }
}

}  // namespace

void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                        int classes, int device) {
  rows = rows > 0 ? rows : 0;
  const dim3 grid = detail::grid_rows(rows, kMaxBlocks);
  const int blocks = int(grid.x);
  detail::Scratch<double> partial(blocks, device);
  KN_LAUNCH(softmax_ce_rows_kernel, device, grid, detail::kThreads, 0, partial.get(), dlogits, logits, labels, rows,
            classes);
  // Launched even for rows == 0, so that loss[0] is always written.
  KN_LAUNCH(softmax_ce_finish_kernel, device, dim3(1), detail::kThreads, 0, loss, partial.get(), blocks, rows);
}

void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n, float beta, int device) {
  KN_LAUNCH(softmax_ce_backward_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, dx, dlogits, dloss,
            n, beta);
}

}  // namespace kn::cuda
