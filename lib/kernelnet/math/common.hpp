// What the tensor maths (<kernelnet/math/*.hpp>) share: the checks, broadcasting of up
// to two dimensions as PyTorch does it, and the delivery of a gradient to its slot.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include <kernelnet/autograd.hpp>
#include <kernelnet/ops/fill.hpp>
#include <kernelnet/ops/pointwise.hpp>
#include <kernelnet/ops/reduce.hpp>
#include <kernelnet/tensor.hpp>

namespace kn::detail {

inline void check_defined(const char* op, const Tensor& t) {
  KN_CHECK(t.defined(), op, ": the tensor is undefined (default-constructed kn::Tensor)");
}
// Float maths: a float32 tensor, or a clear error naming the op and the tensor.
inline void check_float_op(const char* op, const Tensor& t) {
  check_defined(op, t);
  KN_CHECK(t.dtype() == Dtype::Float32, op, ": needs a float32 tensor, got ", t.str(),
           "; convert it first with .to(kn::kFloat32)");
}
inline void check_devices(const char* op, const Tensor& a, const Tensor& b) {
  KN_CHECK(a.device() == b.device(), op, ": one tensor is on ", a.device().str(), " and the other on ",
           b.device().str(), " (shapes ", a.shape().str(), " and ", b.shape().str(),
           "); move both to one device with .to(device)");
}
inline ops::Scalar scalar_type(Dtype d) {
  return d == Dtype::Float32 ? ops::Scalar::Float32 : d == Dtype::Int64 ? ops::Scalar::Int64 : ops::Scalar::Bool;
}

// A shape of at most two dimensions as [rows, cols]: [] is [1, 1], [C] is [1, C].
inline std::pair<int64_t, int64_t> as_2d(const Shape& s) {
  if (s.size() == 0) return {1, 1};
  if (s.size() == 1) return {1, s[0]};
  return {s[0], s[1]};
}

// PyTorch's broadcasting, for up to two dimensions: sizes are matched from the right,
// and a size 1 (or a missing dimension) stretches to the other's.
inline Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  KN_CHECK(a.size() <= 2 && b.size() <= 2, op, ": broadcasting supports tensors of up to 2 dimensions, got shapes ",
           a.str(), " and ", b.str());
  const int n = std::max(a.size(), b.size());
  std::vector<int64_t> out(std::size_t(n), 1);
  for (int i = 1; i <= n; ++i) {
    const int64_t x = i <= a.size() ? a[a.size() - i] : 1, y = i <= b.size() ? b[b.size() - i] : 1;
    KN_CHECK(x == y || x == 1 || y == 1, op, ": shapes ", a.str(), " and ", b.str(),
             " do not broadcast (dimension ", n - i, " from the left of the result: ", x, " vs ", y, ")");
    out[std::size_t(n - i)] = x == 1 ? y : x;
  }
  return Shape(out);
}

// t as one side of a broadcast to `out`: a stride 0 where it has size 1.
template <typename T>
ops::Operand<T> operand(const Tensor& t, const Shape& out) {
  const auto [r, c] = as_2d(t.shape());
  const auto [R, C] = as_2d(out);
  ops::Operand<T> o;
  o.p = t.data<T>();
  o.row_stride = (r == 1 && R != 1) ? 0 : c;
  o.col_stride = (c == 1 && C != 1) ? 0 : 1;
  return o;
}
inline ops::Operand<float> scalar_operand(float v) {
  ops::Operand<float> o;
  o.scalar = v;
  return o;
}

// Writes a gradient into its slot: straight into the buffer when the slot is fresh
// (beta 0), else into a temporary that is then added. write(float* dst) fills dst.
template <typename Write>
void deliver(const GradSlot& slot, Write&& write) {
  Tensor dst = slot.buffer;
  if (slot.beta == 0.0f) return write(dst.data<float>());
  Tensor tmp = Tensor::empty(dst.shape(), Dtype::Float32, dst.device());
  write(tmp.data<float>());
  ops::accumulate(dst.device(), dst.data<float>(), tmp.data<float>(), dst.numel(), slot.beta);
}

// The gradient g of a broadcast result (shape out), summed down to `shape` (the shape of
// the input it goes to), times alpha, into the slot.
inline void sum_to(const GradSlot& slot, const Tensor& g, const Shape& out, const Shape& shape, float alpha) {
  const auto [R, C] = as_2d(out);
  const auto [r, c] = as_2d(shape);
  ops::reduce(g.device(), slot.buffer.data<float>(), g.data<float>(), R, C, r == R, c == C, ops::Reduce::Sum, alpha,
              slot.beta);
}

}  // namespace kn::detail
