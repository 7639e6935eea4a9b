// The CUDA side of kn::trace (<kernelnet/trace.hpp>): launches, copies and
// synchronisations, timed and logged (kernels/trace.cu). The launch helper
// (common.cuh) puts a TracedLaunch around each kernel; kernels/runtime.cu a TracedCopy
// around each copy and a TracedSync around each synchronize().
//
// They only observe: checking and counting stay with the launch and the runtime, traced
// or not. Each does nothing but load the trace flag while tracing is off. On, it waits
// for the device to time what it logs: a traced program runs its GPU work one piece at
// a time, which is the price of durations that belong to one kernel or copy each.
#pragma once
#include <cstddef>

#include <cuda_runtime.h>

#include <kernelnet/trace/sink.hpp>

namespace kn::cuda::detail {

// Around one kernel launch on `stream` of `device`:
//   TracedLaunch traced(device, s);  kernel<<<..., s>>>(...);  traced.launched();
//   <check the launch>;  traced.log(name, grid, block);
// The constructor queues a gate (see trace.cu) and a start event, launched() the end
// event and opens the gate, log() waits for the end event and emits the launch. If
// log() is never reached (the launch failed), nothing is logged and the gate is open.
class TracedLaunch {
 public:
  TracedLaunch(int device, cudaStream_t stream) : on_(trace::enabled()), device_(device), stream_(stream) {
    if (on_) begin();
  }
  void launched() {
    if (on_) end();
  }
  void log(const char* launch_text, dim3 grid, dim3 block) {
    if (on_) emit(launch_text, grid, block);
  }
  ~TracedLaunch() {
    if (on_) open_gate();
  }
  TracedLaunch(const TracedLaunch&) = delete;
  TracedLaunch& operator=(const TracedLaunch&) = delete;

 private:
  void begin();
  void end();
  void emit(const char* launch_text, dim3 grid, dim3 block);
  void open_gate() noexcept;
  bool on_;
  int device_;
  cudaStream_t stream_;
  bool timed_ = false;  // false while the stream is captured into a graph
};

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

}  // namespace kn::cuda::detail
