// Mean squared error: the mean loss and its gradient in one pass, then the backward that
// scales the gradient by dloss. The contract is in <kernelnet/ops/mse.hpp>.
#include <kernelnet/ops/mse.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

// The grid depends on n only, never on the device, so the order in which the squares are
// added, and so the loss's last bit, is the same on every GPU and every run.
constexpr int kMaxBlocks = 1024;

// Grid-stride over the elements: each thread sums its squares in double (and writes the
// gradient when dpred is not null), then the block adds its threads' sums in a fixed tree
// into partial[blockIdx.x]; mse_finish_kernel adds the blocks.
__global__ void mse_partial_kernel(double* partial, float* dpred, const float* pred, const float* target, int64_t n,
                                   float norm) {
  double sum = 0.0;
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const float d = pred[i] - target[i];
    const float square = d * d;  // rounded to float, as the CPU twin and PyTorch do
    sum += double(square);
    if (dpred) dpred[i] = norm * d;
  }
  __shared__ double sums[detail::kThreads];
  const double block = detail::block_sum(sum, sums);
  if (threadIdx.x == 0) partial[blockIdx.x] = block;
}

// One block adds the per-block sums in a fixed tree and writes the mean. n == 0 launches
// no partial kernel (blocks == 0) and gives 0 / 0 = NaN, as the CPU twin does.
__global__ void mse_finish_kernel(float* loss, const double* partial, int blocks, int64_t n) {
  __shared__ double sums[detail::kThreads];
  const double total = detail::block_sum_of(partial, blocks, sums);
  if (threadIdx.x == 0) loss[0] = float(total / double(n));
}

// dloss is read on the device: the backward never waits for the host to learn it.
__global__ void mse_backward_kernel(float* dx, const float* dpred, const float* dloss, int64_t n, float sign,
                                    float beta) {
  const float g = dloss[0];
  for (int64_t i = detail::grid_start(); i < n; i += detail::grid_stride()) {
    const float v = sign * (dpred[i] * g);
    dx[i] = beta == 0.0f ? v : beta * dx[i] + v;  // beta == 0 does not read dx
  }
}

}  // namespace

void mse_forward(float* loss, float* dpred, const float* pred, const float* target, int64_t n, int device) {
  n = n > 0 ? n : 0;
  const int64_t needed = (n + detail::kThreads - 1) / detail::kThreads;
  const int blocks = int(needed < kMaxBlocks ? needed : kMaxBlocks);
  const float norm = float(2.0 / double(n));
  detail::Scratch<double> partial(std::size_t(blocks), device);
  KN_LAUNCH(mse_partial_kernel, device, dim3(unsigned(blocks)), detail::kThreads, 0, partial.get(), dpred, pred,
            target, n, norm);
  // Launched even for n == 0, so that loss[0] is always written.
  KN_LAUNCH(mse_finish_kernel, device, dim3(1), detail::kThreads, 0, loss, partial.get(), blocks, n);
}

void mse_backward(float* dx, const float* dpred, const float* dloss, int64_t n, float sign, float beta, int device) {
  KN_LAUNCH(mse_backward_kernel, device, detail::grid_1d(n, device), detail::kThreads, 0, dx, dpred, dloss, n, sign,
            beta);
}

}  // namespace kn::cuda
