// The differentiable ops: kn::linear, kn::relu, kn::cross_entropy, kn::dropout,
// kn::mse_loss.
//
// Each one checks its inputs, runs the forward through the ops (ops/<op>.hpp) and,
// when a gradient is needed, records a Node whose backward runs the backward ops.
#pragma once
#include <memory>
#include <string>

#include <kernelnet/autograd.hpp>
#include <kernelnet/ops/bias.hpp>
#include <kernelnet/ops/dropout.hpp>
#include <kernelnet/ops/gemm.hpp>
#include <kernelnet/ops/mse.hpp>
#include <kernelnet/ops/relu.hpp>
#include <kernelnet/ops/softmax_ce.hpp>
#include <kernelnet/random.hpp>
#include <kernelnet/tensor.hpp>

namespace kn {

namespace detail {
inline void check_same_device(const char* op, const Tensor& a, const char* a_name, const Tensor& b,
                              const char* b_name) {
  KN_CHECK(a.device() == b.device(), op, ": ", a_name, " is on ", a.device().str(), " but ", b_name, " is on ",
           b.device().str(), "; move both to one device with .to(device)");
}
inline void check_float(const char* op, const Tensor& t, const char* name) {
  KN_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
  KN_CHECK(t.dtype() == Dtype::Float32, op, ": ", name, " must be float32, got ", t.str());
}
}  // namespace detail

// --- linear: y = x W^T + b  // [batch, in] x [out, in]^T + [out] -> [batch, out]
struct LinearBackward : Node {
  Tensor x, W;
  bool has_bias = false;
  const char* name() const override { return "LinearBackward"; }
  void backward(const Tensor& dy) override {
    const Device d = dy.device();
    const int batch = int(x.size(0)), in = int(x.size(1)), out = int(W.size(0));
    if (GradSlot dx = slot(0))  // [batch, out] x [out, in] -> [batch, in]
      ops::gemm(d, dx.buffer.data<float>(), dy.data<float>(), W.data<float>(), batch, in, out, Transpose::No, Transpose::No, 1.0f,
                dx.beta);
    if (GradSlot dW = slot(1))  // [batch, out]^T x [batch, in] -> [out, in]
      ops::gemm(d, dW.buffer.data<float>(), dy.data<float>(), x.data<float>(), out, in, batch, Transpose::Yes, Transpose::No, 1.0f,
                dW.beta);
    if (has_bias)
      if (GradSlot db = slot(2))  // column sums of dy -> [out]
        ops::bias_grad(d, db.buffer.data<float>(), dy.data<float>(), batch, out, db.beta);
  }
  void release() override { x = W = Tensor(); }
};

inline Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b = Tensor()) {
  detail::check_float("linear", x, "input");
  detail::check_float("linear", W, "weight");
  KN_CHECK(W.dim() == 2, "linear: weight must be 2-D [out, in], got ", W.shape().str());
  KN_CHECK(x.dim() == 2, "linear: input must be 2-D [batch, in], got ", x.shape().str());
  KN_CHECK(x.size(1) == W.size(1), "linear: input has ", x.size(1), " features, expected ", W.size(1),
           " (input shape ", x.shape().str(), ", weight shape ", W.shape().str(), ")");
  detail::check_same_device("linear", x, "input", W, "weight");
  if (b.defined()) {
    detail::check_float("linear", b, "bias");
    KN_CHECK(b.dim() == 1 && b.size(0) == W.size(0), "linear: bias shape ", b.shape().str(), " does not match weight ",
             W.shape().str());
    detail::check_same_device("linear", x, "input", b, "bias");
  }
  const Device d = x.device();
  const int batch = int(x.size(0)), in = int(x.size(1)), out = int(W.size(0));
  Tensor y = Tensor::empty({batch, out}, Dtype::Float32, d);
  ops::gemm(d, y.data<float>(), x.data<float>(), W.data<float>(), batch, out, in, Transpose::No, Transpose::Yes, 1.0f, 0.0f);
  if (b.defined()) ops::bias_add(d, y.data<float>(), b.data<float>(), batch, out);
  if (needs_grad(x, W, b)) {
    auto node = std::make_shared<LinearBackward>();
    node->x = x;
    node->W = W;
    node->has_bias = b.defined();
    record(y, std::move(node), x, W, b);
  }
  return y;
}

// --- relu: y = max(x, 0), elementwise
struct ReluBackward : Node {
  Tensor y;
  const char* name() const override { return "ReluBackward"; }
  void backward(const Tensor& dy) override {
    if (GradSlot dx = slot(0))
      ops::relu_backward(dy.device(), dx.buffer.data<float>(), dy.data<float>(), y.data<float>(), y.numel(), dx.beta);
  }
  void release() override { y = Tensor(); }
};

inline Tensor relu(const Tensor& x) {
  detail::check_float("relu", x, "input");
  Tensor y = Tensor::empty(x.shape(), Dtype::Float32, x.device());
  ops::relu_forward(x.device(), y.data<float>(), x.data<float>(), x.numel());
  if (needs_grad(x)) {
    auto node = std::make_shared<ReluBackward>();
    node->y = y.detach();  // the output, not the input, decides the mask; detach avoids a cycle
    record(y, std::move(node), x);
  }
  return y;
}

// --- cross_entropy: mean over rows of logsumexp(logits) - logits[label].
// Forward and gradient are one fused op: the forward already has softmax in hand,
// so it writes dlogits = (softmax - onehot) / rows, and backward only scales it.
struct CrossEntropyBackward : Node {
  Tensor dlogits;
  const char* name() const override { return "CrossEntropyBackward"; }
  void backward(const Tensor& dloss) override {
    if (GradSlot dx = slot(0))
      ops::softmax_ce_backward(dloss.device(), dx.buffer.data<float>(), dlogits.data<float>(), dloss.data<float>(),
                               dlogits.numel(), dx.beta);
  }
  void release() override { dlogits = Tensor(); }
};

inline Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  detail::check_float("cross_entropy", logits, "logits");
  KN_CHECK(labels.defined(), "cross_entropy: labels is an undefined tensor");
  KN_CHECK(labels.dtype() == Dtype::Int64, "cross_entropy: labels must be int64 class indices, got ", labels.str(),
           " (float labels? pass the class index of each row)");
  KN_CHECK(logits.dim() == 2, "cross_entropy: logits must be 2-D [batch, classes], got ", logits.shape().str());
  KN_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), "cross_entropy: labels shape ",
           labels.shape().str(), " does not match logits ", logits.shape().str(), " (expected [", logits.size(0), "])");
  KN_CHECK(logits.size(0) > 0, "cross_entropy: empty batch (logits shape ", logits.shape().str(), ")");
  detail::check_same_device("cross_entropy", logits, "logits", labels, "labels");
  const int rows = int(logits.size(0)), classes = int(logits.size(1));
  if (labels.device().is_cpu()) {  // cheap here; on a GPU an out-of-range label makes the loss NaN instead
    const int64_t* l = labels.data<int64_t>();
    for (int r = 0; r < rows; ++r)
      KN_CHECK(l[r] >= 0 && l[r] < classes, "cross_entropy: label ", l[r], " at row ", r, " is outside [0, ",
               classes, ")");
  }
  const Device d = logits.device();
  Tensor loss = Tensor::empty(Shape{}, Dtype::Float32, d);
  Tensor dlogits = Tensor::empty(logits.shape(), Dtype::Float32, d);
  ops::softmax_ce_forward(d, loss.data<float>(), dlogits.data<float>(), logits.data<float>(),
                          labels.data<int64_t>(), rows, classes);
  if (needs_grad(logits)) {
    auto node = std::make_shared<CrossEntropyBackward>();
    node->dlogits = std::move(dlogits);
    record(loss, std::move(node), logits);
  }
  return loss;
}

// --- dropout: in training, each element is zeroed with probability p and the others are
// scaled by 1 / (1 - p) (F.dropout). The mask comes from the Philox generator's
// (seed, offset) (<kernelnet/random.hpp>), is the same on every device, and is not
// stored: the backward recomputes it from the pair.
struct DropoutBackward : Node {
  double p = 0;
  PhiloxState rng;
  const char* name() const override { return "NativeDropoutBackward0"; }
  void backward(const Tensor& dy) override {
    if (GradSlot dx = slot(0))
      ops::dropout_backward(dy.device(), dx.buffer.data<float>(), dy.data<float>(), dy.numel(), p, rng.seed,
                            rng.offset, dx.beta);
  }
};

// Not training, p == 0 or an empty input: the input itself, as F.dropout returns it.
// Otherwise a new tensor, and the call takes the generator's next offset (so p == 1,
// which draws nothing and zeroes everything, takes none).
inline Tensor dropout(const Tensor& x, double p = 0.5, bool training = true) {
  detail::check_float("dropout", x, "input");
  KN_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0.0 || x.numel() == 0) return x;
  const PhiloxState rng = p < 1.0 ? detail::take_philox_offset() : philox_state();
  Tensor y = Tensor::empty(x.shape(), Dtype::Float32, x.device());
  ops::dropout_forward(x.device(), y.data<float>(), x.data<float>(), x.numel(), p, rng.seed, rng.offset);
  if (needs_grad(x)) {
    auto node = std::make_shared<DropoutBackward>();
    node->p = p;
    node->rng = rng;
    record(y, std::move(node), x);
  }
  return y;
}

// --- mse_loss: mean over every element of (input - target)^2 (F.mse_loss, mean
// reduction). Like cross_entropy, the forward writes the gradient with respect to the
// input, 2 (input - target) / n, when one is needed, and backward only scales it: by
// dloss for the input, by -dloss for the target.
struct MseLossBackward : Node {
  Tensor dinput;
  const char* name() const override { return "MseLossBackward0"; }
  void backward(const Tensor& dloss) override {
    const float signs[2] = {1.0f, -1.0f};
    for (size_t i = 0; i < 2; ++i)
      if (GradSlot d = slot(i))
        ops::mse_backward(dloss.device(), d.buffer.data<float>(), dinput.data<float>(), dloss.data<float>(),
                          dinput.numel(), signs[i], d.beta);
  }
  void release() override { dinput = Tensor(); }
};

inline Tensor mse_loss(const Tensor& input, const Tensor& target) {
  detail::check_float("mse_loss", input, "input");
  detail::check_float("mse_loss", target, "target");
  KN_CHECK(input.shape() == target.shape(), "mse_loss: input shape ", input.shape().str(), " and target shape ",
           target.shape().str(), " differ; kernelnet does not broadcast them (PyTorch warns that it would, and "
           "the result is rarely what was meant): give the target the input's shape");
  detail::check_same_device("mse_loss", input, "input", target, "target");
  const Device d = input.device();
  const bool grad = needs_grad(input, target);
  Tensor loss = Tensor::empty(Shape{}, Dtype::Float32, d);
  Tensor dinput = grad ? Tensor::empty(input.shape(), Dtype::Float32, d) : Tensor();
  ops::mse_forward(d, loss.data<float>(), grad ? dinput.data<float>() : nullptr, input.data<float>(),
                   target.data<float>(), input.numel());
  if (grad) {
    auto node = std::make_shared<MseLossBackward>();
    node->dinput = std::move(dinput);
    record(loss, std::move(node), input, target);
  }
  return loss;
}

}  // namespace kn
