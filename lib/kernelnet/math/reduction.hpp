// Reductions: sum and mean (of everything, or along one dimension of a tensor of up to
// 2-D, keepdim as PyTorch), max and min of everything, with autograd.
//
// Kernels: one ops::reduce (<kernelnet/ops/reduce.hpp>) forward; the backward of sum and
// mean is one ops::binary (the gradient broadcast back, scaled), that of max and min a
// compare, a cast, a reduce (how many elements tie) and two binaries: the gradient is
// shared evenly among the elements equal to the result, as PyTorch does. int64 and bool
// tensors sum to int64 (bool through one ops::cast first).
#pragma once
#include <memory>

#include <kernelnet/math/common.hpp>

namespace kn {

namespace detail {

// Which of the [rows, cols] view a reduction keeps, and the shape it gives.
struct ReducePlan {
  int64_t rows = 1, cols = 1;
  bool keep_rows = false, keep_cols = false;
  Shape out;
};

inline ReducePlan plan_all(const Tensor& x) {
  ReducePlan p;
  p.cols = x.numel();
  return p;
}

inline ReducePlan plan_dim(const char* op, const Tensor& x, int dim, bool keepdim) {
  const int n = x.dim();
  KN_CHECK(n <= 2, op, "(dim): reduces tensors of up to 2 dimensions, got ", x.str());
  const int lo = n == 0 ? -1 : -n, hi = n == 0 ? 0 : n - 1;
  KN_CHECK(dim >= lo && dim <= hi, op, "(", dim, "): dimension out of range for ", x.str(), " (expected one in [", lo,
           ", ", hi, "])");
  if (n <= 1) {  // every element
    ReducePlan p = plan_all(x);
    p.out = keepdim && n == 1 ? Shape{1} : Shape{};
    return p;
  }
  const int d = dim < 0 ? dim + n : dim;
  ReducePlan p;
  p.rows = x.size(0);
  p.cols = x.size(1);
  p.keep_rows = d == 1;
  p.keep_cols = d == 0;
  if (d == 0) p.out = keepdim ? Shape{1, p.cols} : Shape{p.cols};
  else p.out = keepdim ? Shape{p.rows, 1} : Shape{p.rows};
  return p;
}

struct SumBackward : Node {
  const char* label = "SumBackward0";
  ReducePlan plan;
  float alpha = 1;  // 1 for sum, 1/count for mean
  const char* name() const override { return label; }
  void backward(const Tensor& g) override {
    GradSlot s = slot(0);
    if (!s) return;
    ops::Operand<float> go;  // g broadcast back over what was reduced
    go.p = g.data<float>();
    go.row_stride = plan.keep_rows ? 1 : 0;
    go.col_stride = plan.keep_cols ? 1 : 0;  // (a plan never keeps both)
    deliver(s, [&](float* dst) {
      ops::binary(g.device(), dst, go, scalar_operand(alpha), plan.rows, plan.cols, ops::Binary::Mul);
    });
  }
};

inline Tensor sum(const char* op, const Tensor& x, const ReducePlan& p, bool mean) {
  check_defined(op, x);
  if (x.dtype() != Dtype::Float32) {
    KN_CHECK(!mean, op, ": needs a float32 tensor, got ", x.str(), " (PyTorch's mean has no integer form either); "
             "convert it first with .to(kn::kFloat32)");
    const Tensor xi = x.to(Dtype::Int64);
    Tensor out = Tensor::empty(p.out, Dtype::Int64, x.device());
    ops::sum_i64(x.device(), out.data<int64_t>(), xi.data<int64_t>(), p.rows, p.cols, p.keep_rows, p.keep_cols);
    return out;
  }
  const int64_t reduced = (p.keep_rows ? 1 : p.rows) * (p.keep_cols ? 1 : p.cols);
  const float alpha = mean ? 1.0f / float(reduced) : 1.0f;
  Tensor out = Tensor::empty(p.out, Dtype::Float32, x.device());
  ops::reduce(x.device(), out.data<float>(), x.data<float>(), p.rows, p.cols, p.keep_rows, p.keep_cols,
              ops::Reduce::Sum, alpha, 0.0f);
  if (needs_grad(x)) {
    auto node = std::make_shared<SumBackward>();
    const bool all = !p.keep_rows && !p.keep_cols;
    node->label = mean ? (all ? "MeanBackward0" : "MeanBackward1") : (all ? "SumBackward0" : "SumBackward1");
    node->plan = p;
    node->alpha = alpha;
    record(out, std::move(node), x);
  }
  return out;
}

struct ExtremumBackward : Node {
  Tensor x, out;  // detached
  const char* label = "MaxBackward1";
  const char* name() const override { return label; }
  void backward(const Tensor& g) override {
    GradSlot s = slot(0);
    if (!s) return;
    const Device d = g.device();
    const int64_t n = x.numel();
    const Shape flat{n};
    Tensor tie = Tensor::empty(flat, Dtype::Bool, d), mask = Tensor::empty(flat, Dtype::Float32, d);
    Tensor count = Tensor::empty(Shape{}, Dtype::Float32, d);
    // mask = (x == out) as floats, count = its sum, dx = mask * g / count.
    ops::compare_f32(d, tie.data<bool>(), operand<float>(x.data_view(flat, 0), flat), operand<float>(out, flat), 1, n,
                     ops::Compare::Eq);
    ops::cast(d, mask.data<float>(), ops::Scalar::Float32, tie.data<bool>(), ops::Scalar::Bool, n);
    ops::reduce(d, count.data<float>(), mask.data<float>(), 1, n, false, false, ops::Reduce::Sum, 1.0f, 0.0f);
    ops::binary(d, mask.data<float>(), operand<float>(mask, flat), operand<float>(g, flat), 1, n, ops::Binary::Mul);
    deliver(s, [&](float* dst) {
      ops::binary(d, dst, operand<float>(mask, flat), operand<float>(count, flat), 1, n, ops::Binary::Div);
    });
  }
  void release() override { x = out = Tensor(); }
};

inline Tensor extremum(const char* op, const Tensor& x, ops::Reduce r) {
  check_float_op(op, x);
  KN_CHECK(x.numel() > 0, op, "(): the tensor ", x.str(), " is empty, and an empty tensor has no ", op);
  Tensor out = Tensor::empty(Shape{}, Dtype::Float32, x.device());
  ops::reduce(x.device(), out.data<float>(), x.data<float>(), 1, x.numel(), false, false, r, 1.0f, 0.0f);
  if (needs_grad(x)) {
    auto node = std::make_shared<ExtremumBackward>();
    node->label = r == ops::Reduce::Max ? "MaxBackward1" : "MinBackward1";
    node->x = x.detach();
    node->out = out.detach();
    record(out, std::move(node), x);
  }
  return out;
}

}  // namespace detail

inline Tensor Tensor::sum() const { return detail::sum("sum", *this, detail::plan_all(*this), false); }
inline Tensor Tensor::sum(int dim, bool keepdim) const {
  return detail::sum("sum", *this, detail::plan_dim("sum", *this, dim, keepdim), false);
}
inline Tensor Tensor::mean() const { return detail::sum("mean", *this, detail::plan_all(*this), true); }
inline Tensor Tensor::mean(int dim, bool keepdim) const {
  return detail::sum("mean", *this, detail::plan_dim("mean", *this, dim, keepdim), true);
}
inline Tensor Tensor::max() const { return detail::extremum("max", *this, ops::Reduce::Max); }
inline Tensor Tensor::min() const { return detail::extremum("min", *this, ops::Reduce::Min); }
inline Tensor sum(const Tensor& x) { return x.sum(); }
inline Tensor sum(const Tensor& x, int dim, bool keepdim = false) { return x.sum(dim, keepdim); }
inline Tensor mean(const Tensor& x) { return x.mean(); }
inline Tensor mean(const Tensor& x, int dim, bool keepdim = false) { return x.mean(dim, keepdim); }

}  // namespace kn
