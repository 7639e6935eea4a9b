// Softmax cross-entropy (kn::cross_entropy): the mean loss over rows and, in the same
// pass, the gradient of that mean with respect to the logits; then the backward, which
// only scales that gradient by dloss.
//
// Contract (both backends): logits and dlogits are [rows, classes] row-major, labels
// [rows] (int64 class indices), loss one float.
//   forward:  loss[0] = mean_r(logsumexp(logits[r,:]) - logits[r, labels[r]]);
//             dlogits = (softmax(logits) - onehot(labels)) / rows. A label outside
//             [0, classes) makes the loss NaN. The row losses are summed in double, as
//             PyTorch does.
//   backward: dx = beta * dx + dloss[0] * dlogits, with dloss read where it lives (on
//             CUDA, on the device: the backward never waits for the host); beta == 0
//             never reads dx.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <kernelnet/cpu/eigen.hpp>
#include <kernelnet/cpu/scratch.hpp>
#include <kernelnet/cpu/simd.hpp>
#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

#if KN_CPU_AVX512
// With AVX-512 and at most 8 classes: 16 rows at a time, one row in each lane, so that
// max, exp, sum, log and the gradient are each one vector operation per class (a row of
// 3 classes would fill 3 of 16 lanes). 16 rows of C classes are C whole vectors in memory;
// C x C in-register permutes turn them into C vectors of one class each, and C x C more
// turn dlogits back. For 120 x 3 this takes 0.30 us where gathers and scatters took 0.49
// and the row-by-row path 1.06 (docs/cpu-speed.md); past 8 classes the permutes cost more
// than they save. exp and log are Eigen's vectorised ones, as in the portable path below;
// each lane's arithmetic is that path's for its row, and the row losses are summed in
// double, in 8 running sums (lanes l and l + 8 share one) added in order at the end.
inline constexpr int kLanesMaxClasses = 8;

// The class count is a template parameter: the loops over classes unroll and every
// vector stays in a register (with a run-time count they went through the stack, and an
// Iris epoch's softmax took twice as long).
template <int kClasses>
void softmax_ce_forward_lanes(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows) {
  constexpr int classes = kClasses;
  using Eigen::internal::pexp;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // Element p of a block (row p / C, class p % C) sits in vector p / 16, lane p % 16.
  // In: class c's lane r reads element r * C + c. Out: vector j's lane l is element
  // 16 j + l, taken from class (16 j + l) % C at lane (16 j + l) / C.
  constexpr int kMax = kClasses;
  __m512i in_lane[kMax], in_vec[kMax], out_lane[kMax], out_class[kMax];
  const __m512i recip = _mm512_set1_epi32(65536 / classes + 1);  // p / C = (p * recip) >> 16 for p < 128
  for (int c = 0; c < classes; ++c) {
    const __m512i p = _mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(classes)), _mm512_set1_epi32(c));
    in_lane[c] = _mm512_and_si512(p, _mm512_set1_epi32(15));
    in_vec[c] = _mm512_srli_epi32(p, 4);
    const __m512i q = _mm512_add_epi32(lane, _mm512_set1_epi32(16 * c));  // here c counts vectors
    out_lane[c] = _mm512_srli_epi32(_mm512_mullo_epi32(q, recip), 16);
    out_class[c] = _mm512_sub_epi32(q, _mm512_mullo_epi32(out_lane[c], _mm512_set1_epi32(classes)));
  }
  const float inv_rows = 1.0f / float(rows);
  __m512d total = _mm512_setzero_pd();
  bool bad_label = false;
  __m512 v[kMax], x[kMax], e[kMax];
  for (int r0 = 0; r0 < rows; r0 += 16) {
    const int n = std::min(16, rows - r0);
    const __mmask16 active = __mmask16((1u << n) - 1u);
    const float* in = logits + int64_t(r0) * classes;
    float* d = dlogits + int64_t(r0) * classes;
    const int elements = n * classes;
    auto vec_mask = [elements](int j) {
      const int left = elements - 16 * j;
      return __mmask16(left >= 16 ? 0xFFFFu : left > 0 ? (1u << left) - 1u : 0u);
    };
    for (int j = 0; j < classes; ++j) v[j] = _mm512_maskz_loadu_ps(vec_mask(j), in + 16 * j);
    __m512 mx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int c = 0; c < classes; ++c) {
      x[c] = _mm512_setzero_ps();
      for (int j = 0; j < classes; ++j)
        x[c] = _mm512_mask_permutexvar_ps(x[c], _mm512_cmpeq_epi32_mask(in_vec[c], _mm512_set1_epi32(j)), in_lane[c],
                                          v[j]);
      mx = _mm512_max_ps(mx, x[c]);
    }
    __m512 sum = _mm512_setzero_ps();
    for (int c = 0; c < classes; ++c) {
      e[c] = pexp(_mm512_sub_ps(x[c], mx));  // <= 0: exp cannot overflow
      sum = _mm512_add_ps(sum, e[c]);
    }
    // The labels, 8 int64 at a time, checked, then as 16 int32.
    const __m512i lo = _mm512_maskz_loadu_epi64(__mmask8(active), labels + r0);
    const __m512i hi = _mm512_maskz_loadu_epi64(__mmask8(active >> 8), labels + r0 + 8);
    const __m512i cls = _mm512_set1_epi64(classes), zero = _mm512_setzero_si512();
    const __mmask16 ok = __mmask16(
        (_mm512_cmpge_epi64_mask(lo, zero) & _mm512_cmplt_epi64_mask(lo, cls)) |
        ((_mm512_cmpge_epi64_mask(hi, zero) & _mm512_cmplt_epi64_mask(hi, cls)) << 8));
    if ((ok & active) != active) bad_label = true;
    const __m512i label = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(lo)),
                                             _mm512_cvtepi64_epi32(hi), 1);
    const __mmask16 valid = ok & active;
    __mmask16 at_label[kMax];
    __m512 x_label = _mm512_setzero_ps();
    for (int c = 0; c < classes; ++c) {
      at_label[c] = _mm512_cmpeq_epi32_mask(label, _mm512_set1_epi32(c));
      x_label = _mm512_mask_mov_ps(x_label, at_label[c], x[c]);
    }
    // log through Eigen's array expression (the same vectorised plog): called directly,
    // GCC 12 warned inside its own headers (bug 105593).
    alignas(64) float sums[16];
    _mm512_store_ps(sums, sum);
    Eigen::Map<Eigen::Array<float, 16, 1>, Eigen::Aligned64> sums_map(sums);
    sums_map = sums_map.log();
    const __m512 row_loss = _mm512_sub_ps(_mm512_add_ps(_mm512_load_ps(sums), mx), x_label);
    total = _mm512_add_pd(total, _mm512_maskz_cvtps_pd(__mmask8(valid), _mm512_castps512_ps256(row_loss)));
    total = _mm512_add_pd(total, _mm512_maskz_cvtps_pd(__mmask8(valid >> 8), _mm512_extractf32x8_ps(row_loss, 1)));
    const __m512 scale = _mm512_div_ps(_mm512_set1_ps(inv_rows), sum);
    for (int c = 0; c < classes; ++c) {
      const __m512 g = _mm512_mul_ps(e[c], scale);
      e[c] = _mm512_mask_sub_ps(g, at_label[c], g, _mm512_set1_ps(inv_rows));
    }
    for (int j = 0; j < classes; ++j) {
      __m512 out = _mm512_setzero_ps();
      for (int c = 0; c < classes; ++c)
        out = _mm512_mask_permutexvar_ps(out, _mm512_cmpeq_epi32_mask(out_class[j], _mm512_set1_epi32(c)),
                                         out_lane[j], e[c]);
      // Only the block's last vector can be partial; a whole one needs no mask.
      if (vec_mask(j) == 0xFFFF) _mm512_storeu_ps(d + 16 * j, out);
      else _mm512_mask_storeu_ps(d + 16 * j, vec_mask(j), out);
    }
  }
  // The 8 running sums, added in order.
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, total);
  double sum_all = 0.0;
  for (double t : lanes) sum_all += t;
  loss[0] = bad_label ? std::numeric_limits<float>::quiet_NaN() : float(sum_all / rows);
}

inline void softmax_ce_forward_lanes(float* loss, float* dlogits, const float* logits, const int64_t* labels,
                                     int rows, int classes) {
  switch (classes) {
    case 1: return softmax_ce_forward_lanes<1>(loss, dlogits, logits, labels, rows);
    case 2: return softmax_ce_forward_lanes<2>(loss, dlogits, logits, labels, rows);
    case 3: return softmax_ce_forward_lanes<3>(loss, dlogits, logits, labels, rows);
    case 4: return softmax_ce_forward_lanes<4>(loss, dlogits, logits, labels, rows);
    case 5: return softmax_ce_forward_lanes<5>(loss, dlogits, logits, labels, rows);
    case 6: return softmax_ce_forward_lanes<6>(loss, dlogits, logits, labels, rows);
    case 7: return softmax_ce_forward_lanes<7>(loss, dlogits, logits, labels, rows);
    default: return softmax_ce_forward_lanes<8>(loss, dlogits, logits, labels, rows);  // 8: the dispatcher's limit
  }
}
#endif

// The portable path, and the reference the lanes path is tested against.
inline void softmax_ce_forward_rows(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                                    int classes) {
  // Three passes so that exp and log run over whole arrays, where Eigen vectorises
  // them, instead of one libm call per element.
  const int64_t n = int64_t(rows) * classes;
  float* row_max = detail::scratch(3 * std::size_t(rows), 0);
  float* row_sum = row_max + rows;
  float* row_lse = row_sum + rows;
  for (int r = 0; r < rows; ++r) {
    const float* x = logits + int64_t(r) * classes;
    float m = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < classes; ++c) m = std::max(m, x[c]);
    row_max[r] = m;
    for (int c = 0; c < classes; ++c) dlogits[int64_t(r) * classes + c] = x[c] - m;  // <= 0: exp cannot overflow
  }
  VecMap(dlogits, n).array() = ConstVecMap(dlogits, n).array().exp();
  for (int r = 0; r < rows; ++r) {
    const float* e = dlogits + int64_t(r) * classes;
    float sum = 0.0f;
    for (int c = 0; c < classes; ++c) sum += e[c];
    row_sum[r] = sum;
  }
  VecMap(row_lse, rows).array() = ConstVecMap(row_sum, rows).array().log();
  double total = 0.0;
  const float inv_rows = 1.0f / float(rows);
  for (int r = 0; r < rows; ++r) {
    const int64_t label = labels[r];
    if (label < 0 || label >= classes) {
      total = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const float* x = logits + int64_t(r) * classes;
    float* d = dlogits + int64_t(r) * classes;
    total += double(row_lse[r] + row_max[r] - x[label]);
    const float scale = inv_rows / row_sum[r];
    for (int c = 0; c < classes; ++c) d[c] *= scale;
    d[label] -= inv_rows;
  }
  loss[0] = float(total / rows);
}

inline void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                               int classes) {
#if KN_CPU_AVX512
  if (classes <= kLanesMaxClasses) {
    trace::cpu_path("rows in vector lanes");
    return softmax_ce_forward_lanes(loss, dlogits, logits, labels, rows, classes);
  }
#endif
  trace::cpu_path("row by row");
  softmax_ce_forward_rows(loss, dlogits, logits, labels, rows, classes);
}

inline void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n, float beta) {
  if (beta == 0.0f) VecMap(dx, n) = dloss[0] * ConstVecMap(dlogits, n);
  else VecMap(dx, n) = beta * VecMap(dx, n) + dloss[0] * ConstVecMap(dlogits, n);
}

}  // namespace kn::cpu

namespace kn::cuda {
void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                        int classes, int device);
void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n, float beta, int device);
}  // namespace kn::cuda
static_assert(
    kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::softmax_ce_forward), decltype(&kn::cuda::softmax_ce_forward)>,
    "kn::cuda::softmax_ce_forward must take kn::cpu::softmax_ce_forward's parameters, then int device");
static_assert(
    kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::softmax_ce_backward), decltype(&kn::cuda::softmax_ce_backward)>,
    "kn::cuda::softmax_ce_backward must take kn::cpu::softmax_ce_backward's parameters, then int device");

namespace kn::ops {

inline void softmax_ce_forward(Device d, float* loss, float* dlogits, const float* logits, const int64_t* labels,
                               int rows, int classes) {
  trace::Op t(d, "softmax_ce_forward", rows, classes);
  if (d.is_cpu()) return cpu::softmax_ce_forward(loss, dlogits, logits, labels, rows, classes);
  if constexpr (detail::kWithCuda) cuda::softmax_ce_forward(loss, dlogits, logits, labels, rows, classes, d.index);
  else detail::no_cuda("softmax_ce_forward", d);
}

inline void softmax_ce_backward(Device d, float* dx, const float* dlogits, const float* dloss, int64_t n,
                                float beta) {
  trace::Op t(d, "softmax_ce_backward", n);
  if (d.is_cpu()) return cpu::softmax_ce_backward(dx, dlogits, dloss, n, beta);
  if constexpr (detail::kWithCuda) cuda::softmax_ce_backward(dx, dlogits, dloss, n, beta, d.index);
  else detail::no_cuda("softmax_ce_backward", d);
}

}  // namespace kn::ops
