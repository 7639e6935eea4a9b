// kn::cuda::runtime_info(): what kn-info prints about the CUDA side, read from the
// runtime and the driver, never assumed.
#include <cuda_runtime.h>

#include "common.cuh"

namespace kn::cuda {

RuntimeInfo runtime_info() {
  RuntimeInfo r;
  r.built_with_cuda = true;
  (void)cudaRuntimeGetVersion(&r.runtime_version);
  if (cudaDriverGetVersion(&r.driver_version) != cudaSuccess) r.driver_version = 0;  // 0: no driver
  r.available = is_available();
  r.device_count = device_count();
  if (!r.available) {
    r.unavailable_reason = unavailable_reason();
    (void)cudaGetLastError();
    return r;
  }
  int current = 0;
  KN_CUDA_CHECK(cudaGetDevice(&current));
  r.current_device = current;
  for (int d = 0; d < r.device_count; ++d) {
    DeviceProperties p;
    p.index = d;
    cudaDeviceProp prop{};
    KN_CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
    p.name = prop.name;
    p.major = prop.major;
    p.minor = prop.minor;
    p.sm_count = prop.multiProcessorCount;
    p.total_bytes = prop.totalGlobalMem;
    p.l2_bytes = prop.l2CacheSize;
    p.max_threads_per_sm = prop.maxThreadsPerMultiProcessor;
    p.max_threads_per_block = prop.maxThreadsPerBlock;
    p.warp_size = prop.warpSize;
    p.shared_bytes_per_sm = prop.sharedMemPerMultiprocessor;
    // cudaDeviceProp lost its clock fields in CUDA 13; the attributes remain. A driver
    // that does not report them leaves 0, and kn-info says "not reported".
    if (cudaDeviceGetAttribute(&p.memory_clock_khz, cudaDevAttrMemoryClockRate, d) != cudaSuccess) {
      p.memory_clock_khz = 0;
      (void)cudaGetLastError();
    }
    if (cudaDeviceGetAttribute(&p.bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, d) != cudaSuccess) {
      p.bus_width_bits = 0;
      (void)cudaGetLastError();
    }
    // Free memory is per context: ask with the device current, then put the caller's back.
    KN_CUDA_CHECK(cudaSetDevice(d));
    const cudaError_t err = cudaMemGetInfo(&p.free_bytes, &p.total_bytes);
    (void)cudaSetDevice(current);
    KN_CUDA_CHECK(err);
    r.devices.push_back(p);
  }
  return r;
}

}  // namespace kn::cuda
