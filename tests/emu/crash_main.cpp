// kn-emu-crash <case>: runs one planted defect that only the sanitizers can see (an
// access out of bounds, a misaligned float4). The process must die with their report,
// naming the planted line; tests/emu/expect_report.cmake checks that it does.
#include <cstdio>
#include <cstring>
#include <vector>

#include <kernelnet/cuda/runtime.hpp>

#include "defects/defects.hpp"

namespace {

float* device_floats(std::size_t n) {
  auto* p = static_cast<float*>(kn::cuda::malloc(n * sizeof(float), 0));
  const std::vector<float> ones(n, 1.0f);
  kn::cuda::copy_to_device(p, ones.data(), n * sizeof(float), 0);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kn-emu-crash global_overflow|shared_overflow|dynamic_shared_overflow|misaligned_float4\n");
    return 2;
  }
  const char* which = argv[1];
  if (!std::strcmp(which, "global_overflow")) {
    // 300 elements: the second block's threads 44..255 run past both buffers.
    float* x = device_floats(300);
    float* y = device_floats(300);
    kn_emu_defects::relu_missing_guard(y, x, 300);
  } else if (!std::strcmp(which, "shared_overflow")) {
    float* x = device_floats(16 * 40);
    float* out = device_floats(40);
    kn_emu_defects::column_sums_shared_overflow(out, x, 16, 40);
  } else if (!std::strcmp(which, "dynamic_shared_overflow")) {
    // 100 floats staged in 396 bytes of dynamic shared memory: the last one lands past it.
    float* x = device_floats(100);
    float* out = device_floats(1);
    kn_emu_defects::dynamic_shared_sum(out, x, 100, 99 * sizeof(float));
  } else if (!std::strcmp(which, "misaligned_float4")) {
    float* x = device_floats(8);
    float* out = device_floats(1);
    kn_emu_defects::misaligned_float4_load(out, x);
  } else {
    std::fprintf(stderr, "kn-emu-crash: no case '%s'\n", which);
    return 2;
  }
  std::fprintf(stderr, "kn-emu-crash: %s ran to the end: the sanitizers did not stop it\n", which);
  return 0;
}
