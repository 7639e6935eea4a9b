// What the harness's tests share: tests/gpu's device buffers and tolerances (they run
// unchanged on the emulated device), the CPU suite's helpers (error_of), and a way to run
// a check on emulated devices of different sizes.
#pragma once
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "emu.hpp"
#include "gpu_test_util.hpp"
#include "test_util.hpp"

namespace kn::test {

// The emulated device's SM count for as long as it lives. One SM makes the grid-stride
// kernels' grids small, so each thread loops over several elements; 132 (an H100 SXM)
// gives each element its own thread on the sizes tested here.
class WithSms {
 public:
  explicit WithSms(int sms) : saved_(std::exchange(kn_emu::options().sm_count, sms)) {}
  ~WithSms() { kn_emu::options().sm_count = saved_; }
  WithSms(const WithSms&) = delete;
  WithSms& operator=(const WithSms&) = delete;

 private:
  int saved_;
};
constexpr int kSmCounts[] = {1, 132};

}  // namespace kn::test
