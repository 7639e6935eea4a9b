// kn::cuda::gemm and every kernel of the series (kernels/gemm/, run by number through
// <kernelnet/cuda/gemm_variants.hpp>) against cuBLAS and against kn::cpu::gemm.
//
// Shapes are M x N x K: C[M,N] = alpha * op(A)[M,K] op(B)[K,N] + beta * C, row-major.
// Every run:
//  - starts from C poisoned with NaN when beta == 0 (an element never written stays NaN,
//    and a kernel that reads C when it must not turns it NaN) or random when beta != 0;
//  - has guard zones around every buffer: NaN around A and B (a read past either end
//    that reaches the result makes it NaN) and a sentinel around C (a write past either
//    end is caught);
//  - is compared with tolerance atol + rtol * |ref|, atol growing with K (summation
//    order differs between kernels and cuBLAS), and exactly on small-integer inputs,
//    where every order gives the same float.
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <kernelnet/cuda/gemm_variants.hpp>
#include <kernelnet/ops/gemm.hpp>
#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>

#include "gpu_test_util.hpp"

using kn::test::DeviceArray;
using kn::test::random_floats;
using kn::test::random_ints;

namespace {

struct GemmShape {
  int M, N, K;
};
// The odd shapes of the brief, the products of a 4-10-3 MLP on a batch of 120 (Y = X W^T:
// 120x10x4 and 120x3x10; dW = dY^T X: 10x4x120 and 3x10x120; dX = dY W: 120x4x10 and
// 120x10x3), tile multiples with 16-byte rows (the float4 paths), ragged edges with
// 16-byte rows, vectors, a long K for the tiny kernel's lane groups, and empty products.
const std::vector<GemmShape> kGemmShapes = {
    {1, 1, 1},     {17, 33, 5},   {127, 129, 65}, {1000, 10, 3}, {120, 4, 10},   {120, 10, 4},
    {120, 3, 10},  {10, 4, 120},  {3, 10, 120},   {120, 10, 3},  {257, 255, 513}, {128, 128, 64},
    {260, 132, 36}, {4, 4, 4},    {1, 300, 7},    {300, 1, 7},   {33, 2, 700},   {1, 1, 1000},
    {7, 5, 0},     {0, 5, 3},     {5, 0, 3},      {0, 0, 0},
};

struct Scale {
  float alpha, beta;
};
const std::vector<Scale> kScales = {{1.0f, 0.0f}, {-1.5f, 0.0f}, {0.75f, -0.5f}, {1.0f, 1.0f}};

constexpr std::size_t kPad = 64;  // guard floats each side; keeps 256-byte alignment
constexpr float kSentinel = 1234.5f;

// A device buffer of n floats with kPad guard floats on each side; data() is `offset`
// floats past the first guard (offset 1 misaligns it for float4 access).
class Guarded {
 public:
  Guarded(std::size_t n, std::size_t offset)
      : n_(n), offset_(offset), buf_(kPad + offset + n + kPad) {}
  float* data() const { return buf_.get() + kPad + offset_; }
  // Body and guards, uploaded in one copy.
  void upload(const std::vector<float>& body, float guard) {
    std::vector<float> all(buf_.size(), guard);
    std::copy(body.begin(), body.end(), all.begin() + kPad + offset_);
    buf_.upload(all);
  }
  std::vector<float> body() const {
    const auto all = buf_.download();
    return {all.begin() + kPad + offset_, all.begin() + kPad + offset_ + n_};
  }
  // Guard floats that no longer hold `guard` (NaN matches NaN).
  std::size_t damaged_guards(float guard) const {
    const auto all = buf_.download();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i >= kPad + offset_ && i < kPad + offset_ + n_) continue;
      const bool same = std::isnan(guard) ? std::isnan(all[i]) : all[i] == guard;
      bad += !same;
    }
    return bad;
  }

 private:
  std::size_t n_, offset_;
  DeviceArray<float> buf_;
};

#define KN_CUBLAS_CHECK(expr)                                                  \
  do {                                                                         \
    const cublasStatus_t kn_st_ = (expr);                                      \
    if (kn_st_ != CUBLAS_STATUS_SUCCESS)                                       \
      FAIL(#expr << " failed: " << cublasGetStatusName(kn_st_) << " at " << __FILE__ << ":" \
                 << __LINE__);                                                 \
  } while (0)

// cuBLAS on kernelnet's stream, in plain FP32 (no TF32 tensor-core shortcut).
class Cublas {
 public:
  Cublas() {
    KN_CUBLAS_CHECK(cublasCreate(&h_));
    KN_CUBLAS_CHECK(cublasSetStream(h_, kn::test::test_stream(0)));
    KN_CUBLAS_CHECK(cublasSetMathMode(h_, CUBLAS_PEDANTIC_MATH));
  }
  ~Cublas() { cublasDestroy(h_); }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  // Row-major C[M,N] is column-major C^T [N,M], and C^T = op(B)^T op(A)^T. A row-major
  // [r,c] matrix is the column-major [c,r] matrix (its transpose) with leading dimension
  // c, so: swap A and B, swap M and N, keep each operand's transpose flag, and pass each
  // matrix's stored row length as its leading dimension.
  void gemm(float* C, const float* A, const float* B, int M, int N, int K, bool transA,
            bool transB, float alpha, float beta) {
    const int lda = transA ? M : K, ldb = transB ? K : N;
    KN_CUBLAS_CHECK(cublasSgemm(h_, transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                                transA ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B,
                                std::max(1, ldb), A, std::max(1, lda), &beta, C, std::max(1, N)));
  }

 private:
  cublasHandle_t h_ = nullptr;
};

// Summation order differs between the kernels, cuBLAS and Eigen, so the error grows
// with K: each of K products of values in [-1, 1] carries a rounding of ~2^-24 of the
// running sum.
double atol_for(int K, const Scale& s) {
  return (1e-6 + 2e-7 * K) * std::max(1.0f, std::abs(s.alpha)) + 1e-6 * std::abs(s.beta);
}
constexpr double kRtol = 1e-5;

std::vector<float> small_integers(std::size_t n, std::uint64_t seed) {
  const auto k = random_ints(n, seed, -3, 3);
  return std::vector<float>(k.begin(), k.end());
}

kn::Transpose trans(bool t) { return t ? kn::Transpose::Yes : kn::Transpose::No; }

std::string describe(int v, const GemmShape& s, bool ta, bool tb, const Scale& sc) {
  return kn::str(kn::cuda::gemm_variant_name(v), " on ", s.M, "x", s.N, "x", s.K,
                 ta ? " A^T" : " A", tb ? " B^T" : " B", ", alpha ", sc.alpha, ", beta ", sc.beta);
}

// One shape, transposes and scale: the CPU reference and cuBLAS once, then every
// variant in `variants`. `exact`: small-integer inputs, compared bit for bit.
void check_variants(Cublas& blas, const GemmShape& s, bool ta, bool tb, const Scale& sc,
                    const std::vector<int>& variants, std::size_t offset, bool exact,
                    std::uint64_t seed) {
  const std::size_t na = std::size_t(s.M) * s.K, nb = std::size_t(s.K) * s.N,
                    nc = std::size_t(s.M) * s.N;
  const auto a = exact ? small_integers(na, seed) : random_floats(na, seed);
  const auto b = exact ? small_integers(nb, seed + 1) : random_floats(nb, seed + 1);
  const auto c0 = exact ? small_integers(nc, seed + 2) : random_floats(nc, seed + 2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // What C holds on entry: with beta == 0 the result must not depend on it.
  const std::vector<float> c_in = sc.beta == 0.0f ? std::vector<float>(nc, nan) : c0;

  std::vector<float> ref = c_in;
  kn::cpu::gemm(ref.data(), a.data(), b.data(), s.M, s.N, s.K, trans(ta), trans(tb), sc.alpha, sc.beta);

  Guarded A(na, offset), B(nb, offset), C(nc, offset);
  A.upload(a, nan);
  B.upload(b, nan);

  C.upload(c_in, kSentinel);
  blas.gemm(C.data(), A.data(), B.data(), s.M, s.N, s.K, ta, tb, sc.alpha, sc.beta);
  const auto cublas = C.body();
  {
    INFO("cuBLAS against the CPU on " << s.M << "x" << s.N << "x" << s.K << " ta " << ta << " tb "
                                      << tb << ": checks the row-major mapping");
    KN_CHECK_CLOSE(cublas, ref, atol_for(s.K, sc), kRtol);
  }

  for (int v : variants) {
    INFO(describe(v, s, ta, tb, sc) << (offset ? ", pointers misaligned by one float" : ""));
    C.upload(c_in, kSentinel);
    kn::cuda::gemm_variant(v, C.data(), A.data(), B.data(), s.M, s.N, s.K, trans(ta), trans(tb), sc.alpha,
                           sc.beta, 0);
    const auto got = C.body();
    if (exact) {
      KN_CHECK_CLOSE(got, ref, 0.0, 0.0);
    } else {
      KN_CHECK_CLOSE(got, ref, atol_for(s.K, sc), kRtol);
      KN_CHECK_CLOSE(got, cublas, atol_for(s.K, sc), kRtol);
    }
    CHECK(C.damaged_guards(kSentinel) == 0);  // nothing written outside C
  }
  CHECK(A.damaged_guards(nan) == 0);
  CHECK(B.damaged_guards(nan) == 0);
}

std::vector<int> all_variants() {
  std::vector<int> v(kn::cuda::gemm_variant_count());
  for (int i = 0; i < int(v.size()); ++i) v[i] = i;
  return v;
}

}  // namespace

TEST_CASE("gemm: the registry names the library and the eight kernels", "[gpu]") {
  REQUIRE(kn::cuda::gemm_variant_count() == 9);
  CHECK(std::string(kn::cuda::gemm_variant_name(0)) == "0_library");
  CHECK(std::string(kn::cuda::gemm_variant_name(1)) == "01_naive");
  CHECK(std::string(kn::cuda::gemm_variant_name(7)) == "07_warptile");
  CHECK(std::string(kn::cuda::gemm_variant_name(8)) == "08_tiny");
  CHECK_THROWS_AS(kn::cuda::gemm_variant_name(9), kn::Error);
  CHECK_THROWS_AS(kn::cuda::gemm_variant(-1, nullptr, nullptr, nullptr, 1, 1, 1, kn::Transpose::No,
                                         kn::Transpose::No, 1.0f, 0.0f, 0),
                  kn::Error);
  CHECK_THROWS_AS(kn::cuda::gemm(nullptr, nullptr, nullptr, -1, 1, 1, kn::Transpose::No, kn::Transpose::No, 1.0f, 0.0f, 0),
                  kn::Error);
}

TEST_CASE("gemm: every variant matches cuBLAS and the CPU on odd shapes, all transposes",
          "[gpu]") {
  Cublas blas;
  const auto variants = all_variants();
  std::uint64_t seed = 1;
  std::size_t k = 0;
  for (const GemmShape& s : kGemmShapes)
    for (int t = 0; t < 4; ++t)
      for (const Scale& sc : kScales)
        if (seed += 3; kn::test::in_shard(k++) && !kn::test::skip_under_racecheck(double(s.M) * s.N * s.K))
          check_variants(blas, s, t & 2, t & 1, sc, variants, 0, false, seed);
}

TEST_CASE("gemm: every variant is exact on small-integer inputs", "[gpu]") {
  // Products and sums of integers in [-3, 3] stay far below 2^24: every summation
  // order gives the same float, so any difference is a bug, not rounding.
  Cublas blas;
  const auto variants = all_variants();
  std::uint64_t seed = 1000;
  std::size_t k = 0;
  for (const GemmShape& s : {GemmShape{257, 255, 513}, GemmShape{120, 10, 4}, GemmShape{10, 4, 120},
                         GemmShape{128, 128, 64}, GemmShape{33, 2, 700}, GemmShape{1, 1, 1000}})
    for (int t = 0; t < 4; ++t)
      for (const Scale& sc : {Scale{1.0f, 0.0f}, Scale{2.0f, -1.0f}})
        if (seed += 3; kn::test::in_shard(k++) && !kn::test::skip_under_racecheck(double(s.M) * s.N * s.K))
          check_variants(blas, s, t & 2, t & 1, sc, variants, 0, true, seed);
}

TEST_CASE("gemm: pointers not 16-byte aligned take the scalar paths", "[gpu]") {
  // Shapes whose rows are multiples of 4 floats would use float4 accesses in 06 and 07;
  // offsetting every pointer by one float must switch them to the guarded scalar path.
  Cublas blas;
  const auto variants = all_variants();
  std::uint64_t seed = 2000;
  std::size_t k = 0;
  for (const GemmShape& s : {GemmShape{128, 128, 64}, GemmShape{260, 132, 36}, GemmShape{4, 4, 4}})
    for (int t = 0; t < 4; ++t)
      for (const Scale& sc : {Scale{1.0f, 0.0f}, Scale{0.75f, -0.5f}})
        if (seed += 3; kn::test::in_shard(k++) && !kn::test::skip_under_racecheck(double(s.M) * s.N * s.K))
          check_variants(blas, s, t & 2, t & 1, sc, variants, 1, false, seed);
}

TEST_CASE("gemm: the library's tiled path on a product big enough for 128 x 128 tiles",
          "[gpu]") {
  // 1536 x 1664 gives 12 x 13 = 156 tiles of 128 x 128, more than an H200's 132 SMs.
  Cublas blas;
  const GemmShape s{1536, 1664, 40};
  INFO("kn::cuda::gemm runs " << kn::cuda::gemm_kernel_for(s.M, s.N, s.K, 0));
  for (int t = 0; t < 4; ++t)
    check_variants(blas, s, t & 2, t & 1, Scale{0.75f, -0.5f}, {0, 7}, 0, false, 3000 + t);
}

TEST_CASE("gemm: the library picks the tiny kernel for a small MLP, warp tiles for big ones",
          "[gpu]") {
  using kn::cuda::gemm_kernel_for;
  for (const GemmShape& s : {GemmShape{120, 10, 4}, GemmShape{120, 3, 10}, GemmShape{10, 4, 120},
                         GemmShape{3, 10, 120}, GemmShape{120, 4, 10}, GemmShape{1000, 10, 3}, GemmShape{1, 1, 1},
                         GemmShape{7, 5, 0}, GemmShape{1000000, 10, 4}}) {
    INFO(s.M << "x" << s.N << "x" << s.K);
    CHECK(std::string(gemm_kernel_for(s.M, s.N, s.K, 0)) == "08_tiny");
  }
  CHECK(std::string(gemm_kernel_for(4096, 4096, 4096, 0)) == "07_warptile");
  CHECK(std::string(gemm_kernel_for(257, 255, 513, 0)) == "07_warptile 64x64");
}

TEST_CASE("gemm: one launch per call, none for an empty output", "[gpu]") {
  // No hidden transposes or copies: the transposes are template flags of the kernels.
  // Every buffer is written first (any values do), so the kernels read nothing
  // uninitialised and compute-sanitizer's initcheck stays clean.
  DeviceArray<float> a(random_floats(std::size_t(120) * 10, 1)), b(random_floats(std::size_t(10) * 4, 2)),
      c(random_floats(std::size_t(120) * 10, 3));
  for (int v = 0; v < kn::cuda::gemm_variant_count(); ++v)
    for (int t = 0; t < 4; ++t) {
      INFO(kn::cuda::gemm_variant_name(v) << " transposes " << t);
      const int64_t before = kn::cuda::stats(0).launches;
      kn::cuda::gemm_variant(v, c.get(), a.get(), b.get(), 120, 10, 4, trans(t & 2), trans(t & 1), 1.0f, 0.0f, 0);
      CHECK(kn::cuda::stats(0).launches - before == 1);
      kn::cuda::gemm_variant(v, c.get(), a.get(), b.get(), 0, 10, 4, trans(t & 2), trans(t & 1), 1.0f, 0.0f, 0);
      kn::cuda::gemm_variant(v, c.get(), a.get(), b.get(), 120, 0, 4, trans(t & 2), trans(t & 1), 1.0f, 0.0f, 0);
      CHECK(kn::cuda::stats(0).launches - before == 1);
    }
  kn::cuda::synchronize(0);
}
