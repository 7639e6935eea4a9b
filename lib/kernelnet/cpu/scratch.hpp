// Scratch memory for the CPU ops: two buffers per thread, grown on demand and kept, so
// an op that needs temporary space allocates only the first time a size is seen.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace kn::cpu::detail {

// Buffer `which` (0 or 1) of this thread, at least n floats. Valid until the next call
// with the same `which` on this thread.
inline float* scratch(std::size_t n, int which) {
  // 64-byte aligned, as tensors are (<kernelnet/storage.hpp>): a reduction over scratch
  // memory splits the same way on every call, so results repeat bit for bit.
  struct Buffer {
    float* data = nullptr;
    std::size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  static thread_local Buffer buffers[2];
  Buffer& b = buffers[which];
  if (b.size < n) {
    std::free(b.data);
    b.data = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
    if (!b.data) throw std::bad_alloc();
    b.size = n;
  }
  return b.data;
}
}  // namespace kn::cpu::detail
