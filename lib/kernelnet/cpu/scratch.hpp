// Scratch memory for the CPU ops: two buffers per thread, grown on demand and kept, so
// an op that needs temporary space allocates only the first time a size is seen.
#pragma once
#include <cstddef>
#include <vector>

namespace kn::cpu::detail {

// Buffer `which` (0 or 1) of this thread, at least n floats. Valid until the next call
// with the same `which` on this thread.
inline float* scratch(std::size_t n, int which) {
  static thread_local std::vector<float> buffers[2];
  if (buffers[which].size() < n) buffers[which].resize(n);
  return buffers[which].data();
}

}  // namespace kn::cpu::detail
