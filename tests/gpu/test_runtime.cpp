// The CUDA runtime: device discovery, the counters behind kn::stats(), allocation
// failures, and error messages that say where they came from.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <kernelnet/ops.hpp>
#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>

#include "gpu_test_util.hpp"

using kn::test::DeviceArray;
using Catch::Matchers::Contains;

TEST_CASE("a device is there and named", "[gpu]") {
  CHECK(kn::cuda::is_available());
  CHECK(kn::cuda::device_count() >= 1);
  CHECK(kn::cuda::unavailable_reason().empty());
  kn::cuda::set_device(0);
  CHECK_THROWS_WITH(kn::cuda::set_device(kn::cuda::device_count()), Contains("does not exist"));
  CHECK_THROWS_AS(kn::cuda::set_device(-1), kn::Error);
}

TEST_CASE("the counters count launches, copies and synchronisations", "[gpu]") {
  DeviceArray<float> x(1000);
  const std::vector<float> host(1000, 1.0f);
  kn::cuda::synchronize(0);
  kn::cuda::reset_stats(0);
  kn::Stats s = kn::cuda::stats(0);
  CHECK(s.launches == 0);
  CHECK(s.syncs == 0);
  CHECK(s.h2d_copies == 0);
  CHECK(s.h2d_bytes == 0);
  CHECK(s.d2h_copies == 0);
  CHECK(s.d2h_bytes == 0);

  kn::cuda::copy_to_device(x.get(), host.data(), 4000, 0);  // pageable: no wait
  s = kn::cuda::stats(0);
  CHECK(s.h2d_copies == 1);
  CHECK(s.h2d_bytes == 4000);
  CHECK(s.syncs == 0);

  kn::cuda::fill(x.get(), 2.0f, 1000, 0);
  kn::cuda::relu_forward(x.get(), x.get(), 1000, 0);
  s = kn::cuda::stats(0);
  CHECK(s.launches == 2);
  CHECK(s.syncs == 0);  // ops queue, they never wait

  std::vector<float> back(1000);
  kn::cuda::copy_to_host(back.data(), x.get(), 4000, 0);
  CHECK(back[999] == 2.0f);
  s = kn::cuda::stats(0);
  CHECK(s.d2h_copies == 1);
  CHECK(s.d2h_bytes == 4000);
  CHECK(s.syncs == 1);

  kn::cuda::copy_on_device(x.get(), x.get() + 500, 2000, 0);  // device to device: not counted
  kn::cuda::synchronize(0);
  s = kn::cuda::stats(0);
  CHECK(s.syncs == 2);
  CHECK(s.h2d_copies == 1);
  CHECK(s.d2h_copies == 1);

  kn::cuda::reset_stats(0);
  s = kn::cuda::stats(0);
  CHECK(s.launches == 0);
  CHECK(s.syncs == 0);
  CHECK(s.d2h_bytes == 0);
}

TEST_CASE("a host buffer can be reused as soon as copy_to_device returns", "[gpu]") {
  const size_t n = size_t(1) << 22;
  DeviceArray<float> a(n), b(n);
  std::vector<float> host(n, 1.0f);
  kn::cuda::copy_to_device(a.get(), host.data(), n * sizeof(float), 0);
  std::fill(host.begin(), host.end(), 2.0f);  // must not reach a
  kn::cuda::copy_to_device(b.get(), host.data(), n * sizeof(float), 0);
  std::fill(host.begin(), host.end(), 3.0f);
  const auto got_a = a.download(), got_b = b.download();
  CHECK(std::count(got_a.begin(), got_a.end(), 1.0f) == int64_t(n));
  CHECK(std::count(got_b.begin(), got_b.end(), 2.0f) == int64_t(n));
}

TEST_CASE("copies of zero bytes and malloc(0) do nothing", "[gpu]") {
  kn::cuda::reset_stats(0);
  CHECK(kn::cuda::malloc(0, 0) == nullptr);
  kn::cuda::free(nullptr, 0);
  kn::cuda::copy_to_device(nullptr, nullptr, 0, 0);
  kn::cuda::copy_to_host(nullptr, nullptr, 0, 0);
  kn::cuda::copy_on_device(nullptr, nullptr, 0, 0);
  const kn::Stats s = kn::cuda::stats(0);
  CHECK(s.h2d_copies == 0);
  CHECK(s.d2h_copies == 0);
  CHECK(s.syncs == 0);
}

TEST_CASE("out of memory names the size asked for and the memory free", "[gpu][api-error]") {
  const std::size_t huge = std::size_t(1) << 50;  // 1 PiB
  try {
    void* p = kn::cuda::malloc(huge, 0);
    kn::cuda::free(p, 0);
    FAIL("allocating 1 PiB succeeded");
  } catch (const kn::Error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Contains("1125899906842624"));
    CHECK_THAT(what, Contains("out of memory"));
    CHECK_THAT(what, Contains("free"));
  }
  // The failure must not linger as CUDA's "last error" and be blamed on the next kernel.
  DeviceArray<float> x(10);
  kn::cuda::fill(x.get(), 1.0f, 10, 0);
  CHECK(x.download()[9] == 1.0f);
}

TEST_CASE("CUDA errors carry the expression, file and line", "[gpu][api-error]") {
  const int bad_device = kn::cuda::device_count() + 100;
  int line = 0;
  try {
    line = __LINE__ + 1;
    KN_CUDA_CHECK(cudaSetDevice(bad_device));
    FAIL("cudaSetDevice on a missing device succeeded");
  } catch (const kn::Error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Contains("cudaSetDevice(bad_device)"));
    CHECK_THAT(what, Contains("test_runtime.cpp:" + std::to_string(line)));
    CHECK_THAT(what, Contains("cudaErrorInvalidDevice"));
  }
  // The error was cleared: the next launch check passes.
  DeviceArray<float> x(10);
  kn::cuda::fill(x.get(), 1.0f, 10, 0);
  CHECK(x.download()[0] == 1.0f);
}

TEST_CASE("an op goes to the device it is given: a missing one is an error naming it", "[gpu]") {
  // With one GPU, cuda:1 does not exist: the op must say so, not launch on device 0.
  if (kn::cuda::device_count() >= 2) return;
  DeviceArray<float> x(10);
  kn::cuda::fill(x.get(), 1.0f, 10, 0);
  kn::cuda::synchronize(0);
  const int64_t before = kn::cuda::stats(0).launches;
  CHECK_THROWS_WITH(kn::cuda::fill(x.get(), 7.0f, 10, 1), Contains("CUDA device 1 does not exist"));
  CHECK_THROWS_WITH(kn::ops::relu_forward(kn::Device::cuda(1), x.get(), x.get(), 10), Contains("CUDA device 1"));
  CHECK(kn::cuda::stats(0).launches == before);
  CHECK(x.download() == std::vector<float>(10, 1.0f));
}
