// Pointwise tensor maths: + - * / with broadcasting (and with a number on either side),
// the in-place forms, unary maths, comparisons and .to(dtype), with autograd.
//
// Kernels: every binary op is one launch of ops::binary, every unary one ops::unary,
// comparisons ops::compare_f32 / compare_i64, casts ops::cast (<kernelnet/ops/pointwise.hpp>).
// A backward is one unary_backward, or at most one binary and one reduce (the sum back
// over broadcast dimensions, <kernelnet/ops/reduce.hpp>).
#pragma once
#include <memory>
#include <type_traits>

#include <kernelnet/functional.hpp>
#include <kernelnet/math/common.hpp>

namespace kn {

namespace detail {

inline const char* binary_name(ops::Binary op) {
  switch (op) {
    case ops::Binary::Add: return "AddBackward0";
    case ops::Binary::Sub: return "SubBackward0";
    case ops::Binary::Mul: return "MulBackward0";
    case ops::Binary::Div: return "DivBackward0";
  }
  return "?";
}

// a op b, where either side may be a number (an undefined tensor and its scalar).
struct BinaryBackward : Node {
  ops::Binary op;
  Tensor a, b, out;  // the inputs Mul and Div need, and Div's output (detached)
  float a_scalar = 0, b_scalar = 0;
  Shape a_shape, b_shape, out_shape;
  const char* name() const override { return binary_name(op); }
  ops::Operand<float> side(const Tensor& t, float s) const { return t.defined() ? operand<float>(t, out_shape) : scalar_operand(s); }
  void backward(const Tensor& g) override {
    const Device d = g.device();
    const auto [R, C] = as_2d(out_shape);
    const Tensor gv = g.data_view(out_shape, 0);  // the gradient in the forward's (maybe flat) view
    const ops::Operand<float> gop = operand<float>(gv, out_shape);
    // The gradient before the sum over broadcast dimensions: g itself, or g times something.
    auto send = [&](size_t i, const Shape& shape, float alpha, const ops::Operand<float>* factor, ops::Binary f) {
      GradSlot s = slot(i);
      if (!s) return;
      if (!factor) return sum_to(s, gv, out_shape, shape, alpha);
      Tensor tmp = Tensor::empty(out_shape, Dtype::Float32, d);
      ops::binary(d, tmp.data<float>(), gop, *factor, R, C, f);
      sum_to(s, tmp, out_shape, shape, alpha);
    };
    const ops::Operand<float> A = side(a, a_scalar), B = side(b, b_scalar);
    switch (op) {
      case ops::Binary::Add: send(0, a_shape, 1, nullptr, op); send(1, b_shape, 1, nullptr, op); break;
      case ops::Binary::Sub: send(0, a_shape, 1, nullptr, op); send(1, b_shape, -1, nullptr, op); break;
      case ops::Binary::Mul: send(0, a_shape, 1, &B, ops::Binary::Mul); send(1, b_shape, 1, &A, ops::Binary::Mul); break;
      case ops::Binary::Div: {
        send(0, a_shape, 1, &B, ops::Binary::Div);  // g / b
        if (GradSlot s = slot(1)) {                 // -g * a / b^2 = -(g * out) / b
          Tensor tmp = Tensor::empty(out_shape, Dtype::Float32, d);
          ops::binary(d, tmp.data<float>(), gop, operand<float>(out, out_shape), R, C, ops::Binary::Mul);
          ops::binary(d, tmp.data<float>(), operand<float>(tmp, out_shape), B, R, C, ops::Binary::Div);  // in place
          sum_to(s, tmp, out_shape, b_shape, -1);
        }
        break;
      }
    }
  }
  void release() override { a = b = out = Tensor(); }
};

inline Tensor binary(ops::Binary op, const char* what, const Tensor& a, float as, const Tensor& b, float bs) {
  const Tensor& ref = a.defined() ? a : b;
  if (a.defined()) check_float_op(what, a);
  if (b.defined()) check_float_op(what, b);
  if (a.defined() && b.defined()) check_devices(what, a, b);
  // With a number, or two tensors of one shape, there is nothing to broadcast: any shape,
  // viewed flat. Otherwise PyTorch's broadcasting, up to 2-D.
  const bool flat = !(a.defined() && b.defined()) || a.shape() == b.shape();
  const Shape out_shape = flat ? ref.shape() : broadcast_shapes(what, a.shape(), b.shape());
  const Shape view = flat ? Shape{ref.numel()} : out_shape;
  const auto [rows, cols] = as_2d(view);
  Tensor out = Tensor::empty(out_shape, Dtype::Float32, ref.device());
  auto side = [&](const Tensor& t, float s) {
    return t.defined() ? operand<float>(flat ? t.data_view(view, 0) : t, view) : scalar_operand(s);
  };
  ops::binary(ref.device(), out.data<float>(), side(a, as), side(b, bs), rows, cols, op);
  if (needs_grad(a, b)) {
    auto node = std::make_shared<BinaryBackward>();
    node->op = op;
    const bool keep_inputs = op == ops::Binary::Mul || op == ops::Binary::Div;
    if (keep_inputs && a.defined()) node->a = flat ? a.data_view(view, 0) : a.detach();
    if (keep_inputs && b.defined()) node->b = flat ? b.data_view(view, 0) : b.detach();
    if (op == ops::Binary::Div && b.defined() && b.requires_grad()) node->out = out.data_view(view, 0);
    node->a_scalar = as;
    node->b_scalar = bs;
    node->a_shape = a.defined() ? (flat ? view : a.shape()) : Shape{};
    node->b_shape = b.defined() ? (flat ? view : b.shape()) : Shape{};
    node->out_shape = view;
    record(out, std::move(node), a, b);
  }
  return out;
}

inline Tensor binary2(ops::Binary op, const char* what, const Tensor& a, const Tensor& b) {
  check_defined(what, a);
  check_defined(what, b);
  return binary(op, what, a, 0, b, 0);
}

// In place: t op= other (broadcast to t's shape), or t op= number.
inline Tensor& binary_(ops::Binary op, const char* what, Tensor& t, const Tensor& other, float s) {
  check_float_op(what, t);
  KN_CHECK(!(is_grad_enabled() && t.requires_grad()), what, ": in-place operation on ", t.str(),
           ", which requires grad (PyTorch refuses this too); do it under kn::NoGradGuard, or out of place");
  Shape view = Shape{t.numel()};
  ops::Operand<float> rhs = scalar_operand(s);
  int64_t rows = 1, cols = t.numel();
  if (other.defined()) {
    check_float_op(what, other);
    check_devices(what, t, other);
    const Shape out = broadcast_shapes(what, t.shape(), other.shape());
    KN_CHECK(out == t.shape(), what, ": the result would have shape ", out.str(), ", but the in-place target is ",
             t.shape().str(), " (only the right side broadcasts)");
    view = t.shape();
    std::tie(rows, cols) = as_2d(view);
    rhs = operand<float>(other, view);
  }
  ops::Operand<float> lhs = operand<float>(t.data_view(view, 0), view);
  ops::binary(t.device(), t.data<float>(), lhs, rhs, rows, cols, op);
  return t;
}

struct UnaryBackward : Node {
  ops::Unary op;
  float p = 0;
  Tensor x, y;  // detached input and output: each op's derivative reads one of them
  const char* name() const override {
    static const char* names[] = {"NegBackward0",  "ExpBackward0", "LogBackward0",     "SqrtBackward0",
                                  "AbsBackward0",  "PowBackward0", "SigmoidBackward0", "TanhBackward0"};
    return names[int(op)];
  }
  void backward(const Tensor& g) override {
    if (GradSlot s = slot(0))
      ops::unary_backward(g.device(), s.buffer.data<float>(), g.data<float>(), x.defined() ? x.data<float>() : nullptr,
                          y.defined() ? y.data<float>() : nullptr, g.numel(), op, p, s.beta);
  }
  void release() override { x = y = Tensor(); }
};

inline Tensor unary(ops::Unary op, const char* what, const Tensor& x, float p = 0) {
  check_float_op(what, x);
  Tensor y = Tensor::empty(x.shape(), Dtype::Float32, x.device());
  ops::unary(x.device(), y.data<float>(), x.data<float>(), x.numel(), op, p);
  if (needs_grad(x)) {
    auto node = std::make_shared<UnaryBackward>();
    node->op = op;
    node->p = p;
    const bool from_output = op == ops::Unary::Exp || op == ops::Unary::Sqrt || op == ops::Unary::Sigmoid ||
                             op == ops::Unary::Tanh;
    if (from_output) node->y = y.detach();
    else if (op != ops::Unary::Neg) node->x = x.detach();
    record(y, std::move(node), x);
  }
  return y;
}

// a op b for comparisons: float with float, integers (int64, bool) with integers; a
// float against an integer tensor compares as float, as PyTorch promotes.
inline Tensor compare(ops::Compare op, const char* what, Tensor a, Tensor b) {
  check_defined(what, a);
  check_defined(what, b);
  check_devices(what, a, b);
  const bool flat = a.shape() == b.shape();  // any shape, nothing to broadcast
  const Shape out_shape = flat ? a.shape() : broadcast_shapes(what, a.shape(), b.shape());
  const Shape view = flat ? Shape{a.numel()} : out_shape;
  const bool as_float = a.dtype() == Dtype::Float32 || b.dtype() == Dtype::Float32;
  const Dtype common = as_float ? Dtype::Float32 : Dtype::Int64;
  a = a.to(common);
  b = b.to(common);
  if (flat) a = a.data_view(view, 0), b = b.data_view(view, 0);
  Tensor out = Tensor::empty(out_shape, Dtype::Bool, a.device());
  const auto [R, C] = as_2d(view);
  if (as_float)
    ops::compare_f32(a.device(), out.data<bool>(), operand<float>(a, view), operand<float>(b, view), R, C, op);
  else
    ops::compare_i64(a.device(), out.data<bool>(), operand<int64_t>(a, view), operand<int64_t>(b, view), R, C, op);
  return out;
}
inline Tensor compare(ops::Compare op, const char* what, const Tensor& a, double v) {
  check_defined(what, a);
  const bool integral_value = v == double(int64_t(v));
  Tensor flat = a.data_view(Shape{a.numel()}, 0);
  Tensor out = Tensor::empty(a.shape(), Dtype::Bool, a.device());
  if (a.dtype() != Dtype::Float32 && integral_value) {
    ops::Operand<int64_t> s;
    s.scalar = int64_t(v);
    Tensor i = flat.to(Dtype::Int64);
    ops::compare_i64(a.device(), out.data<bool>(), operand<int64_t>(i, i.shape()), s, 1, a.numel(), op);
  } else {
    Tensor f = flat.to(Dtype::Float32);
    ops::compare_f32(a.device(), out.data<bool>(), operand<float>(f, f.shape()), scalar_operand(float(v)), 1,
                     a.numel(), op);
  }
  return out;
}

template <typename S>
using if_number = std::enable_if_t<std::is_arithmetic_v<S>, int>;

}  // namespace detail

// --- Arithmetic, with broadcasting.
inline Tensor operator+(const Tensor& a, const Tensor& b) { return detail::binary2(ops::Binary::Add, "add", a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return detail::binary2(ops::Binary::Sub, "sub", a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return detail::binary2(ops::Binary::Mul, "mul", a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return detail::binary2(ops::Binary::Div, "div", a, b); }
template <typename S, detail::if_number<S> = 0>
Tensor operator+(const Tensor& a, S s) { return detail::binary(ops::Binary::Add, "add", a, 0, Tensor(), float(s)); }
template <typename S, detail::if_number<S> = 0>
Tensor operator-(const Tensor& a, S s) { return detail::binary(ops::Binary::Sub, "sub", a, 0, Tensor(), float(s)); }
template <typename S, detail::if_number<S> = 0>
Tensor operator*(const Tensor& a, S s) { return detail::binary(ops::Binary::Mul, "mul", a, 0, Tensor(), float(s)); }
template <typename S, detail::if_number<S> = 0>
Tensor operator/(const Tensor& a, S s) { return detail::binary(ops::Binary::Div, "div", a, 0, Tensor(), float(s)); }
template <typename S, detail::if_number<S> = 0>
Tensor operator+(S s, const Tensor& b) { return detail::binary(ops::Binary::Add, "add", Tensor(), float(s), b, 0); }
template <typename S, detail::if_number<S> = 0>
Tensor operator-(S s, const Tensor& b) { return detail::binary(ops::Binary::Sub, "sub", Tensor(), float(s), b, 0); }
template <typename S, detail::if_number<S> = 0>
Tensor operator*(S s, const Tensor& b) { return detail::binary(ops::Binary::Mul, "mul", Tensor(), float(s), b, 0); }
template <typename S, detail::if_number<S> = 0>
Tensor operator/(S s, const Tensor& b) { return detail::binary(ops::Binary::Div, "div", Tensor(), float(s), b, 0); }
inline Tensor operator-(const Tensor& a) { return a.neg(); }

inline Tensor& Tensor::operator+=(const Tensor& o) { return detail::binary_(ops::Binary::Add, "operator+=", *this, o, 0); }
inline Tensor& Tensor::operator-=(const Tensor& o) { return detail::binary_(ops::Binary::Sub, "operator-=", *this, o, 0); }
inline Tensor& Tensor::operator*=(const Tensor& o) { return detail::binary_(ops::Binary::Mul, "operator*=", *this, o, 0); }
inline Tensor& Tensor::operator/=(const Tensor& o) { return detail::binary_(ops::Binary::Div, "operator/=", *this, o, 0); }
inline Tensor& Tensor::operator+=(float v) { return detail::binary_(ops::Binary::Add, "operator+=", *this, Tensor(), v); }
inline Tensor& Tensor::operator-=(float v) { return detail::binary_(ops::Binary::Sub, "operator-=", *this, Tensor(), v); }
inline Tensor& Tensor::operator*=(float v) { return detail::binary_(ops::Binary::Mul, "operator*=", *this, Tensor(), v); }
inline Tensor& Tensor::operator/=(float v) { return detail::binary_(ops::Binary::Div, "operator/=", *this, Tensor(), v); }

// --- Unary maths: members and free functions (kn::exp(a) is a.exp()).
inline Tensor Tensor::neg() const { return detail::unary(ops::Unary::Neg, "neg", *this); }
inline Tensor Tensor::exp() const { return detail::unary(ops::Unary::Exp, "exp", *this); }
inline Tensor Tensor::log() const { return detail::unary(ops::Unary::Log, "log", *this); }
inline Tensor Tensor::sqrt() const { return detail::unary(ops::Unary::Sqrt, "sqrt", *this); }
inline Tensor Tensor::abs() const { return detail::unary(ops::Unary::Abs, "abs", *this); }
inline Tensor Tensor::pow(float e) const { return detail::unary(ops::Unary::Pow, "pow", *this, e); }
inline Tensor Tensor::sigmoid() const { return detail::unary(ops::Unary::Sigmoid, "sigmoid", *this); }
inline Tensor Tensor::tanh() const { return detail::unary(ops::Unary::Tanh, "tanh", *this); }
inline Tensor Tensor::relu() const { return kn::relu(*this); }
inline Tensor neg(const Tensor& a) { return a.neg(); }
inline Tensor exp(const Tensor& a) { return a.exp(); }
inline Tensor log(const Tensor& a) { return a.log(); }
inline Tensor sqrt(const Tensor& a) { return a.sqrt(); }
inline Tensor abs(const Tensor& a) { return a.abs(); }
inline Tensor pow(const Tensor& a, float e) { return a.pow(e); }
inline Tensor sigmoid(const Tensor& a) { return a.sigmoid(); }
inline Tensor tanh(const Tensor& a) { return a.tanh(); }

// --- Comparisons: kBool tensors, no gradient.
#define KN_COMPARE(sym, op, what)                                                                                 \
  inline Tensor operator sym(const Tensor& a, const Tensor& b) { return detail::compare(op, what, a, b); }        \
  template <typename S, detail::if_number<S> = 0>                                                                 \
  Tensor operator sym(const Tensor& a, S v) { return detail::compare(op, what, a, double(v)); }
KN_COMPARE(==, ops::Compare::Eq, "eq")
KN_COMPARE(!=, ops::Compare::Ne, "ne")
KN_COMPARE(>, ops::Compare::Gt, "gt")
KN_COMPARE(<, ops::Compare::Lt, "lt")
KN_COMPARE(>=, ops::Compare::Ge, "ge")
KN_COMPARE(<=, ops::Compare::Le, "le")
#undef KN_COMPARE

// --- Dtype conversion: the same tensor when it already has the dtype, else a copy.
inline Tensor Tensor::to(Dtype dtype) const {
  detail::check_defined("to", *this);
  if (dtype == this->dtype()) return *this;
  Tensor out = empty(shape(), dtype, device());
  ops::cast(device(), out.raw(), detail::scalar_type(dtype), raw(), detail::scalar_type(this->dtype()), numel());
  return out;
}

}  // namespace kn
