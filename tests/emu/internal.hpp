// What the harness's own files share (scheduler.cpp, runtime.cpp): not for tests.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda_runtime.h"
#include "emu.hpp"

namespace kn_emu {

// A launch that cannot be run as written: recorded as the launch's error.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The emulated device: an H100 or H200's limits.
constexpr std::size_t kDefaultSharedPerBlock = 48 * 1024;  // dynamic, without cudaFuncSetAttribute
constexpr std::size_t kMaxSharedPerBlock = 227 * 1024;     // cudaDevAttrMaxSharedMemoryPerBlockOptin
constexpr int kThreadsPerSm = 2048;

// One __shared__ variable (or the dynamic array) of one block: its own allocation, so
// that AddressSanitizer reports an access past either end; filled with a pattern that
// depends on the run (`order`), never with zeros.
class SharedBytes {
 public:
  SharedBytes(std::size_t bytes, std::size_t align, int order);
  ~SharedBytes();
  SharedBytes(const SharedBytes&) = delete;
  SharedBytes& operator=(const SharedBytes&) = delete;
  void* data() const { return data_; }

 private:
  std::size_t align_;
  void* data_;
};

// Runs every block of one launch once, in the order `order` picks (0 forward, 1 reverse,
// then shuffles from `seed`); throws Failure.
void run_grid(const Config& config, ThreadBody body, void* closure, int order, std::uint64_t seed);
Counters& mutable_counters();

}  // namespace kn_emu
