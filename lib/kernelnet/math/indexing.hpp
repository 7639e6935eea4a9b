// Shapes and indexing: reshape, t(), matmul, index_select, narrow, slice, select and
// operator[], with autograd.
//
// kernelnet's tensors are dense, so a run of whole rows (narrow, slice or select along
// dim 0, and [i]) is a view that shares the data, as in PyTorch, while anything else
// (along dim 1, a step, t()) is a copy made by one kernel: ops::index_select or
// ops::transpose (<kernelnet/ops/index.hpp>). matmul is our GEMM (<kernelnet/ops/gemm.hpp>).
// Indices are checked on the host: an index tensor on a GPU is read back for that.
#pragma once
#include <memory>
#include <vector>

#include <kernelnet/math/common.hpp>
#include <kernelnet/ops/gemm.hpp>
#include <kernelnet/ops/index.hpp>

namespace kn {

namespace detail {

inline int wrap_dim(const char* op, const Tensor& x, int dim) {
  const int n = std::max(x.dim(), 1);
  KN_CHECK(dim >= -n && dim < n, op, ": dimension ", dim, " is out of range for ", x.str(), " (expected one in [", -n,
           ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}
// x as [outer, size, inner] around dimension d.
struct Around {
  int64_t outer = 1, size = 1, inner = 1;
};
inline Around around(const Tensor& x, int d) {
  Around a;
  if (x.dim() == 0) return a;
  for (int i = 0; i < d; ++i) a.outer *= x.size(i);
  a.size = x.size(d);
  for (int i = d + 1; i < x.dim(); ++i) a.inner *= x.size(i);
  return a;
}

// A gradient that only passes through unchanged in another shape (reshape) or to a run
// of elements of the input (a view of rows): added at `offset`, zero elsewhere.
struct ViewBackward : Node {
  const char* label = "ViewBackward0";
  int64_t offset = 0, total = 0;  // elements
  const char* name() const override { return label; }
  void backward(const Tensor& g) override {
    GradSlot s = slot(0);
    if (!s) return;
    const Device d = g.device();
    float* dst = s.buffer.data<float>();
    if (s.beta == 0.0f && g.numel() < total) ops::fill(d, dst, 0.0f, total);
    const float beta = s.beta == 0.0f && g.numel() < total ? 1.0f : s.beta;
    ops::accumulate(d, dst + offset, g.data<float>(), g.numel(), beta);
  }
};

inline Tensor view_of(const char* label, const Tensor& x, const Shape& shape, int64_t offset_elements) {
  Tensor out = x.data_view(shape, std::size_t(offset_elements) * dtype_size(x.dtype()));
  if (needs_grad(x)) {
    auto node = std::make_shared<ViewBackward>();
    node->label = label;
    node->offset = offset_elements;
    node->total = x.numel();
    record(out, std::move(node), x);
  }
  return out;
}

// The index as int64 values on the host, each checked against `size`.
inline std::vector<int64_t> checked_index(const char* op, const Tensor& index, int64_t size, int dim) {
  check_defined(op, index);
  KN_CHECK(index.dtype() == Dtype::Int64, op, ": the index must be int64, got ", index.str());
  KN_CHECK(index.dim() <= 1, op, ": the index must be 1-D, got ", index.str());
  std::vector<int64_t> v = index.to_vector<int64_t>();
  for (std::size_t k = 0; k < v.size(); ++k)
    KN_CHECK(v[k] >= 0 && v[k] < size, op, ": index ", v[k], " (at position ", k, " of the index) is out of range for "
             "dimension ", dim, " of size ", size);
  return v;
}

struct IndexSelectBackward : Node {
  const char* label = "IndexSelectBackward0";
  Tensor index;  // on the device of the gradient
  Around at;
  const char* name() const override { return label; }
  void backward(const Tensor& g) override {
    if (GradSlot s = slot(0))
      ops::index_add(g.device(), s.buffer.data<float>(), g.data<float>(), index.data<int64_t>(), at.outer,
                     index.numel(), at.inner, at.size, s.beta);
  }
  void release() override { index = Tensor(); }
};

// index_select with the index already checked, as a tensor on x's device.
inline Tensor gather(const char* label, const Tensor& x, int d, const Tensor& index) {
  const Around at = around(x, d);
  std::vector<int64_t> dims = x.shape().vec();
  if (dims.empty()) dims.push_back(1);
  dims[std::size_t(d)] = index.numel();
  Tensor out = Tensor::empty(Shape(dims), x.dtype(), x.device());
  ops::index_select(x.device(), out.raw(), x.raw(), index.data<int64_t>(), at.outer, index.numel(), at.inner, at.size,
                    int(dtype_size(x.dtype())));
  if (needs_grad(x)) {
    auto node = std::make_shared<IndexSelectBackward>();
    node->label = label;
    node->index = index;
    node->at = at;
    record(out, std::move(node), x);
  }
  return out;
}
inline Tensor gather(const char* label, const Tensor& x, int d, const std::vector<int64_t>& index) {
  return gather(label, x, d, Tensor::from_vector(index).to(x.device()));
}

struct TransposeBackward : Node {
  int64_t rows = 0, cols = 0;  // of the forward's input
  const char* name() const override { return "TBackward0"; }
  void backward(const Tensor& g) override {
    if (GradSlot s = slot(0))
      deliver(s, [&](float* dst) { ops::transpose(g.device(), dst, g.data<float>(), cols, rows, 4); });
  }
};

struct MatmulBackward : Node {
  Tensor a, b;  // detached
  const char* name() const override { return "MmBackward0"; }
  void backward(const Tensor& g) override {
    const Device d = g.device();
    const int M = int(a.size(0)), K = int(a.size(1)), N = int(b.size(1));
    if (GradSlot da = slot(0))  // g [M, N] x b^T -> [M, K]
      ops::gemm(d, da.buffer.data<float>(), g.data<float>(), b.data<float>(), M, K, N, Transpose::No, Transpose::Yes,
                1.0f, da.beta);
    if (GradSlot db = slot(1))  // a^T x g -> [K, N]
      ops::gemm(d, db.buffer.data<float>(), a.data<float>(), g.data<float>(), K, N, M, Transpose::Yes, Transpose::No,
                1.0f, db.beta);
  }
  void release() override { a = b = Tensor(); }
};

}  // namespace detail

inline Tensor Tensor::reshape(const Shape& shape) const {
  detail::check_defined("reshape", *this);
  KN_CHECK(shape.numel() == numel(), "reshape: cannot view ", this->shape().str(), " (", numel(), " elements) as ",
           shape.str(), " (", shape.numel(), " elements)");
  return detail::view_of("ViewBackward0", *this, shape, 0);
}

inline Tensor Tensor::t() const {
  detail::check_defined("t", *this);
  KN_CHECK(dim() <= 2, "t(): expects a tensor of at most 2 dimensions, got ", str());
  if (dim() < 2) return *this;
  const int64_t rows = size(0), cols = size(1);
  Tensor out = empty(Shape{cols, rows}, dtype(), device());
  ops::transpose(device(), out.raw(), raw(), rows, cols, int(dtype_size(dtype())));
  if (needs_grad(*this)) {
    auto node = std::make_shared<detail::TransposeBackward>();
    node->rows = rows;
    node->cols = cols;
    record(out, std::move(node), *this);
  }
  return out;
}

inline Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::check_float_op("matmul", a);
  detail::check_float_op("matmul", b);
  detail::check_devices("matmul", a, b);
  KN_CHECK(a.dim() == 2 && b.dim() == 2, "matmul: multiplies 2-D tensors, got shapes ", a.shape().str(), " and ",
           b.shape().str());
  KN_CHECK(a.size(1) == b.size(0), "matmul: shapes ", a.shape().str(), " and ", b.shape().str(),
           " cannot be multiplied (", a.size(1), " columns against ", b.size(0), " rows)");
  const int M = int(a.size(0)), K = int(a.size(1)), N = int(b.size(1));
  Tensor out = Tensor::empty(Shape{M, N}, Dtype::Float32, a.device());
  ops::gemm(a.device(), out.data<float>(), a.data<float>(), b.data<float>(), M, N, K, Transpose::No, Transpose::No,
            1.0f, 0.0f);
  if (needs_grad(a, b)) {
    auto node = std::make_shared<detail::MatmulBackward>();
    node->a = a.detach();
    node->b = b.detach();
    record(out, std::move(node), a, b);
  }
  return out;
}
inline Tensor Tensor::matmul(const Tensor& other) const { return kn::matmul(*this, other); }

inline Tensor Tensor::index_select(int dim, const Tensor& index) const {
  detail::check_defined("index_select", *this);
  const int d = detail::wrap_dim("index_select", *this, dim);
  KN_CHECK(index.defined() && (index.device() == device() || index.device().is_cpu()), "index_select: the index is on ",
           index.defined() ? index.device().str() : "no device", " but the tensor is on ", device().str());
  detail::checked_index("index_select", index, this->dim() == 0 ? 1 : size(d), d);
  Tensor out = detail::gather("IndexSelectBackward0", *this, d, index.to(device()));
  return this->dim() == 0 ? out.reshape(Shape{}) : out;
}

inline Tensor Tensor::narrow(int dim, int64_t start, int64_t length) const {
  detail::check_defined("narrow", *this);
  KN_CHECK(this->dim() > 0, "narrow(): cannot be applied to a 0-dim tensor");
  const int d = detail::wrap_dim("narrow", *this, dim);
  const int64_t n = size(d);
  if (start < 0) start += n;
  KN_CHECK(start >= 0 && start <= n, "narrow(): start ", start, " is out of range for dimension ", d, " of size ", n);
  KN_CHECK(length >= 0 && start + length <= n, "narrow(): start (", start, ") + length (", length,
           ") exceeds dimension ", d, " of size ", n, " in ", str());
  const detail::Around at = detail::around(*this, d);
  if (at.outer == 1) {  // whole rows: a view
    std::vector<int64_t> dims = shape().vec();
    dims[std::size_t(d)] = length;
    return detail::view_of("SliceBackward0", *this, Shape(dims), start * at.inner);
  }
  std::vector<int64_t> idx(static_cast<std::size_t>(length));
  for (int64_t k = 0; k < length; ++k) idx[std::size_t(k)] = start + k;
  return detail::gather("SliceBackward0", *this, d, idx);
}

inline Tensor Tensor::slice(int dim, int64_t start, int64_t end, int64_t step) const {
  detail::check_defined("slice", *this);
  KN_CHECK(step > 0, "slice(): step must be positive, got ", step);
  KN_CHECK(this->dim() > 0, "slice(): cannot be applied to a 0-dim tensor");
  const int d = detail::wrap_dim("slice", *this, dim);
  const int64_t n = size(d);
  // Python's rules: negative counts from the end, then both ends are clamped to [0, n].
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::min(std::max<int64_t>(start, 0), n);
  end = std::min(std::max<int64_t>(end, start), n);
  if (step == 1) return narrow(d, start, end - start);
  std::vector<int64_t> idx;
  for (int64_t k = start; k < end; k += step) idx.push_back(k);
  return detail::gather("SliceBackward0", *this, d, idx);
}

inline Tensor Tensor::select(int dim, int64_t index) const {
  detail::check_defined("select", *this);
  KN_CHECK(this->dim() > 0, "select(): cannot be applied to a 0-dim tensor");
  const int d = detail::wrap_dim("select", *this, dim);
  const int64_t n = size(d);
  KN_CHECK(index >= -n && index < n, "select(): index ", index, " is out of range for dimension ", d, " of size ", n,
           " in ", str());
  if (index < 0) index += n;
  std::vector<int64_t> dims = shape().vec();
  dims.erase(dims.begin() + d);
  const detail::Around at = detail::around(*this, d);
  if (at.outer == 1) return detail::view_of("SelectBackward0", *this, Shape(dims), index * at.inner);
  return detail::gather("SelectBackward0", *this, d, std::vector<int64_t>{index}).reshape(Shape(dims));
}

}  // namespace kn
