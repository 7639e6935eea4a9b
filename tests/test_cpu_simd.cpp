// The CPU ops' vectorised paths (KN_CPU_AVX512, lib/kernelnet/cpu/simd.hpp) against plain
// references, on odd shapes around the vector widths (4, 8, 16 lanes; 16 rows a block),
// with outputs poisoned with NaN where the op must not read them. On a CPU without
// AVX-512 the same tests check the portable paths.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <kernelnet/ops/bias.hpp>
#include <kernelnet/ops/gemm.hpp>
#include <kernelnet/ops/softmax_ce.hpp>

#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace {

using kn::test::uniform_floats;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("CPU softmax-CE: the vector path matches the row-by-row path on odd shapes", "[ops][simd]") {
  unsigned seed = 1;
  for (int rows : {1, 2, 15, 16, 17, 33, 120})
    for (int classes : {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 40}) {
      INFO(rows << " rows, " << classes << " classes");
      const std::size_t n = std::size_t(rows) * classes;
      // Logits far apart too (a row's max must be subtracted for exp not to overflow).
      std::vector<float> logits = uniform_floats(n, -30.0f, 30.0f, seed++);
      std::vector<int64_t> labels(static_cast<std::size_t>(rows));
      std::mt19937 rng(seed++);
      for (auto& l : labels) l = int64_t(rng() % unsigned(classes));
      std::vector<float> want(n, kNaN), got(n + 16, kNaN);  // past n: a guard nothing may write
      float want_loss = kNaN, got_loss = kNaN;
      kn::cpu::softmax_ce_forward_rows(&want_loss, want.data(), logits.data(), labels.data(), rows, classes);
      kn::cpu::softmax_ce_forward(&got_loss, got.data(), logits.data(), labels.data(), rows, classes);
      REQUIRE(std::isfinite(want_loss));
      CHECK(got_loss == Approx(want_loss).epsilon(1e-6));
      for (std::size_t i = 0; i < n; ++i) {
        INFO("element " << i);
        REQUIRE(std::isfinite(got[i]));
        CHECK(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-8));
      }
      for (std::size_t i = n; i < got.size(); ++i) REQUIRE(std::isnan(got[i]));
      // Each row of the gradient sums to zero: softmax sums to 1, the one-hot too.
      for (int r = 0; r < rows; ++r) {
        double s = 0;
        for (int c = 0; c < classes; ++c) s += got[std::size_t(r) * classes + c];
        CHECK(std::abs(s) < 1e-6);
      }
    }
}

TEST_CASE("CPU softmax-CE: a label outside the classes makes the loss NaN on every path", "[ops][simd]") {
  for (int rows : {1, 16, 19})
    for (int64_t bad : {int64_t(-1), int64_t(3), int64_t(1) << 40}) {
      INFO(rows << " rows, label " << bad);
      std::vector<float> logits = uniform_floats(std::size_t(rows) * 3, -1.0f, 1.0f, 7), d(std::size_t(rows) * 3);
      std::vector<int64_t> labels(std::size_t(rows), 1);
      labels[std::size_t(rows) - 1] = bad;
      float loss = 0.0f;
      kn::cpu::softmax_ce_forward(&loss, d.data(), logits.data(), labels.data(), rows, 3);
      CHECK(std::isnan(loss));
    }
}

TEST_CASE("CPU bias_add and bias_grad match plain loops on every narrow width", "[ops][simd]") {
  unsigned seed = 100;
  for (int cols : {1, 2, 3, 4, 5, 8, 9, 10, 15, 16, 17, 33})
    for (int rows : {1, 3, 4, 5, 17, 120})
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        INFO(rows << "x" << cols << " beta " << beta);
        const std::vector<float> b = uniform_floats(std::size_t(cols), -1, 1, seed++);
        std::vector<float> y = uniform_floats(std::size_t(rows) * cols, -1, 1, seed++), want_y = y;
        kn::cpu::bias_add(y.data(), b.data(), rows, cols);
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < cols; ++c) want_y[std::size_t(r) * cols + c] += b[std::size_t(c)];
        CHECK(y == want_y);  // one addition per element: exact

        const std::vector<float> dy = uniform_floats(std::size_t(rows) * cols, -1, 1, seed++);
        std::vector<float> db = uniform_floats(std::size_t(cols), -1, 1, seed++);
        std::vector<double> want(db.begin(), db.end());
        if (beta == 0.0f) db.assign(db.size(), kNaN);  // beta 0 must not read db
        for (int c = 0; c < cols; ++c) {
          double s = beta == 0.0f ? 0.0 : beta * want[std::size_t(c)];
          for (int r = 0; r < rows; ++r) s += dy[std::size_t(r) * cols + c];
          want[std::size_t(c)] = s;
        }
        kn::cpu::bias_grad(db.data(), dy.data(), rows, cols, beta);
        for (int c = 0; c < cols; ++c) {
          INFO("column " << c);
          REQUIRE(std::isfinite(db[std::size_t(c)]));
          CHECK(db[std::size_t(c)] == Approx(want[std::size_t(c)]).margin(1e-5));
        }
      }
}

TEST_CASE("narrow GEMM: one and two k, and a long k with few rows (the split chains)", "[ops][gemm][simd]") {
  unsigned seed = 500;
  for (int K : {1, 2, 3, 121})
    for (int M : {1, 2, 3, 4, 7, 8, 9, 23})
      for (int N : {1, 4, 5, 8, 9, 16})
        for (int t = 0; t < 4; ++t) {
          const bool ta = t & 2, tb = t & 1;
          INFO(M << "x" << N << "x" << K << (ta ? " A^T" : " A") << (tb ? " B^T" : " B"));
          const auto a = uniform_floats(std::size_t(M) * K, -1, 1, seed++);
          const auto b = uniform_floats(std::size_t(K) * N, -1, 1, seed++);
          // The row after C is a guard: nothing may be written past C's last element.
          std::vector<float> want(std::size_t(M) * N + 16, kNaN), got = want;
          kn::cpu::gemm_eigen(want.data(), a.data(), b.data(), M, N, K, ta ? kn::Transpose::Yes : kn::Transpose::No,
                              tb ? kn::Transpose::Yes : kn::Transpose::No, 1.0f, 0.0f);
          kn::cpu::detail::gemm_narrow(got.data(), a.data(), b.data(), M, N, K, ta, tb, 1.0f, 0.0f);
          for (std::size_t i = 0; i < std::size_t(M) * N; ++i) {
            INFO("element " << i);
            REQUIRE(std::isfinite(got[i]));
            CHECK(got[i] == Approx(want[i]).margin(1e-5).epsilon(1e-5));
          }
          for (std::size_t i = std::size_t(M) * N; i < got.size(); ++i) CHECK(std::isnan(got[i]));
        }
}
