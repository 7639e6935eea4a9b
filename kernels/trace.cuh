// The CUDA side of kn::trace (<kernelnet/trace.hpp>): copies and synchronisations
// logged from kernels/runtime.cu. Launches are logged by launch() in common.cuh through
// before_traced_launch() / after_traced_launch(). Defined in kernels/trace.cu.
//
// Each of these does nothing but load the trace flag while tracing is off. On, it waits
// for the device to time what it logs: a traced program runs its GPU work one piece at
// a time, which is the price of durations that belong to one kernel or copy each.
#pragma once
#include <cstddef>

#include <cuda_runtime_api.h>

namespace kn::cuda::detail {

// Around one copy: a CUDA event before it and after it; the destructor waits for the
// second and logs the copy (`what` is trace::kCopyToDevice, ...) with its device time.
// `host_waits`: the copy itself makes the host wait (counted as a synchronisation).
class TracedCopy {
 public:
  TracedCopy(const char* what, std::size_t bytes, int device, cudaStream_t stream, bool host_waits);
  ~TracedCopy();
  TracedCopy(const TracedCopy&) = delete;
  TracedCopy& operator=(const TracedCopy&) = delete;

 private:
  bool on_;
  const char* what_;
  std::size_t bytes_;
  int device_;
  cudaStream_t stream_;
  bool host_waits_;
  bool timed_ = false;  // false while the stream is captured into a graph
  int exceptions_ = 0;
};

// Around one synchronize(): logs how long the host waited.
class TracedSync {
 public:
  explicit TracedSync(int device);
  ~TracedSync();
  TracedSync(const TracedSync&) = delete;
  TracedSync& operator=(const TracedSync&) = delete;

 private:
  bool on_;
  int device_;
  int exceptions_ = 0;
  double start_us_ = 0;
};

// Lets a gated launch run without logging it (launch_user_kernel, when the user's
// launch function throws).
void open_trace_gate(int device) noexcept;

}  // namespace kn::cuda::detail
