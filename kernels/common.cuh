// What every kernels/*.cu file shares: the device's stream, the one launch helper, the
// 1-D and row-per-warp grids, and warp reductions.
//
// Conventions for the kernels: row-major tensors; a `__global__ <op>_kernel` does the
// maths, the host function named after the op (kn::cuda::<op>, declared in
// <kernelnet/ops/<op>.hpp>) picks the grid and launches it through KN_LAUNCH on the
// device it is given (its last parameter); kernel parameters are outputs, inputs, sizes;
// gradients are named d<name>. Element counts that can pass 2^31 are int64_t and so is
// every index computed from them. The error check, KN_CUDA_CHECK, is public
// (<kernelnet/cuda/runtime.hpp>).
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>

#include <cuda_runtime.h>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>
#include <kernelnet/trace/sink.hpp>

#include "trace.cuh"

namespace kn::cuda::detail {

// The device's one non-blocking stream, created on first use (kn::cuda::stream is the
// same, as a void*). Throws kn::Error naming the device when it does not exist.
cudaStream_t stream(int device);
// Streaming multiprocessors, and blocks of `threads` the device keeps resident at once
// (the cap for grid-stride grids): asked once per device, at its first use.
int sm_count(int device);
int resident_blocks(int device, int threads);

// Makes `device` current for as long as it lives, when it is not already (the kernel
// launch, cudaMemsetAsync or cudaFuncSetAttribute of an op on that device), and puts
// the caller's current device back.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    KN_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) KN_CUDA_CHECK(cudaSetDevice(device));
    else previous_ = -1;
  }
  ~DeviceGuard() {
    if (previous_ >= 0) (void)cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Where a launch was written: KN_LAUNCH fills it in.
struct KernelSite {
  const char* name;  // as written at the launch, "(sgemm_tiny<TA, TB>)"
  const char* file;
  int line;
};
// Called after every launch, traced or not: checks the launch (a kn::Error naming the
// kernel, its grid, the device and site.file:line) and counts it in kn::stats().
void after_launch(const KernelSite& site, int device, dim3 grid, dim3 block);
// With KN_KERNEL_LOG=<file> in the environment, the name of every kernel this process
// launches is noted (kernels/kernel_log.cu) and at exit each base name
// (trace::kernel_base_name) is appended to <file> once, one a line: scripts/gpu-check
// reads it to show which kernels of kernels/ its sanitizer runs reached. Unset, the cost
// is one load of a flag read once.
void note_kernel(const char* launch_text);
// CUDA graphs (kernels/graph.cu): while a device's stream is being captured, launches
// on it are recorded, not run, so after_launch() does not count them; each replay of a
// graph is counted as one launch instead.
void set_capturing(int device, bool capturing);
void count_launch(int device);

// Device memory for the length of one op: taken from the stream-ordered pool and
// given back in stream order, so freeing it right after the launches that use it is
// safe and costs no synchronisation.
template <typename T>
class Scratch {
 public:
  Scratch(std::size_t count, int device)
      : device_(device), ptr_(static_cast<T*>(kn::cuda::malloc(count * sizeof(T), device))) {}
  ~Scratch() { kn::cuda::free(ptr_, device_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* get() const { return ptr_; }

 private:
  int device_;
  T* ptr_;
};

constexpr int kThreads = 256;  // block size of the elementwise and row-per-warp ops
constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = kThreads / kWarp;

// The one launch path, for kernelnet's kernels (launch() below) and a user's
// (kn::cuda::launch_user_kernel): `enqueue(stream)` launches the kernel on `device`'s
// stream, with `device` current; after_launch() then checks and counts it. An empty grid
// is no work and launches nothing. While kn::trace is on, a TracedLaunch around the
// kernel times it and logs it; it only observes.
template <typename Enqueue>
void launch_on(const KernelSite& site, int device, dim3 grid, dim3 block, Enqueue&& enqueue) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  cudaStream_t s = stream(device);
  const DeviceGuard on(device);
  TracedLaunch traced(device, s);  // off, one load of the trace flag is all it costs
  enqueue(s);                      // if it throws, the TracedLaunch opens its gate, logs nothing
  traced.launched();
  after_launch(site, device, grid, block);
  traced.log(site.name, grid, block);
}

#ifdef __CUDACC__
// How every kernel of kernels/ is launched (through KN_LAUNCH).
template <typename... Params, typename... Args>
void launch(const KernelSite& site, int device, void (*kernel)(Params...), dim3 grid, dim3 block,
            std::size_t shared_bytes, Args&&... args) {
  launch_on(site, device, grid, block,
            [&](cudaStream_t s) { kernel<<<grid, block, shared_bytes, s>>>(std::forward<Args>(args)...); });
}
#endif

// A grid for a grid-stride loop over n elements: enough blocks to cover n, capped at
// what the device holds at once (more blocks would only queue, and each thread of a
// capped grid does several elements, amortising its index arithmetic).
inline dim3 grid_1d(int64_t n, int device, int threads = kThreads) {
  if (n <= 0) return dim3(0);
  const int64_t needed = (n + threads - 1) / threads;
  const int64_t cap = resident_blocks(device, threads);
  return dim3(static_cast<unsigned>(needed < cap ? needed : cap));
}

// A grid of kThreads-thread blocks for the ops that give each row one warp (rows
// strided over the grid's warps), at most max_blocks blocks.
inline dim3 grid_rows(int64_t rows, int64_t max_blocks) {
  const int64_t needed = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  return dim3(static_cast<unsigned>(needed < max_blocks ? needed : max_blocks));
}

#ifdef __CUDACC__
// Grid-stride loop bounds, in 64 bits so that n past 2^31 works.
__device__ __forceinline__ int64_t grid_start() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

// Butterfly reductions over groups of `lanes` neighbouring lanes (a power of two, at
// most a warp; every lane of the warp calls them): each lane ends with its group's
// result. Neighbours are added first (lanes 0+1, 2+3, then 0..1 + 2..3, ...), in the
// same order on every run, so the ops that use them are deterministic.
template <typename T>
__device__ __forceinline__ T warp_sum(T v, int lanes = kWarp) {
  for (int offset = 1; offset < lanes; offset *= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v, int lanes = kWarp) {
  for (int offset = 1; offset < lanes; offset *= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// The sum of v over the block's threads (a power-of-two block of at most kThreads), in a
// fixed tree of halves in `shared` (kThreads doubles), so the same bits on every run;
// every thread gets it, and `shared` may be reused at once.
__device__ __forceinline__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}
// The sum of partial[0 .. count) by one block: each thread adds every blockDim.x-th,
// then block_sum. The order is fixed, so every block that calls it gets the same bits.
__device__ __forceinline__ double block_sum_of(const double* partial, int count, double* shared) {
  double acc = 0.0;
  for (int i = int(threadIdx.x); i < count; i += blockDim.x) acc += partial[i];
  return block_sum(acc, shared);
}
#endif  // __CUDACC__

}  // namespace kn::cuda::detail

// KN_LAUNCH(kernel, device, grid, block, shared_bytes, args...): launch() with the
// kernel's name and this file:line, for errors and the trace. (A template kernel with
// several template arguments needs parentheses around it, since the commas would split
// the macro.)
#define KN_LAUNCH(kernel, device, grid, block, shared_bytes, ...)                                 \
  ::kn::cuda::detail::launch(::kn::cuda::detail::KernelSite{#kernel, __FILE__, __LINE__}, device, \
                             kernel, grid, block, shared_bytes, __VA_ARGS__)
