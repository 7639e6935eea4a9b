// The CPU backend's caching host allocator: where every CPU tensor's bytes come from
// (kn::Storage, <kernelnet/storage.hpp>).
//
// Why: a training loop frees and allocates the same activations and gradients every
// step. Straight from the C library, a block of 32 MiB or more is a fresh mmap each
// time, and the kernel zero-fills every 4 KiB page on first touch: at 100000 rows x
// 512 hidden that was half the epoch's CPU time (docs/cpu-scaling.md). Smaller blocks
// cost an aligned_alloc/free pair each, about 15 per Iris epoch. Here a freed block is
// kept, by size class, and the next request of that class takes it back: once sizes
// repeat, a loop allocates nothing.
//
//   - Blocks are 64-byte aligned (a cache line; see <kernelnet/storage.hpp> for why).
//   - Size classes: multiples of 64 bytes up to 4 KiB, then 8 classes per power of two
//     (a block is at most 12.5 % bigger than asked for).
//   - Thread-safe: one mutex (uncontended, it costs less than the aligned_alloc it saves).
//     A block freed on another thread than the one that allocated it is simply cached.
//   - Bounded: at most host_cache_limit() bytes are kept (default: a quarter of physical
//     memory); a block that would go over it is returned to the C library, after the
//     cache has given up blocks of other sizes. A failed allocation empties the cache
//     and tries once more.
//   - kn::cpu::empty_cache() hands every cached block back (PyTorch's
//     torch.cuda.empty_cache(), for the host).
//   - Under AddressSanitizer (or with KN_NO_HOST_CACHE defined, for valgrind or a
//     measurement without the cache) every block goes straight to the C library and
//     back, so a use after free is still reported.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <unistd.h>

namespace kn::cpu {

// What the cache has done since the last reset_host_cache_stats().
struct HostCacheStats {
  int64_t hits = 0;          // allocations served from the cache
  int64_t misses = 0;        // allocations that went to the C library
  int64_t cached_blocks = 0; // blocks held now (not counting live ones)
  int64_t cached_bytes = 0;  // their bytes
  int64_t limit_bytes = 0;   // host_cache_limit()
  bool enabled = true;       // false under AddressSanitizer: no block is ever cached
};

namespace detail {

#if defined(__SANITIZE_ADDRESS__) || defined(KN_NO_HOST_CACHE)
inline constexpr bool kHostCacheEnabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kHostCacheEnabled = false;
#else
inline constexpr bool kHostCacheEnabled = true;
#endif
#else
inline constexpr bool kHostCacheEnabled = true;
#endif

class HostCache {
 public:
  static constexpr std::size_t kAlignment = 64;

  // The size class of a request: its index and the bytes a block of it holds.
  static int size_class(std::size_t bytes, std::size_t* out) {
    if (bytes <= 4096) {
      const std::size_t lines = bytes == 0 ? 1 : (bytes + 63) / 64;
      *out = lines * 64;
      return int(lines) - 1;  // 0 .. 63
    }
    // 2^e < bytes <= 2^(e+1): eight steps of 2^(e-3) each.
    int e = 63 - __builtin_clzll((unsigned long long)(bytes - 1));
    const std::size_t step = std::size_t(1) << (e - 3);
    const std::size_t j = (bytes - 1 - (std::size_t(1) << e)) / step;  // 0 .. 7
    *out = (std::size_t(1) << e) + (j + 1) * step;
    return 64 + (e - 12) * 8 + int(j);
  }

  void* allocate(std::size_t bytes) {
    std::size_t cb = 0;
    const int c = size_class(bytes, &cb);
    if constexpr (kHostCacheEnabled) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (std::size_t(c) < free_.size() && !free_[c].empty()) {
        void* p = free_[c].back();
        free_[c].pop_back();
        cached_bytes_ -= cb;
        --cached_blocks_;
        ++hits_;
        return p;
      }
      ++misses_;
    }
    void* p = std::aligned_alloc(kAlignment, cb);
    if (!p && kHostCacheEnabled) {
      empty();
      p = std::aligned_alloc(kAlignment, cb);
    }
    return p;  // nullptr: out of memory (Storage throws)
  }

  // `bytes` as given to allocate().
  void deallocate(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    if constexpr (kHostCacheEnabled) {
      std::size_t cb = 0;
      const int c = size_class(bytes, &cb);
      std::lock_guard<std::mutex> lock(mutex_);
      if (cb <= limit_) {
        // Room first: the other sizes' blocks go, largest first.
        for (int k = int(free_.size()) - 1; k >= 0 && cached_bytes_ + cb > limit_; --k) {
          if (k == c) continue;
          while (!free_[k].empty() && cached_bytes_ + cb > limit_) {
            std::free(free_[k].back());
            free_[k].pop_back();
            cached_bytes_ -= class_bytes(k);
            --cached_blocks_;
          }
        }
        if (cached_bytes_ + cb <= limit_) {
          try {
            if (free_.size() <= std::size_t(c)) free_.resize(c + 1);
            free_[c].push_back(p);
            cached_bytes_ += cb;
            ++cached_blocks_;
            return;
          } catch (...) {  // no memory for the list: free the block instead
          }
        }
      }
    }
    std::free(p);
  }

  void empty() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& list : free_) {
      for (void* p : list) std::free(p);
      list.clear();
      list.shrink_to_fit();
    }
    cached_bytes_ = 0;
    cached_blocks_ = 0;
  }

  HostCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    HostCacheStats s;
    s.hits = hits_, s.misses = misses_, s.cached_blocks = cached_blocks_;
    s.cached_bytes = int64_t(cached_bytes_), s.limit_bytes = int64_t(limit_);
    s.enabled = kHostCacheEnabled;
    return s;
  }
  void reset_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    hits_ = misses_ = 0;
  }
  std::size_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  void set_limit(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
      if (cached_bytes_ <= limit_) return;
    }
    empty();
  }

  ~HostCache() { empty(); }

 private:
  static std::size_t class_bytes(int c) {
    if (c < 64) return std::size_t(c + 1) * 64;
    const int e = 12 + (c - 64) / 8, j = (c - 64) % 8;
    return (std::size_t(1) << e) + std::size_t(j + 1) * (std::size_t(1) << (e - 3));
  }
  static std::size_t default_limit() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return std::size_t(1) << 30;
    return std::size_t(pages) * std::size_t(page) / 4;
  }

  std::mutex mutex_;
  std::vector<std::vector<void*>> free_;  // by size class
  std::size_t cached_bytes_ = 0;
  int64_t cached_blocks_ = 0, hits_ = 0, misses_ = 0;
  std::size_t limit_ = default_limit();
};

// The process's one cache. Never destroyed: a tensor in a static object may be freed
// after every function-local static is gone, and must still find it.
inline HostCache& host_cache() {
  static HostCache* cache = new HostCache;
  return *cache;
}

}  // namespace detail

// Hands every cached host block back to the C library (live tensors keep theirs).
inline void empty_cache() { detail::host_cache().empty(); }
// Hits, misses and what is held now.
inline HostCacheStats host_cache_stats() { return detail::host_cache().stats(); }
inline void reset_host_cache_stats() { detail::host_cache().reset_stats(); }
// The most bytes the cache keeps; lowering it below what is cached empties the cache.
inline std::size_t host_cache_limit() { return detail::host_cache().limit(); }
inline void set_host_cache_limit(std::size_t bytes) { detail::host_cache().set_limit(bytes); }

}  // namespace kn::cpu
