// kn::Storage: a move-only owner of one block of bytes on one device.
//
// Host blocks are 64-byte aligned and come from the CPU backend's caching allocator
// (<kernelnet/cpu/host_allocator.hpp>): a freed block is kept by size class and handed
// to the next tensor of that size, so a training loop stops allocating once its sizes
// repeat; kn::cpu::empty_cache() gives the cached blocks back.
//
// Device blocks come from kn::cuda::malloc, which draws on CUDA's stream-ordered pool
// (cudaMallocAsync on the device's one stream; see kernels/runtime.cu): plain
// cudaMalloc/cudaFree are slow and cudaFree makes the whole device wait, which a
// training loop allocating activations every step cannot afford.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

#include <kernelnet/cpu/host_allocator.hpp>
#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/device.hpp>
#include <kernelnet/error.hpp>

namespace kn {

class Storage {
 public:
  static constexpr std::size_t kAlignment = 64;
  Storage() = default;
  Storage(std::size_t bytes, Device device) : device_(device) {
    if (device.is_cpu()) {
      bytes_ = bytes;
      if (bytes > 0) {
        // 64-byte aligned (a cache line; PyTorch's CPU allocator does the same): the CPU
        // ops' vectorised loops then split a tensor the same way whatever its address, so
        // a run repeats bit for bit (resuming from a checkpoint relies on it).
        static_assert(kAlignment == cpu::detail::HostCache::kAlignment);
        data_ = cpu::detail::host_cache().allocate(bytes);
        if (!data_) throw Error(str("out of host memory allocating ", bytes, " bytes"));
      }
    } else {
      bytes_ = bytes;
      if (bytes > 0) data_ = cuda::malloc(bytes, device.index);
    }
  }
  ~Storage() { reset(); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  Storage(Storage&& o) noexcept { *this = std::move(o); }
  Storage& operator=(Storage&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
      device_ = o.device_;
    }
    return *this;
  }

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void reset() noexcept {
    if (!data_) return;
    if (device_.is_cpu()) cpu::detail::host_cache().deallocate(data_, bytes_);
    else cuda::free(data_, device_.index);
    data_ = nullptr;
    bytes_ = 0;
  }
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
};

}  // namespace kn
