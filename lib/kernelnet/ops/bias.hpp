// Bias: y += b broadcast over rows (kn::Linear's bias), and its gradient, a sum over
// rows per column.
//
// Contract (both backends): y and dy are [rows, cols] row-major, b and db are [cols].
// bias_grad: db = beta * db + sum_r dy[r, :]; beta == 0 never reads db.
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/cpu/simd.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

// y[r,c] += b[c]
inline void bias_add(float* y, const float* b, int rows, int cols) {
#if KN_CPU_AVX512
  if (cols <= 16) {
    // y as one flat array of 16-float vectors (rows this short would leave most lanes of a
    // row's register empty): the vector at element e adds b from column e % cols on. That
    // pattern repeats every `period` vectors; each is one permute of b, made in registers
    // (built in memory element by element, the first loads of it waited for those stores).
    trace::cpu_path("flat, 16 elements a vector");
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i recip = _mm512_set1_epi32(65536 / cols + 1), vcols = _mm512_set1_epi32(cols);
    auto mod_cols = [&](__m512i x) {  // x % cols for 0 <= x < 256, without a division
      return _mm512_sub_epi32(x, _mm512_mullo_epi32(_mm512_srli_epi32(_mm512_mullo_epi32(x, recip), 16), vcols));
    };
    const __m512 bv = _mm512_maskz_loadu_ps(__mmask16((1u << cols) - 1u), b);
    const int period = cols / std::gcd(16, cols);  // lcm(16, cols) / 16
    __m512 pattern[16];
    __m512i column = mod_cols(lane);  // of each lane, for e = 0
    for (int p = 0; p < period; ++p) {
      pattern[p] = _mm512_permutexvar_ps(column, bv);
      column = mod_cols(_mm512_add_epi32(column, _mm512_set1_epi32(16)));
    }
    const int64_t n = int64_t(rows) * cols, span = 16 * int64_t(period);
    int64_t e = 0;
    for (; e + span <= n; e += span)
      for (int p = 0; p < period; ++p)
        _mm512_storeu_ps(y + e + 16 * p, _mm512_add_ps(_mm512_loadu_ps(y + e + 16 * p), pattern[p]));
    int p = 0;
    for (; e + 16 <= n; e += 16, ++p)
      _mm512_storeu_ps(y + e, _mm512_add_ps(_mm512_loadu_ps(y + e), pattern[p]));
    if (e < n) {
      const __mmask16 m = __mmask16((1u << (n - e)) - 1u);
      _mm512_mask_storeu_ps(y + e, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + e), pattern[p]));
    }
    return;
  }
#endif
  trace::cpu_path("Eigen rowwise");
  MatMap(y, rows, cols).rowwise() += ConstRowVecMap(b, cols);
}

// db[c] = beta * db[c] + sum_r dy[r,c]
inline void bias_grad(float* db, const float* dy, int rows, int cols, float beta) {
#if KN_CPU_AVX512
  if (cols <= 16) {  // a row in one register; four rows at a time, summed at the end
    trace::cpu_path("a row per vector register");
    return simd::narrowest(cols, [&](auto lanes) {
      using L = decltype(lanes);
      const auto m = L::mask(cols);
      typename L::V acc[4] = {L::zero(), L::zero(), L::zero(), L::zero()};
      int r = 0;
      for (; r + 4 <= rows; r += 4)
        for (int s = 0; s < 4; ++s) acc[s] = L::add(acc[s], L::load(m, dy + int64_t(r + s) * cols));
      for (; r < rows; ++r) acc[0] = L::add(acc[0], L::load(m, dy + int64_t(r) * cols));
      auto sum = L::add(L::add(acc[0], acc[1]), L::add(acc[2], acc[3]));
      if (beta != 0.0f) sum = L::fma(L::set1(beta), L::load(m, db), sum);
      L::store(db, m, sum);
    });
  }
#endif
  trace::cpu_path("row by row");
  // Row by row, so the inner loop runs along contiguous memory and vectorises.
  if (beta == 0.0f) std::fill(db, db + cols, 0.0f);
  else if (beta != 1.0f) VecMap(db, cols) *= beta;
  for (int r = 0; r < rows; ++r) {
    const float* row = dy + int64_t(r) * cols;
    for (int c = 0; c < cols; ++c) db[c] += row[c];
  }
}

}  // namespace kn::cpu

namespace kn::cuda {
void bias_add(float* y, const float* b, int rows, int cols, int device);
void bias_grad(float* db, const float* dy, int rows, int cols, float beta, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::bias_add), decltype(&kn::cuda::bias_add)>,
              "kn::cuda::bias_add must take kn::cpu::bias_add's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::bias_grad), decltype(&kn::cuda::bias_grad)>,
              "kn::cuda::bias_grad must take kn::cpu::bias_grad's parameters, then int device");

namespace kn::ops {

inline void bias_add(Device d, float* y, const float* b, int rows, int cols) {
  trace::Op t(d, "bias_add", rows, cols);
  if (d.is_cpu()) return cpu::bias_add(y, b, rows, cols);
  if constexpr (detail::kWithCuda) cuda::bias_add(y, b, rows, cols, d.index);
  else detail::no_cuda("bias_add", d);
}

inline void bias_grad(Device d, float* db, const float* dy, int rows, int cols, float beta) {
  trace::Op t(d, "bias_grad", rows, cols);
  if (d.is_cpu()) return cpu::bias_grad(db, dy, rows, cols, beta);
  if constexpr (detail::kWithCuda) cuda::bias_grad(db, dy, rows, cols, beta, d.index);
  else detail::no_cuda("bias_grad", d);
}

}  // namespace kn::ops
