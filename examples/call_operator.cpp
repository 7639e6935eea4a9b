// The call operator, from Python's __call__ to kn::Module::operator() (docs/call-operator.md).
//
// Python                                  C++
//   class Counter:                          struct Counter {
//       def __init__(self):                   int count = 0;
//           self.count = 0                    int operator()() { return ++count; }
//       def __call__(self):                 };
//           self.count += 1
//           return self.count
//
// An object with operator() is called like a function, and, unlike a function, keeps
// state between calls. That is all nn.Module.__call__ and kn::Module::operator() are:
// objects you call, which do their work (forward) plus the bookkeeping around it (hooks).
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <kernelnet/kernelnet.hpp>

// The lesson's Counter: state that outlives each call.
struct Counter {
  int count = 0;
  int operator()() { return ++count; }
};

// The lesson's Adder: state set once (n), then a call with an argument.
class Adder {
 public:
  explicit Adder(int n) : n_(n) {}
  int operator()(int x) const { return x + n_; }

 private:
  int n_;
};

// The shape of Module::operator(), without kernelnet: hooks around a virtual forward.
struct MiniModule {
  std::vector<std::function<void(int in, int out)>> hooks;
  virtual ~MiniModule() = default;
  virtual int forward(int x) = 0;
  int operator()(int x) {  // what nn.Module.__call__ does, minus everything else
    const int out = forward(x);
    for (auto& h : hooks) h(x, out);
    return out;
  }
};
struct Double : MiniModule {
  int forward(int x) override { return 2 * x; }
};

int main() {
  Counter c;
  c();
  c();
  const int third = c();
  std::printf("Counter: called 3 times, returns %d, count = %d\n", third, c.count);

  const Adder add5(5);
  std::printf("Adder: add5(10) = %d, add5(-2) = %d\n", add5(10), add5(-2));

  // A lambda is an object the compiler writes for you, with the captures as members
  // and the body as operator().
  const int n = 7;
  auto add_n = [n](int x) { return x + n; };
  std::printf("lambda: add_n(10) = %d\n", add_n(10));

  // std::function holds anything callable with the right signature: a function object,
  // a lambda, a plain function.
  std::vector<std::function<int(int)>> callables{add5, add_n, [](int x) { return -x; }};
  std::printf("std::function:");
  for (auto& f : callables) std::printf(" %d", f(10));
  std::printf("\n");

  Double d;
  int hook_calls = 0;
  d.hooks.push_back([&](int in, int out) { ++hook_calls, std::printf("MiniModule hook: %d -> %d\n", in, out); });
  d(21);
  d.forward(21);  // forward alone: no hooks, as in PyTorch
  std::printf("MiniModule: d(21) ran %d hook, d.forward(21) ran none\n", hook_calls);

  // kn::ReLU is a Module that wraps the function kn::relu, as nn.ReLU wraps torch.relu:
  // the class gives the layer a name, hooks and a place in a model; the function does the maths.
  kn::Tensor x = kn::Tensor::from_vector<float>({-2.0f, -0.5f, 0.0f, 1.5f});
  kn::ReLU relu_layer;
  const auto via_module = relu_layer(x).to_vector<float>();
  const auto via_function = kn::relu(x).to_vector<float>();
  std::printf("kn::ReLU()(x) = [%g, %g, %g, %g], same as kn::relu(x): %s\n", via_module[0], via_module[1],
              via_module[2], via_module[3], via_module == via_function ? "yes" : "no");

  // The real thing: model(x) runs the hooks, model.forward(x) does not.
  kn::manual_seed(0);
  kn::Linear fc(4, 2);
  int fired = 0;
  auto handle = fc.register_forward_hook([&](kn::Module& m, const kn::Tensor&, const kn::Tensor& y) {
    ++fired;
    std::printf("forward hook on %s: output %s\n", m.describe().c_str(), y.shape().str().c_str());
  });
  kn::Tensor batch = kn::Tensor::ones({3, 4});
  fc(batch);
  fc.forward(batch);
  handle.remove();
  fc(batch);
  std::printf("kn::Linear: fc(x) twice and fc.forward(x) once ran the hook %d time (it was removed after the first)\n",
              fired);
  return third == 3 && add5(10) == 15 && hook_calls == 1 && fired == 1 && via_module == via_function ? 0 : 1;
}
