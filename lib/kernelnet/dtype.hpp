// kn::Dtype, its libtorch-style constants (kn::kFloat32, kn::kInt64, kn::kBool) and
// kn::TensorOptions, the (dtype, device) pair that factories take as libtorch's do:
// kn::zeros({2, 3}, kn::kInt64), kn::ones({2}, kn::Device::cuda()),
// kn::full({2}, 1.f, kn::TensorOptions().device(dev)).
#pragma once
#include <cstddef>
#include <cstdint>

#include <kernelnet/device.hpp>

namespace kn {

enum class Dtype { Float32, Int64, Bool };

inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat = Dtype::Float32;
inline constexpr Dtype kInt64 = Dtype::Int64;
inline constexpr Dtype kLong = Dtype::Int64;
inline constexpr Dtype kBool = Dtype::Bool;

inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "float32";
    case Dtype::Int64: return "int64";
    case Dtype::Bool: return "bool";
  }
  return "?";
}
// Bytes per element. A bool is one byte holding 0 or 1, as in PyTorch.
inline std::size_t dtype_size(Dtype d) { return d == Dtype::Float32 ? 4 : d == Dtype::Int64 ? 8 : 1; }
template <typename T> constexpr Dtype dtype_of();
template <> constexpr Dtype dtype_of<float>() { return Dtype::Float32; }
template <> constexpr Dtype dtype_of<int64_t>() { return Dtype::Int64; }
template <> constexpr Dtype dtype_of<bool>() { return Dtype::Bool; }
static_assert(sizeof(bool) == 1, "kn::kBool tensors store one byte per element");

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(Dtype dtype) : dtype_(dtype), has_dtype_(true) {}  // NOLINT: implicit, as libtorch's
  TensorOptions(Device device) : device_(device) {}                 // NOLINT
  TensorOptions dtype(Dtype d) const { TensorOptions o = *this; o.dtype_ = d; o.has_dtype_ = true; return o; }
  TensorOptions device(Device d) const { TensorOptions o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool on) const { TensorOptions o = *this; o.requires_grad_ = on; return o; }
  Dtype dtype() const { return dtype_; }  // float32 unless one was given
  bool has_dtype() const { return has_dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }

 private:
  Dtype dtype_ = Dtype::Float32;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
  bool has_dtype_ = false;
};

}  // namespace kn
