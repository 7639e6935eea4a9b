// CUDA graphs seen from plain C++: record a stretch of kernelnet work once, replay it
// with one launch (defined in kernels/graph.cu).
//
//   kn::cuda::Capture capture(0);     // device 0's stream now records instead of running
//   train_step();                     // kernels, stream-ordered allocations and frees
//   kn::cuda::Graph step = capture.end();
//   for (...) step.replay();          // the whole step, one launch, nothing recomputed on the host
//
// What may happen between begin and end: launches on kernelnet's stream, and
// kn::cuda::malloc/free of memory that is allocated AND freed inside the capture (they
// become the graph's own memory nodes, at the same addresses on every replay). What may
// not: anything that makes the host wait (item(), copy_to_host, synchronize), copies from
// host memory, freeing memory allocated before the capture, and the trace (it waits for
// every kernel). Any of these ends in a kn::Error from end() (or begin_capture for the
// trace). A replay runs with the values the captured kernels saw as parameters (pointers,
// sizes, the learning rate): whatever must change between replays has to live in device
// memory, like the step counter of log_value() below.
//
// kn::stats(): kernels launched while capturing are not counted (they do not run); each
// replay counts as one launch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>

namespace kn::cuda {

// An instantiated graph, ready to replay on kernelnet's stream of the device it was
// captured on. Moves, never copies (like a device buffer). Destroying it while a replay
// is still running is safe: CUDA finishes the replay first.
class Graph {
 public:
  Graph() = default;
  ~Graph();
  Graph(Graph&& o) noexcept
      : exec_(std::exchange(o.exec_, nullptr)), device_(o.device_), nodes_(std::exchange(o.nodes_, 0)) {}
  Graph& operator=(Graph&& o) noexcept {
    std::swap(exec_, o.exec_);
    std::swap(device_, o.device_);
    std::swap(nodes_, o.nodes_);
    return *this;
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  bool valid() const { return exec_ != nullptr; }
  int device() const { return device_; }
  // Nodes captured: kernels, memory allocations and frees, copies.
  std::size_t nodes() const { return nodes_; }
  // Queues one run of the whole graph on the device's stream; returns at once.
  void replay() const;

 private:
  friend Graph end_capture(int device);
  void* exec_ = nullptr;  // cudaGraphExec_t
  int device_ = 0;
  std::size_t nodes_ = 0;
};

#if KN_WITH_CUDA
// Starts recording the device's stream (kernelnet's one stream; capture mode
// "thread-local": this thread's unsafe calls, a cudaMalloc say, fail instead of
// silently breaking the capture, while other threads are left alone).
void begin_capture(int device);
// Stops recording and instantiates what was recorded.
Graph end_capture(int device);
// Stops recording and throws the recording away (after an error; never throws).
void abort_capture(int device) noexcept;
// True while the device's stream is being captured.
bool is_capturing(int device);
// log[count[0] % capacity] = value[0]; count[0] += 1. One thread, on `device`.
// The slot is chosen on the device, so a replayed graph writes each step's value (a
// loss) to its own slot although its parameters never change.
void log_value(float* log, int64_t* count, const float* value, int64_t capacity, int device);
#else
inline void begin_capture(int) { no_cuda("kn::cuda::begin_capture"); }
inline Graph end_capture(int) { no_cuda("kn::cuda::end_capture"); }
inline void abort_capture(int) noexcept {}
inline bool is_capturing(int) { return false; }
inline void log_value(float*, int64_t*, const float*, int64_t, int) { no_cuda("kn::cuda::log_value"); }
inline Graph::~Graph() = default;
inline void Graph::replay() const { no_cuda("kn::cuda::Graph::replay"); }
#endif

// A capture that cannot be left open: the destructor aborts it unless end() ran, so an
// exception thrown by the captured code leaves the stream usable.
class Capture {
 public:
  explicit Capture(int device) : device_(device) { begin_capture(device); }
  ~Capture() {
    if (open_) abort_capture(device_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  Graph end() {
    KN_CHECK(open_, "kn::cuda::Capture::end(): the capture has already ended");
    open_ = false;
    return end_capture(device_);
  }

 private:
  int device_;
  bool open_ = true;
};

}  // namespace kn::cuda
