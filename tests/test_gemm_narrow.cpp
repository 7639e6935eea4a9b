// The CPU backend's tuned narrow GEMM (cpu/gemm_narrow.hpp) against the plain reference
// (kn::cpu::gemm_eigen, Eigen's product): on the shapes the Iris MLP and the tests use,
// and on every output width it handles (1..16) in both of its branches, with every
// transpose, alpha and beta, and a C poisoned with NaN where beta == 0 must not read it.
#include <cmath>
#include <limits>
#include <vector>

#include <kernelnet/ops/gemm.hpp>

#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace {

using kn::test::uniform_floats;

struct Case {
  int M, N, K;
  kn::Transpose ta, tb;
};

void check(const Case& c, float alpha, float beta, unsigned seed) {
  INFO(c.M << "x" << c.N << "x" << c.K << (c.ta == kn::Transpose::Yes ? " A^T" : " A")
            << (c.tb == kn::Transpose::Yes ? " B^T" : " B") << " alpha " << alpha << " beta " << beta);
  const auto a = uniform_floats(std::size_t(c.M) * c.K, -1.0f, 1.0f, seed);
  const auto b = uniform_floats(std::size_t(c.K) * c.N, -1.0f, 1.0f, seed + 1);
  std::vector<float> c0 = uniform_floats(std::size_t(c.M) * c.N, -1.0f, 1.0f, seed + 2);
  if (beta == 0.0f) c0.assign(c0.size(), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> want = c0, got = c0;
  kn::cpu::gemm_eigen(want.data(), a.data(), b.data(), c.M, c.N, c.K, c.ta, c.tb, alpha, beta);
  REQUIRE(c.N <= kn::cpu::detail::kPanelMaxN);
  kn::cpu::detail::gemm_narrow(got.data(), a.data(), b.data(), c.M, c.N, c.K, c.ta == kn::Transpose::Yes,
                               c.tb == kn::Transpose::Yes, alpha, beta);
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::isfinite(got[i]));
    CHECK(got[i] == Approx(want[i]).margin(1e-5f).epsilon(1e-5f));
  }
}

constexpr kn::Transpose N = kn::Transpose::No, T = kn::Transpose::Yes;

}  // namespace

TEST_CASE("narrow GEMM: the Iris MLP's five products match Eigen's", "[ops][gemm]") {
  // x W1^T, h W2^T, dy W2, dy^T h, dz^T x (the last is the branch computed transposed).
  for (const Case& c : {Case{120, 10, 4, N, T}, Case{120, 3, 10, N, T}, Case{120, 10, 3, N, N},
                        Case{3, 10, 120, T, N}, Case{10, 4, 120, T, N}}) {
    check(c, 1.0f, 0.0f, 1);
    check(c, 1.0f, 1.0f, 2);  // gradient accumulation
  }
}

TEST_CASE("narrow GEMM: every width, both branches, every transpose, alpha and beta", "[ops][gemm]") {
  unsigned seed = 10;
  for (int n = 1; n <= kn::cpu::detail::kPanelMaxN; ++n)
    for (int m : {1, 2, 3, 5, 9, 16, 17, 33})  // M <= 16 and N < 8 < M: the transposed branch
      for (int t = 0; t < 4; ++t) {
        const Case c{m, n, 7, t & 2 ? T : N, t & 1 ? T : N};
        check(c, 1.0f, 0.0f, seed += 3);
        check(c, -0.5f, 0.25f, seed += 3);
      }
}
