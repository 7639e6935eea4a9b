// The harness checks itself: each planted defect of defects/defects.cu must be reported,
// by kind, with the kernel's name and the place; the intact twin must pass. (The defects
// only the sanitizers see are crash_main.cpp's, checked by expect_report.cmake.)
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <kernelnet/error.hpp>
#include <kernelnet/ops/gemm.hpp>

#include "defects/defects.hpp"
#include "emu_test.hpp"

using Catch::Matchers::Contains;
using kn::test::DeviceArray;
using kn::test::error_of;

TEST_CASE("a tiled GEMM without its second __syncthreads is reported as a race", "[emu][defects]") {
  const int M = 13, N = 11, K = 29;  // 4 tiles of k: the next tile's loads overwrite the one being read
  const auto a = kn::test::random_floats(M * K, 1), b = kn::test::random_floats(K * N, 2);
  DeviceArray<float> A(a), B(b), C(std::size_t(M * N));
  // The intact kernel passes, and computes the product.
  REQUIRE(error_of([&] { kn_emu_defects::gemm_tiled(C.get(), A.get(), B.get(), M, N, K); }) == "");
  std::vector<float> ref(std::size_t(M * N));
  kn::cpu::gemm_eigen(ref.data(), a.data(), b.data(), M, N, K, kn::Transpose::No, kn::Transpose::No, 1.0f, 0.0f);
  KN_CHECK_CLOSE(C.download(), ref, 1e-5, 1e-5);

  const std::string e = error_of([&] { kn_emu_defects::gemm_tiled_missing_sync(C.get(), A.get(), B.get(), M, N, K); });
  INFO(e);
  CHECK_THAT(e, Contains("gemm_tiled_kernel<false>") && Contains("race") && Contains("reverse order") &&
                    Contains("First difference: device allocation") && Contains("4-byte element"));
}

TEST_CASE("two threads writing one shared slot are reported as a race", "[emu][defects]") {
  const auto x = kn::test::random_floats(20 * 40, 3);
  DeviceArray<float> X(x), out(40);
  const std::string e = error_of([&] { kn_emu_defects::column_sums_one_slot(out.get(), X.get(), 20, 40); });
  INFO(e);
  CHECK_THAT(e, Contains("(column_sums_kernel<true, false>)") && Contains("race"));
}

TEST_CASE("a full-mask shuffle in a partial warp is an error", "[emu][defects]") {
  DeviceArray<float> x(kn::test::random_floats(48, 4)), out(48);
  const std::string e = error_of([&] { kn_emu_defects::warp_sums_full_mask(out.get(), x.get(), 48); });
  INFO(e);
  CHECK_THAT(e, Contains("warp_sums_kernel") && Contains("__shfl_xor_sync at") && Contains("defects.cu:") &&
                    Contains("mask 0xffffffff names lanes that warp 1 does not have") && Contains("48 threads"));
  // With whole warps the same kernel is right, and sums each warp.
  DeviceArray<float> x64(std::vector<float>(64, 1.0f)), out64(64);
  REQUIRE(error_of([&] { kn_emu_defects::warp_sums_full_mask(out64.get(), x64.get(), 64); }) == "");
  CHECK(out64.download() == std::vector<float>(64, 32.0f));
}

TEST_CASE("a lane that leaves itself out of its shuffle's mask is an error", "[emu][defects]") {
  DeviceArray<float> x(kn::test::random_floats(32, 5)), out(32);
  const std::string e = error_of([&] { kn_emu_defects::warp_sums_lane_left_out(out.get(), x.get()); });
  INFO(e);
  CHECK_THAT(e, Contains("warp_sums_kernel") && Contains("lane 5 of warp 0 calls it with a mask that leaves it out"));
}

TEST_CASE("a shuffle reading a lane outside its mask is an error", "[emu][defects]") {
  DeviceArray<float> x(kn::test::random_floats(32, 6)), out(32);
  const std::string e = error_of([&] { kn_emu_defects::shuffle_from_outside_mask(out.get(), x.get()); });
  INFO(e);
  CHECK_THAT(e, Contains("shuffle_from_outside_mask_kernel") && Contains("lane 0 of warp 0 reads lane 16, which is not in the mask") &&
                    Contains("__shfl_xor_sync at /") && Contains("defects.cu:"));
}

TEST_CASE("a __syncthreads() that some threads never reach is a divergent barrier, not a hang", "[emu][defects]") {
  DeviceArray<float> out(64);
  const std::string e = error_of([&] { kn_emu_defects::barrier_in_branch(out.get()); });
  INFO(e);
  CHECK_THAT(e, Contains("barrier_in_branch_kernel") && Contains("divergent barrier in block (0,0,0) of 64 threads") &&
                    Contains("threads 0-15 wait at __syncthreads() at") && Contains("threads 16-63 have returned"));
}

TEST_CASE("the harness runs every order it is asked for, and only compares when there are several", "[emu][defects]") {
  const int M = 13, N = 11, K = 29;
  DeviceArray<float> A(kn::test::random_floats(M * K, 1)), B(kn::test::random_floats(K * N, 2)),
      C(std::size_t(M * N));
  const int saved = kn_emu::options().orders;
  kn_emu::options().orders = 1;  // one run: nothing to compare, the race goes unseen
  const std::string e = error_of([&] { kn_emu_defects::gemm_tiled_missing_sync(C.get(), A.get(), B.get(), M, N, K); });
  kn_emu::options().orders = saved;
  CHECK(e == "");
  kn_emu::reset();
  kn_emu_defects::gemm_tiled(C.get(), A.get(), B.get(), M, N, K);
  const auto c = kn_emu::counters();
  CHECK(c.launches == 1);
  CHECK(c.blocks == int64_t(saved) * 2 * 2);          // a 2 x 2 grid per run
  CHECK(c.threads == int64_t(saved) * 2 * 2 * 64);    // 8 x 8 threads per block
  CHECK(c.switches == int64_t(saved) * 2 * 2 * 64 * 8);  // 4 tiles, 2 barriers each, every thread
}

TEST_CASE("more than 48 KiB of dynamic shared memory without cudaFuncSetAttribute is refused, as on a GPU",
          "[emu][defects]") {
  const int n = 16 * 1024;  // 64 KiB
  DeviceArray<float> x(std::vector<float>(n, 0.5f)), out(1);
  const std::string e = error_of([&] { kn_emu_defects::dynamic_shared_sum(out.get(), x.get(), n, n * sizeof(float)); });
  INFO(e);
  CHECK_THAT(e, Contains("dynamic_shared_sum_kernel") && Contains("65536 bytes of dynamic shared memory") &&
                    Contains("cudaFuncSetAttribute"));
  // Within 48 KiB it runs, and reads back what it staged.
  REQUIRE(error_of([&] { kn_emu_defects::dynamic_shared_sum(out.get(), x.get(), 1000, 1000 * sizeof(float)); }) == "");
  CHECK(out.download() == std::vector<float>{500.0f});
}
