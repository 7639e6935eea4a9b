// Reverse-mode autograd, small enough to read on one screen.
//
// Each differentiable op, when grad mode is on and an input requires grad, makes a
// Node: it keeps what its backward needs and the inputs it sends gradients to.
// loss.backward() orders the Nodes so that each runs after every Node that uses
// its output, then runs them last to first. A Node writes each input's gradient
// straight into that input's gradient buffer (overwriting it the first time,
// adding after that), so leaves accumulate across backward() calls as in PyTorch.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <kernelnet/ops/fill.hpp>
#include <kernelnet/tensor.hpp>
#include <kernelnet/trace/scope.hpp>

namespace kn {

// --- Grad mode: on by default, off inside a NoGradGuard (torch.no_grad()).
namespace detail {
inline thread_local bool grad_mode = true;
}
inline bool is_grad_enabled() { return detail::grad_mode; }
class NoGradGuard {
 public:
  NoGradGuard() : prev_(detail::grad_mode) { detail::grad_mode = false; }
  ~NoGradGuard() { detail::grad_mode = prev_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Where an input's gradient goes: the buffer, and beta = 0 (first write) or 1 (add).
struct GradSlot {
  Tensor buffer;
  float beta = 0.0f;
  explicit operator bool() const { return buffer.defined(); }
};

struct Node {
  virtual ~Node() = default;
  virtual const char* name() const = 0;
  // Reads dout (the gradient of this node's output) and writes each input's gradient
  // through slot(i). Runs at most once.
  virtual void backward(const Tensor& dout) = 0;
  // Drop saved tensors once backward has run.
  virtual void release() {}

  std::vector<std::shared_ptr<detail::TensorImpl>> inputs;  // null where no gradient is needed
  std::shared_ptr<detail::TensorImpl> grad;                 // gradient of the output, accumulated here
  bool done = false;
  uint64_t mark = 0;  // visit mark for the topological sort
  std::string trace_module;  // the Module call that recorded it, "MLP.fc1 (Linear 4→10)" (set only while tracing)

  // The buffer that input i's gradient goes to: the producing node's grad for a
  // non-leaf, the tensor's .grad() for a leaf. Empty when input i needs none.
  GradSlot slot(size_t i) {
    auto& in = inputs[i];
    if (!in) return {};
    std::shared_ptr<detail::TensorImpl>& target = in->grad_fn ? in->grad_fn->grad : in->grad;
    if (target) return {Tensor(target), 1.0f};
    // A leaf's buffer released by zero_grad() is reused when nobody else holds it.
    if (!in->grad_fn && in->spare_grad && in->spare_grad.use_count() == 1 && in->spare_grad->shape == in->shape &&
        in->spare_grad->device() == in->device()) {
      target = std::move(in->spare_grad);
    } else {
      target = Tensor::empty(in->shape, in->dtype, in->device()).impl_ptr();
    }
    return {Tensor(target), 0.0f};
  }
};

// zero_grad() for one tensor: its gradient becomes none (PyTorch 2's default), and the
// buffer is kept so that the next backward can write into it without allocating.
inline void clear_grad(const Tensor& p) {
  auto& impl = p.impl();
  if (impl.grad) impl.spare_grad = std::move(impl.grad);
}

// True when an op on these inputs must record a Node.
template <typename... T>
bool needs_grad(const T&... inputs) {
  return is_grad_enabled() && (... || (inputs.defined() && inputs.requires_grad()));
}

// Makes `out` the output of `node`, whose inputs are `inputs` (in slot order).
template <typename N, typename... T>
void record(Tensor& out, std::shared_ptr<N> node, const T&... inputs) {
  node->inputs.reserve(sizeof...(inputs));
  (node->inputs.push_back(inputs.defined() && inputs.requires_grad() ? inputs.impl_ptr() : nullptr), ...);
  if (trace::enabled()) node->trace_module = trace::module_for_node();
  out.impl().requires_grad = true;
  out.impl().grad_fn = std::move(node);
}

namespace detail {
inline uint64_t next_mark() {
  static thread_local uint64_t m = 0;
  return ++m;
}
// A vector kept per thread between calls, so that a training loop's backward() allocates
// none: borrow() takes it (empty; a nested call finds none and starts a new one), give_back()
// returns it with its capacity.
template <typename T>
std::vector<T>& spare_vector() {
  static thread_local std::vector<T> spare;
  return spare;
}
template <typename T>
std::vector<T> borrow() {
  std::vector<T> v;
  v.swap(spare_vector<T>());
  v.clear();
  return v;
}
template <typename T>
void give_back(std::vector<T>& v) {
  if (v.capacity() > spare_vector<T>().capacity()) v.swap(spare_vector<T>());
}

// Reverse post-order of the graph below root: each node before the nodes it feeds from.
inline void topo_sort(Node* root, std::vector<Node*>& order) {
  const uint64_t mark = next_mark();
  auto stack = borrow<std::pair<Node*, size_t>>();
  stack.push_back({root, 0});
  root->mark = mark;
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->inputs.size()) {
      const auto& in = node->inputs[i++];
      Node* next = in ? in->grad_fn.get() : nullptr;
      if (next && next->mark != mark) {
        next->mark = mark;
        stack.push_back({next, 0});
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  give_back(stack);
}
}  // namespace detail

inline void Tensor::backward() const {
  KN_CHECK(requires_grad(), "backward(): the tensor ", str(),
           " does not require grad (no parameter that requires grad was used to compute it)");
  KN_CHECK(numel() == 1, "backward(): called on ", str(), "; backward() without arguments needs a one-element tensor");
  Tensor seed = Tensor::ones(shape(), device());
  if (!grad_fn()) {  // a leaf: its gradient with respect to itself
    auto& g = impl().grad;
    if (!g) g = seed.impl_ptr();
    else {
      Tensor acc(g);
      ops::accumulate(device(), acc.data<float>(), seed.data<float>(), numel(), 1.0f);
    }
    return;
  }
  Node* root = grad_fn().get();
  KN_CHECK(!root->done, "backward(): trying to backward through the graph a second time; the saved tensors were "
                        "freed after the first backward()");
  root->grad = seed.impl_ptr();
  auto order = detail::borrow<Node*>();
  detail::topo_sort(root, order);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    if (!node->grad) continue;  // nothing flowed into it
    KN_CHECK(!node->done, "backward(): node ", node->name(), " already ran; the graph was freed by an earlier backward()");
    trace::BackwardScope traced(node->trace_module, node->name());
    node->backward(Tensor(node->grad));
    node->grad.reset();
    node->release();
    node->done = true;
  }
  detail::give_back(order);
}

}  // namespace kn
