// What every op header (ops/<op>.hpp) shares: the two backends and the rule that ties
// them together.
//
// An op is written once, in its header: its contract; kn::cpu::<op>, the CPU backend
// and the reference the CUDA kernels are tested against; the declaration of
// kn::cuda::<op>, defined in kernels/<op>.cu; the dispatch kn::ops::<op>(Device, ...);
// and a compile-time check that the CUDA twin takes exactly the CPU parameters plus the
// device index, last. The dispatch is a plain if/else on the device.
//
// Pointers are raw and row-major (see <kernelnet/tensor.hpp>); on CUDA they are device
// pointers on that device, the work is queued on the device's stream
// (kn::cuda::stream) and nothing synchronises. Ops know nothing of autograd:
// functional.hpp builds the differentiable ops on top of them.
#pragma once
#include <cstdint>
#include <type_traits>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/device.hpp>
#include <kernelnet/error.hpp>
#include <kernelnet/trace/scope.hpp>

namespace kn::ops::detail {

#if KN_WITH_CUDA
inline constexpr bool kWithCuda = true;
#else
// Without CUDA no tensor can live on a GPU (Tensor::to refuses), so a CUDA device
// reaches an op only from code passing raw pointers by hand: an error, never a CPU run.
inline constexpr bool kWithCuda = false;
#endif

// The signature kn::cuda::<op> must have: kn::cpu::<op>'s, then `int device`.
template <typename F>
struct cuda_twin;
template <typename R, typename... Args>
struct cuda_twin<R (*)(Args...)> {
  using type = R (*)(Args..., int);
};
template <typename CpuFn, typename CudaFn>
inline constexpr bool is_cuda_twin = std::is_same_v<typename cuda_twin<CpuFn>::type, CudaFn>;

[[noreturn]] inline void no_cuda(const char* op, Device d) {
  throw Error(str(op, " on CUDA device ", d.index, ": ", cuda::unavailable_reason()));
}

}  // namespace kn::ops::detail
