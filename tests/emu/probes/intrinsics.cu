// Probe kernels for the harness's warp intrinsics (see intrinsics.hpp). CUDA as nvcc
// takes it, passed through the same seam as kernels/.
#include "intrinsics.hpp"

#include "common.cuh"

namespace kn_emu_probes {
namespace {

constexpr unsigned kFull = 0xffffffffu;

enum class Kind { Idx, Up, Down, Xor };

template <Kind kKind>
__global__ void shfl_kernel(int* out, int operand, int width) {
  const int v = int(threadIdx.x);
  int r = 0;
  if (kKind == Kind::Idx) r = __shfl_sync(kFull, v, operand, width);
  if (kKind == Kind::Up) r = __shfl_up_sync(kFull, v, unsigned(operand), width);
  if (kKind == Kind::Down) r = __shfl_down_sync(kFull, v, unsigned(operand), width);
  if (kKind == Kind::Xor) r = __shfl_xor_sync(kFull, v, operand, width);
  out[threadIdx.x] = r;
}

__global__ void votes_kernel(unsigned* out) {
  const int t = int(threadIdx.x);
  out[3 * t] = __ballot_sync(kFull, t % 3 == 0);
  out[3 * t + 1] = unsigned(__any_sync(kFull, t == 31));
  out[3 * t + 2] = t < 16 ? unsigned(__all_sync(0x0000ffffu, t < 16)) : 7u;
}

__global__ void half_warp_sums_kernel(int* out) {
  const int t = int(threadIdx.x);
  int v = t;
  if (t < 16) {
    for (int o = 1; o < 16; o *= 2) v += __shfl_xor_sync(0x0000ffffu, v, o);
  } else {
    for (int o = 8; o > 0; o /= 2) v += __shfl_down_sync(0xffff0000u, v, unsigned(o), 16);
    v = __shfl_sync(0xffff0000u, v, 16);
  }
  __syncwarp();
  out[t] = v;
}

__global__ void active_kernel(unsigned* out) { out[threadIdx.x] = __activemask(); }

__global__ void barrier_rounds_kernel(int* out) {
  __shared__ int slot[96];
  int total = 0;
  for (int trip = 0; trip < 3; ++trip) {
    slot[threadIdx.x] = int(threadIdx.x) * 10 + trip;
    __syncthreads();
    total += slot[(threadIdx.x + 1) % 96];
    __syncthreads();
  }
  out[threadIdx.x] = total;
}

}  // namespace

void shfl_idx(int* out, int src_lane, int width) {
  KN_LAUNCH(shfl_kernel<Kind::Idx>, 0, dim3(1), dim3(32), 0, out, src_lane, width);
}
void shfl_up(int* out, int delta, int width) {
  KN_LAUNCH(shfl_kernel<Kind::Up>, 0, dim3(1), dim3(32), 0, out, delta, width);
}
void shfl_down(int* out, int delta, int width) {
  KN_LAUNCH(shfl_kernel<Kind::Down>, 0, dim3(1), dim3(32), 0, out, delta, width);
}
void shfl_xor(int* out, int lane_mask, int width) {
  KN_LAUNCH(shfl_kernel<Kind::Xor>, 0, dim3(1), dim3(32), 0, out, lane_mask, width);
}
void votes(unsigned* out) { KN_LAUNCH(votes_kernel, 0, dim3(1), dim3(32), 0, out); }
void half_warp_sums(int* out) { KN_LAUNCH(half_warp_sums_kernel, 0, dim3(1), dim3(32), 0, out); }
void active(unsigned* out, int threads) { KN_LAUNCH(active_kernel, 0, dim3(1), dim3(threads), 0, out); }
void barrier_rounds(int* out) { KN_LAUNCH(barrier_rounds_kernel, 0, dim3(1), dim3(96), 0, out); }

}  // namespace kn_emu_probes
