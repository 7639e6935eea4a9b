// The bench's own device code (see gpu.hpp): built only with CUDA.
#include "gpu.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include <kernelnet/cuda/runtime.hpp>  // KN_CUDA_CHECK, kn::cuda::stream, launch_user_kernel

namespace kn::bench::gpu {
namespace {

cudaStream_t stream() { return static_cast<cudaStream_t>(kn::cuda::stream(0)); }

// Does nothing: its cost is the launch alone.
__global__ void empty_kernel(int) {}

// %globaltimer is the GPU's nanosecond clock, the same on every SM.
__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin_kernel(uint64_t ns) {
  const uint64_t start = global_ns();
  while (global_ns() - start < ns) {
  }
}

void check_cublas(cublasStatus_t s, const char* expr) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw kn::Error(kn::str("cuBLAS error ", int(s), " in ", expr));
}

}  // namespace

void sync() { KN_CUDA_CHECK(cudaStreamSynchronize(stream())); }

Events::Events() {
  cudaEvent_t a, b;
  KN_CUDA_CHECK(cudaEventCreate(&a));
  KN_CUDA_CHECK(cudaEventCreate(&b));
  start_ = a;
  stop_ = b;
}
Events::~Events() {
  (void)cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  (void)cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}
void Events::start() { KN_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_), stream())); }
void Events::stop() { KN_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_), stream())); }
double Events::seconds() {
  KN_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  KN_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return double(ms) * 1e-3;
}

void spin(double seconds) {
  spin_kernel<<<1, 1, 0, stream()>>>(uint64_t(seconds * 1e9));
  KN_CUDA_CHECK(cudaGetLastError());
}

void launch_empty_raw(int n) {
  cudaStream_t s = stream();
  for (int i = 0; i < n; ++i) empty_kernel<<<1, 1, 0, s>>>(0);
  KN_CUDA_CHECK(cudaGetLastError());
}

// Through kernelnet's launch path, as a user's kernel takes it (launch_user_kernel: the
// device's stream, the launch check, the counters, the trace flag), which is what
// KN_LAUNCH does for the library's own kernels.
void launch_empty_kn(int n) {
  for (int i = 0; i < n; ++i)
    kn::cuda::launch_user_kernel(
        "empty_kernel", {1}, {1}, [](void* s) { empty_kernel<<<1, 1, 0, static_cast<cudaStream_t>(s)>>>(0); }, 0);
}

EmptyGraph::EmptyGraph(int kernels) : kernels_(kernels) {
  // Captured on a stream of its own (capture turns launches into graph nodes instead of
  // running them), then replayed on kernelnet's stream.
  cudaStream_t s;
  KN_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaGraph_t graph;
  KN_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < kernels; ++i) empty_kernel<<<1, 1, 0, s>>>(0);
  KN_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
  cudaGraphExec_t exec;
  KN_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  KN_CUDA_CHECK(cudaGraphDestroy(graph));
  KN_CUDA_CHECK(cudaStreamDestroy(s));
  exec_ = exec;
}
EmptyGraph::~EmptyGraph() { (void)cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_)); }
void EmptyGraph::launch() { KN_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), stream())); }

void* pinned_alloc(std::size_t bytes) {
  void* p = nullptr;
  KN_CUDA_CHECK(cudaMallocHost(&p, bytes));
  return p;
}
void pinned_free(void* ptr) { (void)cudaFreeHost(ptr); }

void copy_async(void* dst, const void* src, std::size_t bytes, Copy kind) {
  const cudaMemcpyKind k = kind == Copy::HostToDevice   ? cudaMemcpyHostToDevice
                           : kind == Copy::DeviceToHost ? cudaMemcpyDeviceToHost
                                                        : cudaMemcpyDeviceToDevice;
  KN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, stream()));
}

Sgemm::Sgemm() {
  cublasHandle_t h;
  check_cublas(cublasCreate(&h), "cublasCreate");
  handle_ = h;
  check_cublas(cublasSetStream(h, stream()), "cublasSetStream");
  // The default math mode: SGEMM in full FP32 (TF32 would need CUBLAS_TF32_TENSOR_OP_MATH),
  // so the reference does the same arithmetic as kernelnet's kernels.
  check_cublas(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
}
Sgemm::~Sgemm() { (void)cublasDestroy(static_cast<cublasHandle_t>(handle_)); }

void Sgemm::run(float* C, const float* A, const float* W, int M, int N, int K) {
  gemm(C, A, W, M, N, K, false, true);
}

void Sgemm::gemm(float* C, const float* A, const float* B, int M, int N, int K, bool transA, bool transB) {
  // cuBLAS is column-major, and a row-major [r, c] matrix is the column-major [c, r]
  // matrix (its transpose) with leading dimension c. So row-major C[M,N] is column-major
  // C^T [N,M] = op(B)^T op(A)^T: swap A and B, swap M and N, keep each operand's
  // transpose flag, and pass each matrix's stored row length as its leading dimension.
  const float alpha = 1.0f, beta = 0.0f;
  const int lda = transA ? M : K, ldb = transB ? K : N;
  check_cublas(cublasSgemm(static_cast<cublasHandle_t>(handle_), transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                           transA ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, std::max(1, ldb), A,
                           std::max(1, lda), &beta, C, std::max(1, N)),
               "cublasSgemm");
}

}  // namespace kn::bench::gpu
