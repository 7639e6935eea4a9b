// The CUDA side of kn::trace (trace.cuh): launches, copies and synchronisations, each
// logged with the Module call that caused it (the calling thread's trace state) and its
// duration. It observes and never counts: the launch helper and kernels/runtime.cu do.
//
// Timing one kernel with a pair of CUDA events has a trap: on an idle stream the start
// event is passed the moment it is queued, and the kernel only arrives when the host has
// finished launching it, so the interval would include the host's launch overhead (a few
// microseconds, longer than a small kernel runs). So a traced launch first queues a gate:
// a one-thread kernel that spins until the host opens it. The start event, the kernel
// and the end event queue up behind the gate, the host opens it, and the device runs the
// three back to back. The gate gives up by itself after ~0.1 s of device clock, so a
// host that never opens it (a bug) slows the trace down but cannot hang the program.
//
// While the stream is being captured into a CUDA graph (kernels/graph.cu) nothing runs,
// and waiting on an event would break the capture: launches and copies are then logged
// as captured, without a time.
//
// Copies are timed with the events alone (they are not gated: a copy to the host waits
// inside runtime.cu before the trace could open a gate), so a copy's time includes the
// host queueing it.
//
// The gate is launched with <<<>>> directly, not through launch(): launch() would trace
// it, and after_launch() would count it as one of kernelnet's launches.
#include "trace.cuh"

#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/trace/scope.hpp>

#include "common.cuh"  // DeviceGuard, note_kernel; nothing of runtime.cu

namespace kn::cuda::detail {
namespace {

constexpr long long kGateCycles = 200'000'000;  // ~0.1 s at 2 GHz

__global__ void trace_gate_kernel(const volatile int* open, long long max_cycles) {
  const long long start = clock64();
  while (*open == 0 && clock64() - start < max_cycles) {
  }
}

// Per thread and device: the two events and the gate's flag (mapped pinned host memory
// the gate kernel reads). Created on first use and never freed: a few hundred bytes a
// thread, and freeing them in thread-exit destructors would race the CUDA runtime's
// own teardown at process exit.
struct Timing {
  cudaEvent_t start = nullptr, stop = nullptr;
  volatile int* gate_host = nullptr;
  int* gate_device = nullptr;
  bool gated = false;  // a gate is queued and not yet opened
};

Timing& timing(int device) {
  static thread_local std::vector<Timing> per_device;
  if (int(per_device.size()) <= device) per_device.resize(device + 1);
  Timing& t = per_device[device];
  if (!t.gate_device) {  // set last: a failure half-way retries next time
    // Events belong to the device current when they are made (a copy can be traced while
    // another device is current).
    const DeviceGuard on(device);
    if (!t.start) KN_CUDA_CHECK(cudaEventCreate(&t.start));
    if (!t.stop) KN_CUDA_CHECK(cudaEventCreate(&t.stop));
    if (!t.gate_host) {
      void* flag = nullptr;
      KN_CUDA_CHECK(cudaHostAlloc(&flag, sizeof(int), cudaHostAllocMapped | cudaHostAllocPortable));
      t.gate_host = static_cast<volatile int*>(flag);
    }
    void* dev = nullptr;
    KN_CUDA_CHECK(cudaHostGetDevicePointer(&dev, const_cast<int*>(t.gate_host), 0));
    t.gate_device = static_cast<int*>(dev);
  }
  return t;
}

double elapsed_us(Timing& t) {
  KN_CUDA_CHECK(cudaEventSynchronize(t.stop));
  float ms = 0;
  KN_CUDA_CHECK(cudaEventElapsedTime(&ms, t.start, t.stop));
  return double(ms) * 1e3;
}

bool capturing(cudaStream_t s) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(s, &status) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return status != cudaStreamCaptureStatusNone;
}

constexpr const char* kCaptured = "captured into a CUDA graph, not run now";

double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void TracedLaunch::begin() {
  Timing& t = timing(device_);
  timed_ = !capturing(stream_);
  if (!timed_) return;
  *t.gate_host = 0;
  {
    const DeviceGuard on(device_);
    trace_gate_kernel<<<1, 1, 0, stream_>>>(t.gate_device, kGateCycles);
  }
  KN_CUDA_CHECK(cudaGetLastError());
  note_kernel("trace_gate_kernel");
  t.gated = true;
  const cudaError_t err = cudaEventRecord(t.start, stream_);
  if (err != cudaSuccess) open_gate();
  KN_CUDA_CHECK(err);
}

void TracedLaunch::open_gate() noexcept {
  try {
    Timing& t = timing(device_);
    if (t.gated) *t.gate_host = 1;
    t.gated = false;
  } catch (...) {
  }
}

void TracedLaunch::end() {
  // The end event goes in the queue before the gate opens, so it follows the kernel
  // directly; whatever happens, the gate opens.
  const cudaError_t err = timed_ ? cudaEventRecord(timing(device_).stop, stream_) : cudaSuccess;
  open_gate();
  if (err != cudaSuccess) timed_ = false;
  KN_CUDA_CHECK(err);
}

void TracedLaunch::emit(const char* launch_text, dim3 grid, dim3 block) {
  trace::Event e = trace::event_here(trace::Kind::Launch, Device::cuda(device_));
  e.name = trace::kernel_name(launch_text);
  e.grid[0] = grid.x, e.grid[1] = grid.y, e.grid[2] = grid.z;
  e.block[0] = block.x, e.block[1] = block.y, e.block[2] = block.z;
  if (timed_) e.micros = elapsed_us(timing(device_));
  else e.detail = kCaptured;
  timed_ = false;
  trace::emit(e);
}

TracedCopy::TracedCopy(const char* what, std::size_t bytes, int device, cudaStream_t stream, bool host_waits)
    : on_(trace::enabled()), what_(what), bytes_(bytes), device_(device), stream_(stream), host_waits_(host_waits) {
  if (!on_) return;
  exceptions_ = std::uncaught_exceptions();
  timed_ = !capturing(stream);
  if (timed_) KN_CUDA_CHECK(cudaEventRecord(timing(device).start, stream));
}

TracedCopy::~TracedCopy() {
  if (!on_ || std::uncaught_exceptions() > exceptions_) return;  // the copy failed: its error says enough
  try {
    trace::Event e = trace::event_here(trace::Kind::Copy, Device::cuda(device_));
    e.op.clear();  // a copy is not part of a dispatch
    e.name = what_;
    e.bytes = int64_t(bytes_);
    e.synchronises = host_waits_;
    if (timed_) {
      Timing& t = timing(device_);
      KN_CUDA_CHECK(cudaEventRecord(t.stop, stream_));
      e.micros = elapsed_us(t);
    } else {
      e.detail = kCaptured;
    }
    trace::emit(e);
  } catch (...) {
    // A destructor cannot throw; a failing device reports itself at the next call.
  }
}

TracedSync::TracedSync(int device) : on_(trace::enabled()), device_(device) {
  if (!on_) return;
  exceptions_ = std::uncaught_exceptions();
  start_us_ = now_us();
}

TracedSync::~TracedSync() {
  if (!on_ || std::uncaught_exceptions() > exceptions_) return;
  try {
    trace::Event e = trace::event_here(trace::Kind::Sync, Device::cuda(device_));
    e.op.clear();
    e.name = "synchronize";
    e.micros = now_us() - start_us_;
    trace::emit(e);
  } catch (...) {
  }
}

}  // namespace kn::cuda::detail
