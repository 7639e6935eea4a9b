// The CUDA vocabulary as plain C++, for the CPU execution harness (tests/emu, see
// docs/kernels-on-cpu.md). kernels/*.cu include <cuda_runtime.h>; the harness puts this
// directory first on the include path, so they get this file instead of the toolkit's.
//
// What it gives them:
//  - the qualifiers (__global__, __device__, __launch_bounds__, __restrict__, ...) as
//    nothing, or as their host meaning (__forceinline__ is inline, __align__ is aligned);
//  - threadIdx, blockIdx, blockDim and gridDim: the running thread's own values, read
//    from the harness's scheduler (each thread of a block is a fiber);
//  - __syncthreads, __syncwarp and the warp intrinsics: real barriers between those
//    fibers, with the masks checked; atomics; float4 and friends (alignas(16), so that
//    UBSan reports a misaligned vector access at its line); the fast-maths intrinsics;
//  - the part of the runtime API that kernels/ calls, on an emulated device 0.
// `__shared__` declarations and `<<<...>>>` launches are not C++: the harness's source
// filter (tests/emu/cuda2cpp.cmake) rewrites those two into calls of kn_emu:: below.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// The kernels' `#ifdef __CUDACC__` parts (device helpers in common.cuh) are theirs to
// compile too. CUDA's own headers are never included here, so nothing else reads it.
#ifndef __CUDACC__
#define __CUDACC__ 1
#endif

#define __global__
#define __device__
#define __host__
#define __constant__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))
// __restrict__ is a g++ keyword already.

// ---- Vector types ---------------------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
struct alignas(8) int2 {
  int x, y;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline float2 make_float2(float x, float y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }

namespace kn_emu {

// Where a barrier or warp intrinsic was called: the default arguments below take the
// caller's file and line (after the filter's #line, the original kernels/ file).
struct Site {
  Site(const char* f = __builtin_FILE(), int l = __builtin_LINE()) : file(f), line(l) {}
  const char* file;
  int line;
};
#define KN_EMU_HERE ::kn_emu::Site()

// The running thread's coordinates (set by the scheduler before it resumes a fiber).
struct ThreadCoords {
  uint3 thread, block, block_dim, grid_dim;
};
extern thread_local const ThreadCoords* current_coords;

void syncthreads(Site site);
void syncwarp(unsigned mask, Site site);
enum class Shuffle { Idx, Up, Down, Xor };
// Every lane of `mask` deposits 8 bytes and gets back those of its source lane.
std::uint64_t shuffle(unsigned mask, Shuffle kind, std::uint64_t value, int operand, int width, Site site);
unsigned vote_ballot(unsigned mask, bool predicate, Site site);
unsigned active_mask();
long long clock();

template <typename T>
T shfl(unsigned mask, Shuffle kind, T v, int operand, int width, Site site) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "the emulated shuffles move up to 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = shuffle(mask, kind, bits, operand, width, site);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

// The two rewrites of tests/emu/cuda2cpp.cmake:
//   __shared__ T name[N];         ->  static char kn_emu_site_name; auto& name = kn_emu::shared<T[N]>(&kn_emu_site_name, align);
//   extern __shared__ T name[];   ->  T* const name = kn_emu::dynamic_shared<T>();
//   kernel<<<grid, block, bytes, stream>>>(args...)  ->  kn_emu::launch(grid, block, bytes, stream)(kernel, args...)
// shared<>() returns the running block's instance of the variable declared at `site`
// (one heap allocation per block and variable, so AddressSanitizer guards its edges).
void* shared_bytes(const void* site, std::size_t bytes, std::size_t align);
void* dynamic_shared_bytes();
template <typename T>
T& shared(const void* site, std::size_t align = alignof(T)) {
  static_assert(std::is_trivially_destructible_v<T>, "__shared__ variables have no constructors or destructors");
  return *static_cast<T*>(shared_bytes(site, sizeof(T), align < alignof(T) ? alignof(T) : align));
}
template <typename T>
T* dynamic_shared() {
  return static_cast<T*>(dynamic_shared_bytes());
}

}  // namespace kn_emu

#define threadIdx (::kn_emu::current_coords->thread)
#define blockIdx (::kn_emu::current_coords->block)
#define blockDim (::kn_emu::current_coords->block_dim)
#define gridDim (::kn_emu::current_coords->grid_dim)
constexpr int warpSize = 32;

// ---- Barriers and warp intrinsics ------------------------------------------------------
inline void __syncthreads(kn_emu::Site site = KN_EMU_HERE) { kn_emu::syncthreads(site); }
inline void __syncwarp(unsigned mask = 0xffffffffu, kn_emu::Site site = KN_EMU_HERE) { kn_emu::syncwarp(mask, site); }
template <typename T>
T __shfl_sync(unsigned mask, T v, int src, int width = warpSize, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::shfl(mask, kn_emu::Shuffle::Idx, v, src, width, site);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::shfl(mask, kn_emu::Shuffle::Up, v, int(delta), width, site);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::shfl(mask, kn_emu::Shuffle::Down, v, int(delta), width, site);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::shfl(mask, kn_emu::Shuffle::Xor, v, lane_mask, width, site);
}
inline unsigned __ballot_sync(unsigned mask, int pred, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::vote_ballot(mask, pred != 0, site);
}
inline int __any_sync(unsigned mask, int pred, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::vote_ballot(mask, pred != 0, site) != 0;
}
inline int __all_sync(unsigned mask, int pred, kn_emu::Site site = KN_EMU_HERE) {
  return kn_emu::vote_ballot(mask, pred != 0, site) == mask;
}
inline unsigned __activemask() { return kn_emu::active_mask(); }
inline long long clock64() { return kn_emu::clock(); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }

// ---- Atomics: a thread runs alone between its stops, so a plain update is atomic ------
namespace kn_emu {
template <typename T, typename F>
T atomic_update(T* p, F f) {
  const T old = *p;
  *p = f(old);
  return old;
}
}  // namespace kn_emu
template <typename T>
T atomicAdd(T* p, T v) { return kn_emu::atomic_update(p, [v](T old) { return old + v; }); }
template <typename T>
T atomicSub(T* p, T v) { return kn_emu::atomic_update(p, [v](T old) { return old - v; }); }
template <typename T>
T atomicExch(T* p, T v) { return kn_emu::atomic_update(p, [v](T) { return v; }); }
template <typename T>
T atomicMax(T* p, T v) { return kn_emu::atomic_update(p, [v](T old) { return v > old ? v : old; }); }
template <typename T>
T atomicMin(T* p, T v) { return kn_emu::atomic_update(p, [v](T old) { return v < old ? v : old; }); }
template <typename T>
T atomicCAS(T* p, T compare, T v) { return kn_emu::atomic_update(p, [=](T old) { return old == compare ? v : old; }); }

// ---- Maths: the _rn intrinsics round each operation (no fused multiply-add) -------------
template <typename T>
T __ldg(const T* p) {
  return *p;
}
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
// CUDA's global min and max overloads.
template <typename T>
constexpr T min(T a, T b) {
  return b < a ? b : a;
}
template <typename T>
constexpr T max(T a, T b) {
  return a < b ? b : a;
}

// ---- The runtime API, as far as kernels/ uses it (tests/emu/runtime.cpp) ----------------
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevice = 101,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorNotSupported = 801,
  cudaErrorLaunchFailure = 719,
};
using cudaError = cudaError_t;
struct CUstream_st;
using cudaStream_t = CUstream_st*;
struct CUevent_st;
using cudaEvent_t = CUevent_st*;
struct CUgraph_st;
using cudaGraph_t = CUgraph_st*;
struct CUgraphExec_st;
using cudaGraphExec_t = CUgraphExec_st*;
enum cudaStreamCaptureStatus { cudaStreamCaptureStatusNone = 0, cudaStreamCaptureStatusActive = 1 };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
constexpr unsigned cudaHostAllocPortable = 1, cudaHostAllocMapped = 2;

cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorName(cudaError_t err);
const char* cudaGetErrorString(cudaError_t err);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t stream = nullptr);
namespace kn_emu {
cudaError_t set_max_dynamic_shared(const void* kernel, int bytes);
}
template <typename F>
cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaErrorInvalidValue;
  return kn_emu::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), value);
}
// Events time nothing on the CPU: they record, and every interval is 0 ms.
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop);
cudaError_t cudaHostAlloc(void** p, std::size_t bytes, unsigned flags);
cudaError_t cudaHostGetDevicePointer(void** device, void* host, unsigned flags);
// CUDA graphs are not emulated: capture reports cudaErrorNotSupported.
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status);
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, void* nodes, std::size_t* count);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);

// ---- Launches --------------------------------------------------------------------------
namespace kn_emu {

// One launch: each block of `grid` runs with its blockDim threads as fibers, several
// times in different thread and block orders (scheduler.cpp, runtime.cpp), and the memory it leaves must
// be the same bit for bit every time. A failure (a race, a divergent barrier, a warp
// intrinsic with a bad mask, too much shared memory) is recorded as the launch's error,
// as CUDA records a failed launch: cudaGetLastError() returns it and cudaGetErrorString()
// says what happened, which the launch check of common.cuh throws with the kernel's name.
struct Config {
  dim3 grid, block;
  std::size_t shared_bytes;
  const void* kernel;
};
using ThreadBody = void (*)(void* closure);
void run(const Config& config, ThreadBody body, void* closure);

struct LaunchSyntax {
  dim3 grid, block;
  std::size_t shared_bytes;
  template <typename... Params, typename... Args>
  void operator()(void (*kernel)(Params...), Args&&... args) const {
    static_assert(sizeof...(Params) == sizeof...(Args), "a kernel launch passes every parameter");
    // Every thread gets its own copy of the same argument values, as the parameters of a
    // real launch are copied to every thread.
    using Values = std::tuple<std::decay_t<Params>...>;
    struct Closure {
      void (*kernel)(Params...);
      Values values;
    } closure{kernel, Values(std::forward<Args>(args)...)};
    run(Config{grid, block, shared_bytes, reinterpret_cast<const void*>(kernel)},
        [](void* c) {
          auto* self = static_cast<Closure*>(c);
          std::apply(self->kernel, self->values);
        },
        &closure);
  }
};
inline LaunchSyntax launch(dim3 grid, dim3 block, std::size_t shared_bytes = 0, cudaStream_t = nullptr) {
  return {grid, block, shared_bytes};
}

}  // namespace kn_emu
