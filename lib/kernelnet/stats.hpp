// kn::stats(): what crossed the host/device boundary since the last reset_stats(), as a
// kn::Stats (<kernelnet/counters.hpp>, the one counter type, which the trace's step
// summaries use too). The lesson's three overheads in counters: launches,
// synchronisations, bytes copied.
#pragma once
#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/device.hpp>

namespace kn {

inline Stats stats(Device device = Device::cuda(0)) {
  if (device.is_cpu() || !cuda::is_available()) return {};
  return cuda::stats(device.index);
}
inline void reset_stats(Device device = Device::cuda(0)) {
  if (device.is_cuda() && cuda::is_available()) cuda::reset_stats(device.index);
}

}  // namespace kn
