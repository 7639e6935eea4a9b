// What every kernels/*.cu file shares: the error check, the device's stream, the
// one launch helper, the 1-D grid helper and warp reductions.
//
// The top half is plain C++ over the CUDA runtime API, so host code compiled by g++
// (the GPU tests) can include it too; the launch helper and device code below need
// nvcc and sit behind __CUDACC__.
//
// Conventions for the kernels: row-major tensors; a `__global__ <op>_kernel` does the
// maths, the host function named after the op (kn::cuda::<op>) picks the grid and
// launches it through KN_LAUNCH; kernel parameters are outputs, inputs, sizes;
// gradients are named d<name>. Element counts that can pass 2^31 are int64_t and so is
// every index computed from them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>
#include <kernelnet/trace.hpp>

// Throws kn::Error naming the failed expression, where it was, and CUDA's own words.
#define KN_CUDA_CHECK(expr)                                                    \
  do {                                                                         \
    const cudaError_t kn_cuda_err_ = (expr);                                   \
    if (kn_cuda_err_ != cudaSuccess)                                           \
      ::kn::cuda::detail::throw_cuda_error(kn_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

namespace kn::cuda::detail {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);

int current_device();
// The device's one non-blocking stream, created on first use. Every op, copy and
// stream-ordered allocation of kernelnet goes on it, so they run in the order they
// were issued without the host waiting. Anything else touching kernelnet memory
// (cuBLAS in the tests, say) must use this stream too: it does not order itself
// against the legacy default stream.
cudaStream_t stream(int device);
// Blocks of `threads` the device keeps resident at once: the cap for grid-stride grids.
int resident_blocks(int device, int threads);

// Where a launch was written: KN_LAUNCH fills it in.
struct KernelSite {
  const char* name;
  const char* file;
  int line;
};
// Called after every launch: checks the launch and counts it.
void after_launch(const KernelSite& site, int device, dim3 grid, dim3 block);
// With KN_KERNEL_LOG=<file> in the environment, the name of every kernel this process
// launches (after_launch() calls this; so does the trace for its gate kernel) is noted,
// and at exit each base name (kernel_base_name) is appended to <file> once, one a line:
// scripts/gpu-check reads it to show which kernels of kernels/ its sanitizer runs
// reached. Unset, the cost is one load of a flag read once; set, one set insert of the
// site's name pointer per launch (names are worked out at exit).
void note_kernel(const char* site_name);
// "(gemm::sgemm_tiny<TA, TB>)", as KN_LAUNCH writes it -> "sgemm_tiny<TA, TB>" (the
// trace's name: no parentheses or namespaces) and -> "sgemm_tiny" (the base name, as
// after __global__ void: no template arguments either).
std::string kernel_name(const char* site_name);
std::string kernel_base_name(const char* site_name);
// A launch while kn::trace is on (kernels/trace.cu): before it, a gate kernel holds the
// stream and a CUDA event marks the start; after it, the gate opens, after_launch()
// runs, and the host waits for an end event to log the kernel with its device time.
void before_traced_launch(int device);
void after_traced_launch(const KernelSite& site, int device, dim3 grid, dim3 block);
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

constexpr int kThreads = 256;  // block size of the elementwise ops
constexpr int kWarp = 32;

}  // namespace kn::cuda::detail

#ifdef __CUDACC__
#include <utility>

namespace kn::cuda::detail {

// The one way kernels are launched: on the current device's stream, then
// after_launch(). An empty grid is no work and launches nothing.
template <typename... Params, typename... Args>
void launch(const KernelSite& site, void (*kernel)(Params...), dim3 grid, dim3 block,
            std::size_t shared_bytes, Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  const int device = current_device();
  const bool traced = ::kn::trace::enabled();  // off, this load is all the trace costs
  if (traced) before_traced_launch(device);
  kernel<<<grid, block, shared_bytes, stream(device)>>>(std::forward<Args>(args)...);
  if (traced) after_traced_launch(site, device, grid, block);
  else after_launch(site, device, grid, block);
}

// A grid for a grid-stride loop over n elements: enough blocks to cover n, capped at
// what the device holds at once (more blocks would only queue, and each thread of a
// capped grid does several elements, amortising its index arithmetic).
inline dim3 grid_1d(int64_t n, int threads = kThreads) {
  const int64_t needed = (n + threads - 1) / threads;
  const int64_t cap = resident_blocks(current_device(), threads);
  return dim3(static_cast<unsigned>(needed < cap ? needed : cap));
}

// Grid-stride loop bounds, in 64 bits so that n past 2^31 works.
__device__ __forceinline__ int64_t grid_start() {
  return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

// Butterfly reductions: every lane ends with the result, in the same order on every
// run, so the ops that use them are deterministic.
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

}  // namespace kn::cuda::detail

// KN_LAUNCH(kernel, grid, block, shared_bytes, args...): records the kernel's name and
// this file:line for errors and the trace. (A template kernel with several template
// arguments needs parentheses around it, since the commas would split the macro.)
#define KN_LAUNCH(kernel, grid, block, shared_bytes, ...)                                 \
  ::kn::cuda::detail::launch(::kn::cuda::detail::KernelSite{#kernel, __FILE__, __LINE__}, \
                             kernel, grid, block, shared_bytes, __VA_ARGS__)

#endif  // __CUDACC__
