// What kn-bench needs from the GPU beyond kernelnet's own ops: events, an empty kernel,
// a spinning kernel, CUDA graphs, pinned memory, raw copies and cuBLAS.
//
// Plain C++ declarations, defined in bench/gpu.cu, which is compiled only when kernelnet
// is built with CUDA (KN_WITH_CUDA=1): every caller sits behind `#if KN_WITH_CUDA` and a
// runtime kn::cuda::is_available() check. Everything here runs on kernelnet's own stream
// (kn::cuda::stream), so it is ordered with kernelnet's ops and copies, and none
// of it touches kernelnet's counters (kn::stats) except launch_empty_kn, whose point is
// to go through kernelnet's launch path.
#pragma once
#if KN_WITH_CUDA
#include <cstddef>
#include <cstdint>
#include <string>

namespace kn::bench::gpu {

// Waits for kernelnet's stream, without counting it in kn::stats (the bench's own waits
// must not show up in the counters it reads).
void sync();

// A pair of CUDA events on kernelnet's stream: the device's own clock, so the time
// covers the work between them on the GPU and nothing the host did.
class Events {
 public:
  Events();
  ~Events();
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  void start();
  void stop();
  double seconds();  // waits for stop()

 private:
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

// A one-thread kernel that keeps the GPU busy for `seconds` (by its own clock). Work
// queued behind it piles up in the stream, so it then runs back to back with no gaps
// waiting for the host: how kn-bench measures a kernel's device time alone.
void spin(double seconds);

// `n` launches of an empty kernel: with <<<>>> directly, or through kernelnet's launch
// path (kn::cuda::launch_user_kernel: what KN_LAUNCH does for every kernelnet op, the
// launch, cudaGetLastError, the count in kn::stats).
void launch_empty_raw(int n);
void launch_empty_kn(int n);

// `kernels` empty kernels captured once into a CUDA graph; launch() replays them all.
class EmptyGraph {
 public:
  explicit EmptyGraph(int kernels);
  ~EmptyGraph();
  EmptyGraph(const EmptyGraph&) = delete;
  EmptyGraph& operator=(const EmptyGraph&) = delete;
  void launch();
  int kernels() const { return kernels_; }

 private:
  int kernels_;
  void* exec_ = nullptr;
};

// Page-locked host memory: the DMA engines read and write it directly.
void* pinned_alloc(std::size_t bytes);
void pinned_free(void* ptr);

enum class Copy { HostToDevice, DeviceToHost, DeviceToDevice };
// cudaMemcpyAsync on kernelnet's stream; does not wait.
void copy_async(void* dst, const void* src, std::size_t bytes, Copy kind);

// cuBLAS SGEMM, the reference: run() is C[M,N] = A[M,K] * W[N,K]^T (row-major, kernelnet's
// Linear forward), gemm() any transposes, on kernelnet's stream, FP32 maths (no TF32).
class Sgemm {
 public:
  Sgemm();
  ~Sgemm();
  Sgemm(const Sgemm&) = delete;
  Sgemm& operator=(const Sgemm&) = delete;
  void run(float* C, const float* A, const float* W, int M, int N, int K);
  // C[M,N] = op(A) op(B), row-major, op(A) [M,K] and op(B) [K,N], each transposed or not.
  void gemm(float* C, const float* A, const float* B, int M, int N, int K, bool transA, bool transB);

 private:
  void* handle_ = nullptr;
};

}  // namespace kn::bench::gpu
#endif  // KN_WITH_CUDA
