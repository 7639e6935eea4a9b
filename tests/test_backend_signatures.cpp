// The two backends of every op: each op header (ops/<op>.hpp) checks at compile time
// that kn::cuda::<op> takes kn::cpu::<op>'s parameters and then the device, so a drifting
// CUDA declaration fails the build even where no GPU exists. Here: that the check
// itself tells a twin from a drifted declaration, and that the device an op is given is
// the device it goes to.
#include <vector>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/ops.hpp>

#include <catch2/catch.hpp>

using kn::ops::detail::is_cuda_twin;
using Cpu = void (*)(float*, const float*, int64_t);

static_assert(is_cuda_twin<Cpu, void (*)(float*, const float*, int64_t, int)>, "a twin: the CPU parameters, then int");
static_assert(!is_cuda_twin<Cpu, void (*)(float*, const float*, int64_t)>, "no device");
static_assert(!is_cuda_twin<Cpu, void (*)(float*, const float*, int, int)>, "a parameter's type drifted");
static_assert(!is_cuda_twin<Cpu, void (*)(int, float*, const float*, int64_t)>, "the device must come last");
static_assert(!is_cuda_twin<Cpu, int (*)(float*, const float*, int64_t, int)>, "the return type differs");

TEST_CASE("the CUDA-twin check accepts twins and rejects drifted declarations", "[backend]") {
  CHECK(is_cuda_twin<decltype(&kn::cpu::gemm), decltype(&kn::cuda::gemm)>);
  CHECK_FALSE(is_cuda_twin<decltype(&kn::cpu::relu_forward), decltype(&kn::cuda::relu_backward)>);
}

TEST_CASE("an op on a CUDA device that does not exist is an error naming that device", "[backend]") {
  // On a machine with two GPUs cuda:1 exists and the op would run: nothing to check there.
  if (kn::cuda::device_count() >= 2) return;
  std::vector<float> x(4, 1.0f), y(4, -1.0f);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(kn::ops::relu_forward(kn::Device::cuda(1), y.data(), x.data(), 4), Contains("CUDA device 1"));
  CHECK_THROWS_WITH(kn::ops::fill(kn::Device::cuda(1), y.data(), 2.0f, 4), Contains("CUDA device 1"));
  CHECK(y == std::vector<float>(4, -1.0f));  // nothing ran on the CPU instead
}
