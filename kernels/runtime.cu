// The CUDA runtime behind <kernelnet/cuda/runtime.hpp>: devices, one stream per
// device, stream-ordered memory, copies, the per-device counters, and the check that
// follows every launch (after_launch). Copies and synchronisations are observed by the
// trace (trace.cuh); the trace calls nothing here.
//
// Synchronisation policy: the host waits on the device only in copy_to_host() (the
// data must be there when it returns) and synchronize(); each wait is counted in
// Stats::syncs. Everything else is queued on the device's stream and returns at once.
#include "common.cuh"
#include "trace.cuh"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include <cuda_runtime.h>

namespace kn::cuda {
namespace detail {
namespace {

constexpr int kMaxDevices = 64;

struct DeviceState {
  std::once_flag ready;
  cudaStream_t stream = nullptr;
  int sm_count = 0;
  int threads_per_sm = 0;
  std::atomic<int64_t> launches{0}, syncs{0}, h2d_copies{0}, h2d_bytes{0}, d2h_copies{0}, d2h_bytes{0},
      d2d_copies{0}, d2d_bytes{0};
  std::atomic<bool> capturing{false};  // the stream is being captured into a graph
};

// What cudaGetDeviceCount said, asked once: the answer does not change while the
// process runs, and asking can be slow when there is no driver.
struct Probe {
  cudaError_t err = cudaSuccess;
  int count = 0;
};
const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    r.err = cudaGetDeviceCount(&r.count);
    if (r.err != cudaSuccess) {
      r.count = 0;
      (void)cudaGetLastError();  // so the next launch check does not report it
    }
    return r;
  }();
  return p;
}

DeviceState& state(int device) {
  // Never destroyed: tensors freed by static destructors at exit still count here.
  static auto* states = new std::array<DeviceState, kMaxDevices>;
  if (device < 0 || device >= probe().count || device >= kMaxDevices) {
    if (probe().count == 0)
      throw Error(str("CUDA device ", device, " requested, but ", unavailable_reason()));
    throw Error(str("CUDA device ", device, " does not exist (this machine has ", probe().count,
                    " device", probe().count == 1 ? "" : "s", ")"));
  }
  return (*states)[device];
}

// The device's stream and limits, set up on first use (std::call_once retries if
// this throws).
DeviceState& ready(int device) {
  DeviceState& s = state(device);
  std::call_once(s.ready, [&] {
    DeviceGuard guard(device);
    // Non-blocking: it never waits on (or for) the legacy default stream, so work from
    // other libraries there cannot serialise ours. The stream lives as long as the
    // process: destroying it at exit would race the runtime's own teardown.
    KN_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    KN_CUDA_CHECK(cudaDeviceGetAttribute(&s.sm_count, cudaDevAttrMultiProcessorCount, device));
    KN_CUDA_CHECK(
        cudaDeviceGetAttribute(&s.threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor, device));
    // malloc/free use the stream-ordered pool. By default the pool hands memory back
    // to the driver at every synchronisation, so a training loop would map and unmap
    // its activations every step; keeping it (like PyTorch's caching allocator) makes
    // a freed block cheap to reuse.
    cudaMemPool_t pool;
    KN_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
    uint64_t keep_all = UINT64_MAX;
    KN_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
  });
  return s;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 6) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace

cudaStream_t stream(int device) { return ready(device).stream; }

int sm_count(int device) { return ready(device).sm_count; }

int resident_blocks(int device, int threads) {
  const DeviceState& s = ready(device);
  const int per_sm = s.threads_per_sm / threads;
  return s.sm_count * (per_sm > 0 ? per_sm : 1);
}

void after_launch(const KernelSite& site, int device, dim3 grid, dim3 block) {
  note_kernel(site.name);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(str("CUDA kernel ", site.name, " <<<(", grid.x, ",", grid.y, ",", grid.z, "), (",
                    block.x, ",", block.y, ",", block.z, ")>>> on device ", device,
                    " failed at ", site.file, ":", site.line, ": ", cudaGetErrorName(err), " (",
                    cudaGetErrorString(err), ")",
                    " (the error may come from earlier work on the device)"));
  DeviceState& s = state(device);
  if (!s.capturing.load(std::memory_order_relaxed)) s.launches.fetch_add(1, std::memory_order_relaxed);
}

void set_capturing(int device, bool capturing) {
  state(device).capturing.store(capturing, std::memory_order_relaxed);
}

void count_launch(int device) { state(device).launches.fetch_add(1, std::memory_order_relaxed); }

}  // namespace detail

using detail::DeviceGuard;
using detail::DeviceState;
using detail::ready;
using detail::state;

bool is_available() { return detail::probe().err == cudaSuccess && detail::probe().count > 0; }

std::string unavailable_reason() {
  const detail::Probe& p = detail::probe();
  switch (p.err) {
    case cudaSuccess:
      return p.count > 0 ? std::string() : "no CUDA device";
    case cudaErrorNoDevice:
      return "no CUDA device";
    case cudaErrorInsufficientDriver:
      // What the runtime says both when libcuda is missing and when it is too old.
      return "no CUDA driver, or one older than the CUDA runtime kernelnet was built with";
    default:
      return str("CUDA could not list devices: ", cudaGetErrorName(p.err), " (",
                 cudaGetErrorString(p.err), ")");
  }
}

int device_count() { return detail::probe().count; }

void set_device(int device) {
  state(device);  // range check with a readable message
  KN_CUDA_CHECK(cudaSetDevice(device));
}

void* malloc(std::size_t bytes, int device) {
  if (bytes == 0) return nullptr;
  void* ptr = nullptr;
  // Stream-ordered: the memory is ready for everything queued after this on the
  // device's stream, and cudaMalloc's implicit device-wide synchronisation (and
  // cudaFree's) is avoided.
  const cudaError_t err = cudaMallocAsync(&ptr, bytes, ready(device).stream);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    {
      DeviceGuard guard(device);
      (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    }
    throw Error(str(err == cudaErrorMemoryAllocation ? "CUDA out of memory" : "CUDA allocation failed",
                    " on device ", device, ": asked for ", bytes, " bytes (",
                    detail::human_bytes(double(bytes)), "), ", free_bytes, " bytes (",
                    detail::human_bytes(double(free_bytes)), ") free of ",
                    detail::human_bytes(double(total_bytes)), "; ", cudaGetErrorName(err), " (",
                    cudaGetErrorString(err), ") at ", __FILE__, ":", __LINE__));
  }
  return ptr;
}

void free(void* ptr, int device) noexcept {
  if (ptr == nullptr) return;
  try {
    // Returned to the pool in stream order: kernels already queued that read ptr
    // still see valid memory.
    if (cudaFreeAsync(ptr, ready(device).stream) != cudaSuccess) (void)cudaGetLastError();
  } catch (...) {
    // Freeing happens in destructors, including during exit after the CUDA runtime
    // has shut down; there is nothing useful to do with an error here.
  }
}

void copy_to_device(void* dst, const void* src, std::size_t bytes, int device) {
  if (bytes == 0) return;
  DeviceState& s = ready(device);
  // From pageable memory (std::vector, the usual case) cudaMemcpyAsync stages the
  // source into the driver's pinned buffers before it returns: the driver cannot know
  // when the caller will reuse a pageable buffer, so it never reads it later (CUDA's
  // "API synchronization behavior" notes). The caller may overwrite src at once, and
  // the host does not wait for the device.
  // From pinned or managed memory the copy really is asynchronous and would read src
  // after we return, so there we wait for it (counted as a sync).
  cudaPointerAttributes attr{};
  bool pinned_or_managed = false;
  if (cudaPointerGetAttributes(&attr, src) == cudaSuccess)
    pinned_or_managed = attr.type == cudaMemoryTypeHost || attr.type == cudaMemoryTypeManaged;
  else
    (void)cudaGetLastError();  // pre-11 drivers call a pageable pointer an error
  detail::TracedCopy traced(trace::kCopyToDevice, bytes, device, s.stream, pinned_or_managed);
  KN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s.stream));
  s.h2d_copies.fetch_add(1, std::memory_order_relaxed);
  s.h2d_bytes.fetch_add(int64_t(bytes), std::memory_order_relaxed);
  if (pinned_or_managed) {
    KN_CUDA_CHECK(cudaStreamSynchronize(s.stream));
    s.syncs.fetch_add(1, std::memory_order_relaxed);
  }
}

void copy_to_host(void* dst, const void* src, std::size_t bytes, int device) {
  if (bytes == 0) return;
  DeviceState& s = ready(device);
  detail::TracedCopy traced(trace::kCopyToHost, bytes, device, s.stream, true);
  KN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s.stream));
  // The copy waits for the ops queued before it; the host must wait for the copy.
  KN_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  s.d2h_copies.fetch_add(1, std::memory_order_relaxed);
  s.d2h_bytes.fetch_add(int64_t(bytes), std::memory_order_relaxed);
  s.syncs.fetch_add(1, std::memory_order_relaxed);
}

void copy_on_device(void* dst, const void* src, std::size_t bytes, int device) {
  if (bytes == 0) return;
  DeviceState& s = ready(device);
  detail::TracedCopy traced(trace::kCopyOnDevice, bytes, device, s.stream, false);
  KN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s.stream));
  s.d2d_copies.fetch_add(1, std::memory_order_relaxed);
  s.d2d_bytes.fetch_add(int64_t(bytes), std::memory_order_relaxed);
}

void* stream(int device) { return ready(device).stream; }

void synchronize(int device) {
  DeviceState& s = ready(device);
  detail::TracedSync traced(device);
  KN_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  s.syncs.fetch_add(1, std::memory_order_relaxed);
}

Stats stats(int device) {
  const DeviceState& s = state(device);
  Stats r;
  r.launches = s.launches.load(std::memory_order_relaxed);
  r.syncs = s.syncs.load(std::memory_order_relaxed);
  r.h2d_copies = s.h2d_copies.load(std::memory_order_relaxed);
  r.h2d_bytes = s.h2d_bytes.load(std::memory_order_relaxed);
  r.d2h_copies = s.d2h_copies.load(std::memory_order_relaxed);
  r.d2h_bytes = s.d2h_bytes.load(std::memory_order_relaxed);
  r.d2d_copies = s.d2d_copies.load(std::memory_order_relaxed);
  r.d2d_bytes = s.d2d_bytes.load(std::memory_order_relaxed);
  return r;
}

void reset_stats(int device) {
  DeviceState& s = state(device);
  for (auto* c : {&s.launches, &s.syncs, &s.h2d_copies, &s.h2d_bytes, &s.d2h_copies, &s.d2h_bytes, &s.d2d_copies,
                  &s.d2d_bytes})
    c->store(0, std::memory_order_relaxed);
}

}  // namespace kn::cuda
