// argmax_rows (the predicted class of each row) and count_equal (how many predictions
// are right): what accuracy is made of.
//
// Contract (both backends): x is [rows, cols] row-major; idx[r] is the first index of
// the largest x[r, :] (as std::max_element; 0 when cols == 0). count[0] is the number of
// i < n with a[i] == b[i].
#pragma once
#include <algorithm>
#include <cstdint>

#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void argmax_rows(int64_t* idx, const float* x, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + int64_t(r) * cols;
    idx[r] = std::max_element(row, row + cols) - row;
  }
}

inline void count_equal(int64_t* count, const int64_t* a, const int64_t* b, int64_t n) {
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) k += a[i] == b[i];
  count[0] = k;
}

}  // namespace kn::cpu

namespace kn::cuda {
void argmax_rows(int64_t* idx, const float* x, int rows, int cols, int device);
void count_equal(int64_t* count, const int64_t* a, const int64_t* b, int64_t n, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::argmax_rows), decltype(&kn::cuda::argmax_rows)>,
              "kn::cuda::argmax_rows must take kn::cpu::argmax_rows's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::count_equal), decltype(&kn::cuda::count_equal)>,
              "kn::cuda::count_equal must take kn::cpu::count_equal's parameters, then int device");

namespace kn::ops {

inline void argmax_rows(Device d, int64_t* idx, const float* x, int rows, int cols) {
  trace::Op t(d, "argmax_rows", rows, cols);
  if (d.is_cpu()) return cpu::argmax_rows(idx, x, rows, cols);
  if constexpr (detail::kWithCuda) cuda::argmax_rows(idx, x, rows, cols, d.index);
  else detail::no_cuda("argmax_rows", d);
}

inline void count_equal(Device d, int64_t* count, const int64_t* a, const int64_t* b, int64_t n) {
  trace::Op t(d, "count_equal", n);
  if (d.is_cpu()) return cpu::count_equal(count, a, b, n);
  if constexpr (detail::kWithCuda) cuda::count_equal(count, a, b, n, d.index);
  else detail::no_cuda("count_equal", d);
}

}  // namespace kn::ops
