// SiLU as a user-defined differentiable op, written the way kernelnet writes its own
// (lib/kernelnet/functional.hpp): a function that runs the forward and, when a gradient
// is needed, records a Node whose backward runs the backward kernel; and a Module that
// wraps the function, as kn::ReLU wraps kn::relu. Nothing in kernelnet changes.
#pragma once
#include <memory>
#include <string>

#include <kernelnet/kernelnet.hpp>

#include "silu_kernels.hpp"

namespace silu {

// The dispatch: the tensor's device picks the kernel. The trace::Op line makes the op
// show in KN_TRACE output: on the CPU as itself, on a GPU as the name its launches carry.
inline void forward(const kn::Tensor& y, const kn::Tensor& x) {
  const int64_t n = x.numel();
  kn::trace::Op traced(x.device(), "silu_forward", n);
  if (x.device().is_cpu()) return cpu::forward(y.data<float>(), x.data<float>(), n);
#if SILU_WITH_CUDA
  cuda::forward(y.data<float>(), x.data<float>(), n, x.device().index);
#else
  throw kn::Error("silu: this program was built without its CUDA kernels");
#endif
}

inline void backward(const kn::Tensor& dx, float beta, const kn::Tensor& dy, const kn::Tensor& x) {
  const int64_t n = x.numel();
  kn::trace::Op traced(x.device(), "silu_backward", n);
  if (x.device().is_cpu()) return cpu::backward(dx.data<float>(), dy.data<float>(), x.data<float>(), n, beta);
#if SILU_WITH_CUDA
  cuda::backward(dx.data<float>(), dy.data<float>(), x.data<float>(), n, beta, x.device().index);
#else
  throw kn::Error("silu: this program was built without its CUDA kernels");
#endif
}

// The Node: keeps the input (the backward needs x), and writes dx through slot(0).
struct SiluBackward : kn::Node {
  kn::Tensor x;
  const char* name() const override { return "SiluBackward"; }
  void backward(const kn::Tensor& dy) override {
    if (kn::GradSlot dx = slot(0)) silu::backward(dx.buffer, dx.beta, dy, x);
  }
  void release() override { x = kn::Tensor(); }
};

// y = x * sigmoid(x), elementwise: torch.nn.functional.silu.
inline kn::Tensor silu(const kn::Tensor& x) {
  KN_CHECK(x.defined() && x.dtype() == kn::Dtype::Float32, "silu: needs a float32 tensor, got ", x.str());
  kn::Tensor y = kn::Tensor::empty(x.shape(), kn::Dtype::Float32, x.device());
  forward(y, x);
  if (kn::needs_grad(x)) {
    auto node = std::make_shared<SiluBackward>();
    node->x = x.detach();  // the values, not the graph: no cycle through the node
    kn::record(y, std::move(node), x);
  }
  return y;
}

// nn.SiLU
class SiLU : public kn::Module {
 public:
  kn::Tensor forward(const kn::Tensor& x) override { return silu(x); }
  std::string describe() const override { return "SiLU"; }
};

}  // namespace silu
