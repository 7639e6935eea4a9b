// kn::Tensor: a shape, a dtype, a device, and shared storage.
//
// Memory layout, said once for the whole library: tensors are dense and
// row-major (C order). A [rows, cols] matrix keeps element (r, c) at
// data[r * cols + c]; a weight of kn::Linear(in, out) is [out, in], as in PyTorch.
//
// Tensor is a handle: copying it shares the data (as in PyTorch and libtorch).
// clone() copies the data; .to(device) is the only copy across devices.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/device.hpp>
#include <kernelnet/dtype.hpp>
#include <kernelnet/error.hpp>
#include <kernelnet/ops/argmax.hpp>
#include <kernelnet/ops/fill.hpp>
#include <kernelnet/shape.hpp>
#include <kernelnet/storage.hpp>

namespace kn {

struct Node;

namespace detail {
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  std::size_t offset = 0;  // bytes into storage where element 0 is: a view of rows (narrow, select)
  Shape shape;
  Dtype dtype = Dtype::Float32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;        // accumulated gradient (leaves)
  std::shared_ptr<TensorImpl> spare_grad;  // buffer kept by zero_grad() for the next backward
  std::shared_ptr<Node> grad_fn;           // the op that made this tensor (non-leaves)
  Device device() const { return storage->device(); }
};
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;  // undefined: no data
  explicit Tensor(std::shared_ptr<detail::TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- Factories (CPU unless a device is given; data uninitialised for empty()).
  static Tensor empty(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = Device::cpu()) {
    auto impl = std::make_shared<detail::TensorImpl>();
    impl->storage = std::make_shared<Storage>(std::size_t(shape.numel()) * dtype_size(dtype), device);
    impl->shape = shape;
    impl->dtype = dtype;
    return Tensor(std::move(impl));
  }
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, Device device = Device::cpu()) { return full(shape, 0.0f, device); }
  static Tensor ones(const Shape& shape, Device device = Device::cpu()) { return full(shape, 1.0f, device); }
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    KN_CHECK(int64_t(values.size()) == shape.numel(), "Tensor::from_vector: ", values.size(),
             " values do not fill shape ", shape.str(), " (", shape.numel(), " elements)");
    Tensor t = empty(shape, dtype_of<T>());
    if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
    return t;
  }
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{int64_t(values.size())});
  }

  // --- What it is.
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int dim() const { return impl().shape.size(); }
  int64_t size(int d) const {
    const int n = dim();
    KN_CHECK(d >= -n && d < n, "Tensor::size(", d, "): out of range for shape ", shape().str());
    return impl().shape[d < 0 ? d + n : d];
  }
  int64_t numel() const { return impl().shape.numel(); }
  Dtype dtype() const { return impl().dtype; }
  Device device() const { return impl().device(); }
  std::string str() const {
    if (!defined()) return "Tensor(undefined)";
    return "Tensor(" + shape().str() + ", " + dtype_name(dtype()) + ", " + device().str() + ")";
  }

  // --- Data. On a CUDA tensor these are device pointers.
  void* raw() const { return static_cast<char*>(impl().storage->data()) + impl().offset; }
  template <typename T>
  T* data() const {
    KN_CHECK(dtype() == dtype_of<T>(), "Tensor::data<", dtype_name(dtype_of<T>()), ">(): the tensor is ",
             dtype_name(dtype()), " ", shape().str());
    return static_cast<T*>(raw());
  }
  std::size_t nbytes() const { return std::size_t(numel()) * dtype_size(dtype()); }

  // --- Copies.
  Tensor to(Device device) const;  // the same tensor when already there, else a copy
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor clone() const;
  template <typename T>
  std::vector<T> to_vector() const {
    Tensor c = cpu();
    const T* p = c.data<T>();
    return std::vector<T>(p, p + numel());
  }

  // The value of a one-element tensor. On CUDA this synchronises and reads 4 bytes:
  // the lesson's loss.item().
  float item() const;
  template <typename T>
  T item() const {
    KN_CHECK(numel() == 1, "Tensor::item(): the tensor has ", numel(), " elements (shape ",
             shape().str(), "), item() needs exactly one");
    T v{};
    read_elements(&v, 0, 1, dtype_of<T>());
    return v;
  }
  // Element access for tests and small programs: t.at<float>(r, c). Synchronises on CUDA.
  template <typename T, typename... Index>
  T at(Index... index) const {
    const int64_t idx[] = {int64_t(index)...};
    KN_CHECK(int(sizeof...(Index)) == dim(), "Tensor::at: ", sizeof...(Index), " indices for a tensor of shape ",
             shape().str());
    int64_t flat = 0;
    for (int d = 0; d < dim(); ++d) {
      KN_CHECK(idx[d] >= 0 && idx[d] < shape()[d], "Tensor::at: index ", idx[d], " out of range for dimension ", d,
               " of shape ", shape().str());
      flat = flat * shape()[d] + idx[d];
    }
    T v{};
    read_elements(&v, flat, 1, dtype_of<T>());
    return v;
  }

  // --- Shape views that share data.
  // A tensor of `shape` over this one's data from `byte_offset` on, with no autograd history.
  Tensor data_view(const Shape& shape, std::size_t byte_offset) const {
    auto impl = std::make_shared<detail::TensorImpl>();
    impl->storage = impl_->storage;
    impl->offset = impl_->offset + byte_offset;
    impl->shape = shape;
    impl->dtype = dtype();
    return Tensor(std::move(impl));
  }

  // --- Autograd.
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool on = true) {
    KN_CHECK(!on || dtype() == Dtype::Float32, "requires_grad_: only float32 tensors can require gradients, this is ",
             str());
    KN_CHECK(on || !impl().grad_fn, "requires_grad_(false) on a tensor made by an op; use detach()");
    impl().requires_grad = on;
    return *this;
  }
  bool is_leaf() const { return !impl().grad_fn; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  Tensor detach() const { return data_view(shape(), 0); }
  void backward() const;  // defined in autograd.hpp

  // --- Maths, as libtorch spells it. Defined in <kernelnet/math/...> (argmax here), which
  // <kernelnet/kernelnet.hpp> includes; the free functions and operators live there too.
  // Float ops take float32 tensors; comparisons give kBool; reductions of int64 and bool
  // give int64. Tensors are always dense: narrow/slice/select/[] along dim 0 share the
  // data (a view), along dim 1 (and t()) they copy.
  const Shape& sizes() const { return shape(); }
  Tensor to(Dtype dtype) const;
  Tensor to(Device device, Dtype dtype) const { return to(device).to(dtype); }
  Tensor reshape(const Shape& shape) const;  // shares the data; the gradient flows back
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor t() const;
  Tensor matmul(const Tensor& other) const;
  Tensor sum() const;
  Tensor sum(int dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(int dim) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(float exponent) const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor relu() const;
  Tensor index_select(int dim, const Tensor& index) const;
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  Tensor slice(int dim = 0, int64_t start = 0, int64_t end = INT64_MAX, int64_t step = 1) const;
  Tensor select(int dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  // In place, with broadcasting of the right side; refused on a tensor that requires
  // grad while grad mode is on (PyTorch refuses it on such a leaf).
  Tensor& operator+=(const Tensor& other);
  Tensor& operator-=(const Tensor& other);
  Tensor& operator*=(const Tensor& other);
  Tensor& operator/=(const Tensor& other);
  Tensor& operator+=(float value);
  Tensor& operator-=(float value);
  Tensor& operator*=(float value);
  Tensor& operator/=(float value);

  detail::TensorImpl& impl() const {
    KN_CHECK(impl_, "use of an undefined kn::Tensor");
    return *impl_;
  }
  const std::shared_ptr<detail::TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  void read_elements(void* dst, int64_t first, int64_t count, Dtype want) const {
    KN_CHECK(dtype() == want, "reading ", dtype_name(want), " from a ", dtype_name(dtype()), " tensor ",
             shape().str());
    const std::size_t es = dtype_size(dtype());
    const char* src = static_cast<const char*>(raw()) + first * es;
    if (device().is_cpu()) std::memcpy(dst, src, count * es);
    else cuda::copy_to_host(dst, src, count * es, device().index);
  }
  std::shared_ptr<detail::TensorImpl> impl_;
};

// std::ostream& operator<<(std::ostream&, const Tensor&): values as PyTorch prints them,
// in <kernelnet/print.hpp>.

// Copies bytes between any two devices.
inline void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) std::memcpy(dst, src, bytes);
  else if (dst_dev.is_cuda() && src_dev.is_cpu()) cuda::copy_to_device(dst, src, bytes, dst_dev.index);
  else if (dst_dev.is_cpu() && src_dev.is_cuda()) cuda::copy_to_host(dst, src, bytes, src_dev.index);
  else if (dst_dev == src_dev) cuda::copy_on_device(dst, src, bytes, dst_dev.index);
  else {  // between two GPUs, through the host: rare, and simple beats fast here
    std::vector<char> host(bytes);
    cuda::copy_to_host(host.data(), src, bytes, src_dev.index);
    cuda::copy_to_device(dst, host.data(), bytes, dst_dev.index);
  }
}

inline void check_device_usable(Device device) {
  if (device.is_cuda()) {
    KN_CHECK(cuda::is_available(), "device ", device.str(), " requested, but CUDA is not available: ",
             cuda::unavailable_reason());
    KN_CHECK(device.index < cuda::device_count(), "device ", device.str(), " requested, but only ",
             cuda::device_count(), " CUDA device(s) exist");
  }
}

inline Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  check_device_usable(device);
  Tensor out = empty(shape(), dtype(), device);
  copy_bytes(out.raw(), device, raw(), this->device(), nbytes());
  return out;
}

inline Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_bytes(out.raw(), device(), raw(), device(), nbytes());
  return out;
}

inline Tensor Tensor::full(const Shape& shape, float value, Device device) {
  check_device_usable(device);
  Tensor t = empty(shape, Dtype::Float32, device);
  ops::fill(device, t.data<float>(), value, t.numel());
  return t;
}

inline Tensor Tensor::argmax(int dim) const {
  KN_CHECK(dtype() == Dtype::Float32, "argmax: needs a float32 tensor, got ", str());
  KN_CHECK(this->dim() == 1 || this->dim() == 2, "argmax: supports 1-D and 2-D tensors, got ", str());
  const int d = dim < 0 ? dim + this->dim() : dim;
  KN_CHECK(d == this->dim() - 1, "argmax(", dim, "): only the last dimension is supported, got ", str());
  const int rows = this->dim() == 2 ? int(size(0)) : 1;
  const int cols = int(size(-1));
  KN_CHECK(cols > 0, "argmax: the dimension is empty in ", str());
  Tensor out = empty(this->dim() == 2 ? Shape{rows} : Shape{}, Dtype::Int64, device());
  ops::argmax_rows(device(), out.data<int64_t>(), data<float>(), rows, cols);
  return out;
}

inline float Tensor::item() const {
  if (dtype() == Dtype::Int64) return float(item<int64_t>());
  if (dtype() == Dtype::Bool) return item<bool>() ? 1.0f : 0.0f;
  return item<float>();
}

}  // namespace kn
