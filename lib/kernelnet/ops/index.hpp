// The indexing ops behind index_select, narrow, slice and t() (<kernelnet/math/indexing.hpp>).
//
// Contract (both backends). x is viewed as [outer, size, inner] row-major (the selected
// dimension in the middle), index holds `count` int64 values, each in [0, size) (the
// caller checks: an op never reads out of bounds on trust of its indices).
// - index_select: out[o, k, i] = x[o, index[k], i], for elements of elem_bytes bytes
//   (1, 4 or 8: bool, float32, int64).
// - index_add: dx[o, d, i] = beta * dx[o, d, i] + the sum of dy[o, k, i] over every k with
//   index[k] == d, added in order of k (so a repeated index accumulates, and the result is
//   the same on every run); beta == 0 never reads dx. dx is [outer, size, inner], dy
//   [outer, count, inner].
// - transpose: y[c, r] = x[r, c] for x [rows, cols], elements of elem_bytes bytes.
#pragma once
#include <cstdint>
#include <cstring>

#include <kernelnet/ops/backend.hpp>

namespace kn::cpu {

inline void index_select(void* out, const void* x, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
                         int64_t size, int elem_bytes) {
  const std::size_t run = std::size_t(inner) * elem_bytes;
  if (run == 0) return;  // nothing to copy (and memcpy must not see the null buffers of empty tensors)
  char* o = static_cast<char*>(out);
  const char* src = static_cast<const char*>(x);
  for (int64_t b = 0; b < outer; ++b)
    for (int64_t k = 0; k < count; ++k)
      std::memcpy(o + (b * count + k) * run, src + (b * size + index[k]) * run, run);
}

inline void index_add(float* dx, const float* dy, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
                      int64_t size, float beta) {
  const int64_t n = outer * size * inner;
  for (int64_t i = 0; i < n; ++i) dx[i] = beta == 0.0f ? 0.0f : beta * dx[i];
  for (int64_t b = 0; b < outer; ++b)
    for (int64_t k = 0; k < count; ++k) {
      float* to = dx + (b * size + index[k]) * inner;
      const float* from = dy + (b * count + k) * inner;
      for (int64_t i = 0; i < inner; ++i) to[i] += from[i];
    }
}

inline void transpose(void* y, const void* x, int64_t rows, int64_t cols, int elem_bytes) {
  char* out = static_cast<char*>(y);
  const char* in = static_cast<const char*>(x);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(out + (c * rows + r) * elem_bytes, in + (r * cols + c) * elem_bytes, std::size_t(elem_bytes));
}

}  // namespace kn::cpu

namespace kn::cuda {
void index_select(void* out, const void* x, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
                  int64_t size, int elem_bytes, int device);
void index_add(float* dx, const float* dy, const int64_t* index, int64_t outer, int64_t count, int64_t inner,
               int64_t size, float beta, int device);
void transpose(void* y, const void* x, int64_t rows, int64_t cols, int elem_bytes, int device);
}  // namespace kn::cuda
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::index_select), decltype(&kn::cuda::index_select)>,
              "kn::cuda::index_select must take kn::cpu::index_select's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::index_add), decltype(&kn::cuda::index_add)>,
              "kn::cuda::index_add must take kn::cpu::index_add's parameters, then int device");
static_assert(kn::ops::detail::is_cuda_twin<decltype(&kn::cpu::transpose), decltype(&kn::cuda::transpose)>,
              "kn::cuda::transpose must take kn::cpu::transpose's parameters, then int device");

namespace kn::ops {

inline void index_select(Device d, void* out, const void* x, const int64_t* index, int64_t outer, int64_t count,
                         int64_t inner, int64_t size, int elem_bytes) {
  trace::Op t(d, "index_select", outer, count, inner);
  if (d.is_cpu()) return cpu::index_select(out, x, index, outer, count, inner, size, elem_bytes);
  if constexpr (detail::kWithCuda) cuda::index_select(out, x, index, outer, count, inner, size, elem_bytes, d.index);
  else detail::no_cuda("index_select", d);
}

inline void index_add(Device d, float* dx, const float* dy, const int64_t* index, int64_t outer, int64_t count,
                      int64_t inner, int64_t size, float beta) {
  trace::Op t(d, "index_add", outer, count, inner);
  if (d.is_cpu()) return cpu::index_add(dx, dy, index, outer, count, inner, size, beta);
  if constexpr (detail::kWithCuda) cuda::index_add(dx, dy, index, outer, count, inner, size, beta, d.index);
  else detail::no_cuda("index_add", d);
}

inline void transpose(Device d, void* y, const void* x, int64_t rows, int64_t cols, int elem_bytes) {
  trace::Op t(d, "transpose", rows, cols);
  if (d.is_cpu()) return cpu::transpose(y, x, rows, cols, elem_bytes);
  if constexpr (detail::kWithCuda) cuda::transpose(y, x, rows, cols, elem_bytes, d.index);
  else detail::no_cuda("transpose", d);
}

}  // namespace kn::ops
