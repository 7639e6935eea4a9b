// The CUDA runtime seen from plain C++: device discovery, memory, copies,
// synchronisation, each device's stream and counters (defined in kernels/runtime.cu),
// what kn-info reports and launching a user's own kernel (kernels/device_info.cu,
// kernels/user_launch.cu), when kernelnet is built with CUDA (KN_WITH_CUDA=1);
// otherwise the inline fallbacks below say "no CUDA" clearly instead of failing to link.
//
// Devices are named by index everywhere (kn::Device::index); a function that takes one
// works on that device whatever the caller's current device is.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <kernelnet/counters.hpp>
#include <kernelnet/error.hpp>


namespace kn::cuda {

// What kn-info reports about one GPU (kernels/device_info.cu), read from the driver.
struct DeviceProperties {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;           // compute capability: 9.0 on an H100 or H200
  int sm_count = 0;                   // streaming multiprocessors
  std::size_t total_bytes = 0;        // global memory
  std::size_t free_bytes = 0;         // free now (cudaMemGetInfo)
  int memory_clock_khz = 0;           // peak memory clock; 0 when the driver does not say
  int bus_width_bits = 0;             // memory bus width; 0 when the driver does not say
  int l2_bytes = 0;
  int max_threads_per_sm = 0;
  int max_threads_per_block = 0;
  int warp_size = 0;
  std::size_t shared_bytes_per_sm = 0;
  // Two transfers per clock (DDR), bus width / 8 bytes each: the theoretical peak.
  double peak_bandwidth_gbs() const { return 2.0 * memory_clock_khz * 1e3 * (bus_width_bits / 8.0) / 1e9; }
};

// The CUDA runtime as this process sees it.
struct RuntimeInfo {
  bool built_with_cuda = false;   // kernelnet was compiled with its CUDA backend
  bool available = false;         // is_available(): a driver and at least one device
  std::string unavailable_reason; // why not, when !available
  int runtime_version = 0;        // CUDA runtime kernelnet was built with: 13000 is 13.0
  int driver_version = 0;         // the newest CUDA the driver supports; 0 without a driver
  int device_count = 0;
  int current_device = -1;        // -1 when there is none
  std::vector<DeviceProperties> devices;
};

// The architecture a compute capability belongs to: 9.0 -> "Hopper".
inline const char* architecture_name(int major, int minor) {
  switch (major) {
    case 3: return "Kepler";
    case 5: return "Maxwell";
    case 6: return "Pascal";
    case 7: return minor >= 5 ? "Turing" : "Volta";
    case 8: return minor == 9 ? "Ada Lovelace" : "Ampere";
    case 9: return "Hopper";
    case 10: case 11: case 12: return "Blackwell";
    default: return "unknown";
  }
}

// "10.2" from 10020, as the CUDA version numbers are written (1000 * major + 10 * minor).
inline std::string version_string(int v) {
  return v <= 0 ? std::string("none") : std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

// A launch shape for kernels written outside kernelnet (the plain-C++ twin of dim3).
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// Throws kn::Error naming the failed expression, where it was, and CUDA's own words, for
// any CUDA runtime call: KN_CUDA_CHECK(cudaMemsetAsync(p, 0, n, stream)). Plain C++ (a
// cudaError_t is an int, cudaSuccess is 0), so code compiled by g++ can use it too.
#define KN_CUDA_CHECK(expr)                                                          \
  do {                                                                               \
    const int kn_cuda_err_ = static_cast<int>(expr);                                 \
    if (kn_cuda_err_ != 0) ::kn::cuda::throw_error(kn_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#if KN_WITH_CUDA
[[noreturn]] void throw_error(int cuda_error, const char* expr, const char* file, int line);
bool is_available();               // a driver and at least one device
std::string unavailable_reason();  // why not, when is_available() is false
int device_count();
void set_device(int device);
// Throws kn::Error on failure; out-of-memory names the bytes asked for and the free memory.
void* malloc(std::size_t bytes, int device);
void free(void* ptr, int device) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes, int device);
void copy_to_host(void* dst, const void* src, std::size_t bytes, int device);  // synchronises
void copy_on_device(void* dst, const void* src, std::size_t bytes, int device);
void synchronize(int device);
// The device's one stream, a cudaStream_t: every op, copy and allocation of kernelnet on
// that device is queued on it, in order. Anything else that touches kernelnet memory
// (cuBLAS, a user's kernel, a CUDA event) must go on it too: it is a non-blocking
// stream, not ordered against the legacy default stream.
void* stream(int device);
// Launches, waits and copies on the device since the last reset (ops and micros stay 0).
Stats stats(int device);
void reset_stats(int device);
// Reads every device's properties; a machine without a GPU gets available = false and
// the reason. Never throws for a missing driver or device.
RuntimeInfo runtime_info();
// Launches a kernel written outside kernelnet (examples/custom_op) as kernelnet launches
// its own: with `device` current, `launch(stream)` must launch it on `stream`, a
// cudaStream_t (the device's stream, so the kernel runs in order with kernelnet's work).
// The launch is then checked, counted in kn::stats() and traced (named `kernel`).
void launch_user_kernel(const char* kernel, Dim3 grid, Dim3 block, const std::function<void(void* stream)>& launch,
                        int device);
#else
inline std::string unavailable_reason() {
  return "kernelnet was built without CUDA (configured with -DKN_CUDA=OFF, or nvcc was not found)";
}
inline bool is_available() { return false; }
inline int device_count() { return 0; }
[[noreturn]] inline void no_cuda(const char* what) {
  throw Error(str(what, ": ", unavailable_reason()));
}
[[noreturn]] inline void throw_error(int cuda_error, const char* expr, const char* file, int line) {
  throw Error(str("CUDA error ", cuda_error, " in ", expr, " at ", file, ":", line, "; ", unavailable_reason()));
}
inline void set_device(int) { no_cuda("kn::cuda::set_device"); }
inline void* malloc(std::size_t, int) { no_cuda("kn::cuda::malloc"); }
inline void free(void*, int) noexcept {}
inline void copy_to_device(void*, const void*, std::size_t, int) { no_cuda("kn::cuda::copy_to_device"); }
inline void copy_to_host(void*, const void*, std::size_t, int) { no_cuda("kn::cuda::copy_to_host"); }
inline void copy_on_device(void*, const void*, std::size_t, int) { no_cuda("kn::cuda::copy_on_device"); }
inline void synchronize(int) { no_cuda("kn::cuda::synchronize"); }
inline void* stream(int) { no_cuda("kn::cuda::stream"); }
inline Stats stats(int) { return {}; }
inline void reset_stats(int) {}
inline RuntimeInfo runtime_info() {
  RuntimeInfo r;
  r.unavailable_reason = unavailable_reason();
  return r;
}
inline void launch_user_kernel(const char*, Dim3, Dim3, const std::function<void(void*)>&, int) {
  no_cuda("kn::cuda::launch_user_kernel");
}
#endif

}  // namespace kn::cuda
