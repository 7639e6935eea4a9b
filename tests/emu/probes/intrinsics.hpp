// Probe kernels (intrinsics.cu) that pin down the harness's warp intrinsics against
// CUDA's documented semantics (test_intrinsics.cpp): each writes, per thread, what an
// intrinsic returned. Device pointers on device 0.
#pragma once

namespace kn_emu_probes {

// out[t] = __shfl_sync(full, t, src_lane, width), for a block of 32 threads.
void shfl_idx(int* out, int src_lane, int width);
// out[t] = __shfl_up_sync / __shfl_down_sync / __shfl_xor_sync(full, t, delta, width).
void shfl_up(int* out, int delta, int width);
void shfl_down(int* out, int delta, int width);
void shfl_xor(int* out, int lane_mask, int width);
// out[3 t .. 3 t + 2] = __ballot_sync, __any_sync, __all_sync of (t % 3 == 0), full mask,
// and of (t < 16) over the half-warp mask 0x0000ffff for the lower lanes.
void votes(unsigned* out);
// Two half-warps that each sum their own 16 lanes with a half mask, in divergent
// branches, then meet at __syncwarp; out[t] is the half's sum.
void half_warp_sums(int* out);
// out[t] = __activemask() at the kernel's start, in a block of `threads`.
void active(unsigned* out, int threads);
// A barrier per loop trip, 3 trips, in a block of 96 threads: out[t] = the sum over the
// trips of the value thread (t + 1) % 96 wrote before the barrier.
void barrier_rounds(int* out);

}  // namespace kn_emu_probes
