// Every GEMM kernel of the series (kernels/gemm/, run by number through
// <kernelnet/cuda/gemm_variants.hpp>) and the library's choice (variant 0, on a small and
// a large emulated device, so that both configurations of 07 run) on the CPU harness,
// against kn::cpu::gemm_eigen with the GPU tests' tolerance (tests/gpu/test_gemm.cpp):
// odd shapes, K = 0, both transposes, two alpha/beta pairs, C poisoned with NaN when
// beta is 0. Shapes whose rows are multiples of 4 take 06's and 07's float4 paths.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <kernelnet/cuda/gemm_variants.hpp>
#include <kernelnet/ops/gemm.hpp>

#include "emu_test.hpp"

using kn::Transpose;
using kn::test::DeviceArray;
using kn::test::random_floats;

namespace {

struct Shape {
  int M, N, K;
};
const Shape kShapes[] = {{1, 1, 1},     {17, 33, 5}, {127, 129, 65}, {1000, 10, 3},
                         {120, 4, 10},  {5, 7, 0},   {64, 36, 20}};
struct Scale {
  float alpha, beta;
};
const Scale kScales[] = {{1.0f, 0.0f}, {-0.5f, 0.75f}};

double atol_for(int K, const Scale& s) {
  return (1e-6 + 2e-7 * K) * std::max(1.0f, std::abs(s.alpha)) + 1e-6 * std::abs(s.beta);
}
constexpr double kRtol = 1e-5;

void check_variant(int v) {
  for (const Shape& s : kShapes)
    for (Transpose ta : {Transpose::No, Transpose::Yes})
      for (Transpose tb : {Transpose::No, Transpose::Yes})
        for (const Scale& sc : kScales) {
          INFO(kn::cuda::gemm_variant_name(v) << ": " << s.M << "x" << s.N << "x" << s.K << (ta == Transpose::Yes ? " A^T" : "")
                                              << (tb == Transpose::Yes ? " B^T" : "") << ", alpha " << sc.alpha
                                              << ", beta " << sc.beta);
          const auto a = random_floats(std::size_t(s.M) * s.K, 1 + s.M), b = random_floats(std::size_t(s.K) * s.N, 2 + s.N);
          auto c = random_floats(std::size_t(s.M) * s.N, 3);
          DeviceArray<float> A(a), B(b), C(c);
          if (sc.beta == 0.0f) C.poison();  // beta 0 must not read C, and must write all of it
          kn::cuda::gemm_variant(v, C.get(), A.get(), B.get(), s.M, s.N, s.K, ta, tb, sc.alpha, sc.beta, 0);
          kn::cpu::gemm_eigen(c.data(), a.data(), b.data(), s.M, s.N, s.K, ta, tb, sc.alpha, sc.beta);
          KN_CHECK_CLOSE(C.download(), c, atol_for(s.K, sc), kRtol);
        }
}

}  // namespace

TEST_CASE("gemm 01_naive matches the CPU", "[emu][gemm]") { check_variant(1); }
TEST_CASE("gemm 02_coalesced matches the CPU", "[emu][gemm]") { check_variant(2); }
TEST_CASE("gemm 03_smem_tiled matches the CPU", "[emu][gemm]") { check_variant(3); }
TEST_CASE("gemm 04_blocktile_1d matches the CPU", "[emu][gemm]") { check_variant(4); }
TEST_CASE("gemm 05_blocktile_2d matches the CPU", "[emu][gemm]") { check_variant(5); }
TEST_CASE("gemm 06_vectorized matches the CPU", "[emu][gemm]") { check_variant(6); }
TEST_CASE("gemm 07_warptile matches the CPU", "[emu][gemm]") { check_variant(7); }
TEST_CASE("gemm 08_tiny matches the CPU", "[emu][gemm]") { check_variant(8); }

TEST_CASE("kn::cuda::gemm's choice matches the CPU on a small and a large device", "[emu][gemm]") {
  // One SM: 127x129x65 has 2 tiles of 128, enough for it, so 07 runs with 128 x 128 tiles;
  // 132 SMs: 07 with 64 x 64 tiles.
  for (auto [sms, big] : {std::pair{1, "07_warptile"}, {132, "07_warptile 64x64"}}) {
    kn::test::WithSms device(sms);
    CHECK(std::string(kn::cuda::gemm_kernel_for(127, 129, 65, 0)) == big);
    CHECK(std::string(kn::cuda::gemm_kernel_for(120, 10, 4, 0)) == "08_tiny");
    check_variant(0);
  }
}
