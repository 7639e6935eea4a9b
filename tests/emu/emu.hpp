// The CPU execution harness seen from a test (docs/kernels-on-cpu.md): the emulated
// device's settings, the device memory it knows about, and what it ran.
//
// Tests call kernelnet's CUDA host functions (kn::cuda::gemm, relu_forward, ...) as on a
// GPU; their kernels, compiled from kernels/ by g++ (tests/emu/CMakeLists.txt), run here.
// Device memory is host memory that the harness tracks: kn::cuda::malloc and the copies
// of <kernelnet/cuda/runtime.hpp> work on device 0, so tests/gpu/gpu_test_util.hpp's
// DeviceArray works unchanged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kn_emu {

struct Options {
  // Each launch runs this many times, in different orders, from the same memory: first
  // every block and thread in order, then in reverse, then shuffled (seeded). The memory
  // each run leaves must agree bit for bit with the first's. 1 turns the check off.
  int orders = 4;
  std::uint64_t seed = 1;
  // The emulated device's streaming multiprocessors: the grid-stride kernels size their
  // grids from it (kn::cuda::detail::resident_blocks), so few SMs give few blocks whose
  // threads loop, many give many blocks.
  int sm_count = 4;
};
// The settings every launch reads; KN_EMU_ORDERS and KN_EMU_SEED in the environment
// change the defaults at start.
Options& options();

// What the harness has run since the last reset.
struct Counters {
  std::int64_t launches = 0;  // kernel launches (each run in `orders` orders)
  std::int64_t blocks = 0;    // blocks run, all orders
  std::int64_t threads = 0;   // threads run, all orders
  std::int64_t switches = 0;  // fiber switches: each time a thread stopped at a barrier or warp intrinsic
};
Counters counters();
// The launch texts (KN_LAUNCH's kernel argument, "(sgemm_tiny<TA, TB>)") in order.
std::vector<std::string> launched();
void reset();

// Device memory live now (kn::cuda::malloc less kn::cuda::free), in bytes.
std::size_t device_bytes();

}  // namespace kn_emu
