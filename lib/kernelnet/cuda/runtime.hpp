// The CUDA runtime seen from plain C++: device discovery, memory, copies,
// synchronisation and the per-device counters. Defined in kernels/runtime.cu
// when kernelnet is built with CUDA (KN_WITH_CUDA=1); otherwise the inline
// fallbacks below say "no CUDA" clearly instead of failing to link.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <kernelnet/error.hpp>

namespace kn {

// What crossed the host/device boundary, per device. kn::stats() reads these.
struct Stats {
  int64_t launches = 0;      // kernel launches
  int64_t syncs = 0;         // host waits on the device (item(), copies to host, synchronize())
  int64_t h2d_copies = 0;    // copies host -> device
  int64_t h2d_bytes = 0;
  int64_t d2h_copies = 0;    // copies device -> host
  int64_t d2h_bytes = 0;
};

}  // namespace kn

namespace kn::cuda {

#if KN_WITH_CUDA
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
Stats stats(int device);
void reset_stats(int device);
#else
inline std::string unavailable_reason() {
  return "kernelnet was built without CUDA (nvcc was not found when it was configured)";
}
inline bool is_available() { return false; }
inline int device_count() { return 0; }
[[noreturn]] inline void no_cuda(const char* what) {
  throw Error(str(what, ": ", unavailable_reason()));
}
inline void set_device(int) { no_cuda("kn::cuda::set_device"); }
inline void* malloc(std::size_t, int) { no_cuda("kn::cuda::malloc"); }
inline void free(void*, int) noexcept {}
inline void copy_to_device(void*, const void*, std::size_t, int) { no_cuda("kn::cuda::copy_to_device"); }
inline void copy_to_host(void*, const void*, std::size_t, int) { no_cuda("kn::cuda::copy_to_host"); }
inline void copy_on_device(void*, const void*, std::size_t, int) { no_cuda("kn::cuda::copy_on_device"); }
inline void synchronize(int) { no_cuda("kn::cuda::synchronize"); }
inline Stats stats(int) { return {}; }
inline void reset_stats(int) {}
#endif

}  // namespace kn::cuda
