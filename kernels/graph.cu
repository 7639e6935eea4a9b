// CUDA graphs behind <kernelnet/cuda/graph.hpp>: capture of kernelnet's stream, replay,
// and log_value(), the one-thread kernel that lets a replayed step log its loss.
#include <kernelnet/cuda/graph.hpp>

#include "common.cuh"

namespace kn::cuda {
namespace {

// The slot comes from a counter in device memory: a graph's kernel parameters are frozen
// at capture, so a counter passed by value would send every replay to the same slot.
__global__ void log_value_kernel(float* log, int64_t* count, const float* value, int64_t capacity) {
  const int64_t n = count[0];
  log[n % capacity] = value[0];
  count[0] = n + 1;
}

const char* const kCaptureRules =
    "between begin_capture and end_capture nothing may wait for the device (item(), "
    "copies to the host, synchronize), copy from host memory, or free memory allocated "
    "before the capture; see <kernelnet/cuda/graph.hpp>";

}  // namespace

void begin_capture(int device) {
  KN_CHECK(!trace::enabled(), "kn::cuda::begin_capture: the trace is on (KN_TRACE=1 or a trace::Step); it waits "
                              "for every kernel to time it, which a graph capture cannot do. Trace without graphs.");
  cudaStream_t s = detail::stream(device);  // set up on first use, outside the capture
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  KN_CUDA_CHECK(cudaStreamIsCapturing(s, &status));
  KN_CHECK(status == cudaStreamCaptureStatusNone, "kn::cuda::begin_capture: device ", device,
           "'s stream is already being captured");
  KN_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  detail::set_capturing(device, true);
}

Graph end_capture(int device) {
  cudaStream_t s = detail::stream(device);
  const detail::DeviceGuard on(device);  // the graph is instantiated for this device
  cudaGraph_t graph = nullptr;
  const cudaError_t err = cudaStreamEndCapture(s, &graph);
  detail::set_capturing(device, false);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    if (graph) (void)cudaGraphDestroy(graph);
    throw Error(str("kn::cuda::end_capture on device ", device, ": the capture failed with ", cudaGetErrorName(err),
                    " (", cudaGetErrorString(err), "); ", kCaptureRules));
  }
  Graph g;
  g.device_ = device;
  std::size_t nodes = 0;
  cudaError_t inst = cudaGraphGetNodes(graph, nullptr, &nodes);
  cudaGraphExec_t exec = nullptr;
  if (inst == cudaSuccess) inst = cudaGraphInstantiate(&exec, graph, 0);
  (void)cudaGraphDestroy(graph);  // the executable graph keeps what it needs
  if (inst != cudaSuccess) {
    (void)cudaGetLastError();
    throw Error(str("kn::cuda::end_capture on device ", device, ": instantiating the captured graph (", nodes,
                    " nodes) failed with ", cudaGetErrorName(inst), " (", cudaGetErrorString(inst), ")"));
  }
  g.exec_ = exec;
  g.nodes_ = nodes;
  return g;
}

void abort_capture(int device) noexcept {
  try {
    cudaStream_t s = detail::stream(device);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(s, &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
      cudaGraph_t graph = nullptr;
      (void)cudaStreamEndCapture(s, &graph);  // ends an invalidated capture too
      if (graph) (void)cudaGraphDestroy(graph);
    }
    (void)cudaGetLastError();
    detail::set_capturing(device, false);
  } catch (...) {
    // Called from destructors while an exception is on its way: nothing more to do.
  }
}

bool is_capturing(int device) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  KN_CUDA_CHECK(cudaStreamIsCapturing(detail::stream(device), &status));
  return status != cudaStreamCaptureStatusNone;
}

Graph::~Graph() {
  // In-flight replays finish first (cudaGraphExecDestroy frees asynchronously).
  if (exec_) (void)cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
}

void Graph::replay() const {
  KN_CHECK(exec_, "kn::cuda::Graph::replay(): an empty Graph (default-constructed or moved from)");
  cudaStream_t s = detail::stream(device_);
  const detail::DeviceGuard on(device_);
  KN_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), s));
  detail::count_launch(device_);
}

void log_value(float* log, int64_t* count, const float* value, int64_t capacity, int device) {
  KN_CHECK(capacity > 0, "kn::cuda::log_value: capacity must be > 0, got ", capacity);
  KN_LAUNCH(log_value_kernel, device, dim3(1), dim3(1), 0, log, count, value, capacity);
}

}  // namespace kn::cuda
