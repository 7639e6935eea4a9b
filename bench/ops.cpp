// One kernelnet op at one size, runnable on either backend: what `compute` times at each
// size and what `iris` adds up into the compute part of an epoch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <kernelnet/ops.hpp>
#include <kernelnet/tensor.hpp>

#include "bench.hpp"

namespace kn::bench {

namespace {
enum class Kind {
  Gemm, BiasAdd, BiasGrad, ReluForward, ReluBackward, SoftmaxCeForward, SoftmaxCeBackward, SgdStep, Fill
};

Kind kind_of(const std::string& name) {
  static const std::pair<const char*, Kind> kinds[] = {
      {"gemm", Kind::Gemm},
      {"bias_add", Kind::BiasAdd},
      {"bias_grad", Kind::BiasGrad},
      {"relu_forward", Kind::ReluForward},
      {"relu_backward", Kind::ReluBackward},
      {"softmax_ce_forward", Kind::SoftmaxCeForward},
      {"softmax_ce_backward", Kind::SoftmaxCeBackward},
      {"sgd_step", Kind::SgdStep},
      {"fill", Kind::Fill}};
  for (auto& [n, k] : kinds)
    if (name == n) return k;
  throw Error(str("kn-bench: no benchmark for op '", name, "'"));
}

// Random values away from zero, so no op can take a shortcut on zeros (and a NaN from a
// bug cannot hide in a sea of them). xorshift: filling a gigabyte with std::mt19937 and a
// distribution would take longer than the benchmark.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t next() {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  }
  float nonzero() {  // in [-1, -0.1] or [0.1, 1]
    const uint64_t r = next();
    const float mag = 0.1f + 0.9f * float(r >> 40) * (1.0f / float(1 << 24));
    return (r & 1) ? mag : -mag;
  }
};

Tensor random_floats(int64_t n, Device device, Rng& rng) {
  Tensor t = Tensor::empty({n});
  float* p = t.data<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = rng.nonzero();
  return t.to(device);
}

Tensor random_labels(int64_t n, int64_t classes, Device device, Rng& rng) {
  Tensor t = Tensor::empty({n}, Dtype::Int64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = int64_t(rng.next() % uint64_t(classes));
  return t.to(device);
}
}  // namespace

std::string OpSpec::sizes() const {
  std::string s;
  for (int64_t v : {a, b, c})
    if (v >= 0) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

std::string OpSpec::label() const {
  if (name != "gemm") return name + " " + sizes();
  return name + " " + sizes() + " (" + (transA == Transpose::Yes ? "A^T" : "A") + "·" + (transB == Transpose::Yes ? "B^T" : "B") + ")";
}

double OpSpec::flops() const {
  switch (kind_of(name)) {
    case Kind::Gemm: return 2.0 * double(a) * double(b) * double(c);
    default: return 0;
  }
}

double OpSpec::bytes() const {
  const double f = 4;  // float32
  switch (kind_of(name)) {
    case Kind::Gemm: return f * (double(a) * c + double(c) * b + double(a) * b);  // A, B read; C written
    case Kind::BiasAdd: return f * (2.0 * a * b + b);                             // y read and written, b read
    case Kind::BiasGrad: return f * (double(a) * b + b);                          // dy read, db written
    case Kind::ReluForward: return f * 2.0 * a;                                   // x read, y written
    case Kind::ReluBackward: return f * 3.0 * a;                                  // dy, y read; dx written
    case Kind::SoftmaxCeForward: return f * 2.0 * a * b + 8.0 * a + f;            // logits, labels; dlogits, loss
    case Kind::SoftmaxCeBackward: return f * 2.0 * a + f;                         // dlogits, dloss; dx
    case Kind::SgdStep: {
      double n = 0;
      for (int64_t t : tensors) n += double(t);
      return f * 3.0 * n;  // p read and written, g read
    }
    case Kind::Fill: return f * a;
  }
  return 0;
}

std::vector<OpSpec> iris_epoch_ops(int64_t R, int64_t I, int64_t H, int64_t C) {
  // Sizes as kernelnet's ops take them: gemm M x N x K for C[M,N] = op(A)[M,K] op(B)[K,N].
  auto gemm = [](int64_t M, int64_t N, int64_t K, Transpose tA, Transpose tB) {
    OpSpec o("gemm", M, N, K);
    o.transA = tA, o.transB = tB;
    return o;
  };
  OpSpec sgd("sgd_step", 4);
  sgd.tensors = {H * I, H, C * H, C};  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
  return {
      // forward: outputs = model(X); loss = criterion(outputs, y)
      gemm(R, H, I, Transpose::No, Transpose::Yes),          // fc1: X W1^T
      {"bias_add", R, H},              //      + b1
      {"relu_forward", R * H},     // relu
      gemm(R, C, H, Transpose::No, Transpose::Yes),          // fc2: h W2^T
      {"bias_add", R, C},              //      + b2
      {"softmax_ce_forward", R, C},    // loss, and dlogits for the backward
      // loss.backward()
      {"fill", 1},                 // the seed: d loss / d loss = 1
      {"softmax_ce_backward", R * C},
      gemm(R, H, C, Transpose::No, Transpose::No),         // fc2: dh = dy W2
      gemm(C, H, R, Transpose::Yes, Transpose::No),          //      dW2 = dy^T h
      {"bias_grad", R, C},             //      db2
      {"relu_backward", R * H},
      gemm(H, I, R, Transpose::Yes, Transpose::No),          // fc1: dW1 = dz^T X (X needs no gradient)
      {"bias_grad", R, H},             //      db1
      // optimizer.step()
      sgd,
  };
}

int slots_for(double op_bytes, double cache_bytes, int reps) {
  const double needed = std::ceil(2.0 * cache_bytes / std::max(op_bytes, 1.0));
  return int(std::clamp(needed, 1.0, double(std::max(reps, 1))));
}

// ---- OpRun ------------------------------------------------------------------------

struct OpRun::Impl {
  OpSpec op;
  Kind kind;
  Device device;
  int slots;
  std::vector<Tensor> operands;  // each holds `slots` copies, back to back
  std::vector<int64_t> elems;    // elements of one copy of each operand
  std::vector<std::vector<float*>> sgd_params;  // sgd_step: pointer tables per slot
  std::vector<std::vector<const float*>> sgd_grads;

  float* f(int k, int slot) const { return operands[k].data<float>() + slot * elems[k]; }
};

OpRun::OpRun(const OpSpec& op, Device device, int slots)
    : impl_(new Impl{op, kind_of(op.name), device, slots, {}, {}, {}, {}}) {
  KN_CHECK(slots >= 1, "OpRun: slots must be >= 1");
  Impl& m = *impl_;
  Rng rng;
  auto floats = [&](int64_t n) {
    m.elems.push_back(n);
    m.operands.push_back(random_floats(n * slots, device, rng));
  };
  const int64_t a = op.a, b = op.b, c = op.c;
  switch (m.kind) {
    case Kind::Gemm: floats(a * b), floats(a * c), floats(c * b); break;  // C[M,N], A, B
    case Kind::BiasAdd: floats(a * b), floats(b); break;                  // y, b
    case Kind::BiasGrad: floats(b), floats(a * b); break;                 // db, dy
    case Kind::ReluForward: floats(a), floats(a); break;                  // y, x
    case Kind::ReluBackward: floats(a), floats(a), floats(a); break;      // dx, dy, y
    case Kind::SoftmaxCeForward:                                          // loss, dlogits, logits, labels
      floats(1), floats(a * b), floats(a * b);
      m.elems.push_back(a);
      m.operands.push_back(random_labels(a * slots, b, device, rng));
      break;
    case Kind::SoftmaxCeBackward: floats(a), floats(a), floats(1); break;  // dx, dlogits, dloss
    case Kind::SgdStep:
      for (int64_t n : op.tensors) floats(n), floats(n);  // p0, g0, p1, g1, ...
      m.sgd_params.resize(slots);
      m.sgd_grads.resize(slots);
      for (int s = 0; s < slots; ++s)
        for (size_t t = 0; t < op.tensors.size(); ++t) {
          m.sgd_params[s].push_back(m.f(int(2 * t), s));
          m.sgd_grads[s].push_back(m.f(int(2 * t + 1), s));
        }
      break;
    case Kind::Fill: floats(a); break;
  }
}

OpRun::~OpRun() = default;

void OpRun::call(int64_t i) {
  const Impl& m = *impl_;
  const int s = int(i % m.slots);
  const Device d = m.device;
  const OpSpec& o = m.op;
  switch (m.kind) {
    case Kind::Gemm:
      ops::gemm(d, m.f(0, s), m.f(1, s), m.f(2, s), int(o.a), int(o.b), int(o.c), o.transA, o.transB, 1.0f, 0.0f);
      break;
    case Kind::BiasAdd: ops::bias_add(d, m.f(0, s), m.f(1, s), int(o.a), int(o.b)); break;
    case Kind::BiasGrad: ops::bias_grad(d, m.f(0, s), m.f(1, s), int(o.a), int(o.b), 0.0f); break;
    case Kind::ReluForward: ops::relu_forward(d, m.f(0, s), m.f(1, s), o.a); break;
    case Kind::ReluBackward: ops::relu_backward(d, m.f(0, s), m.f(1, s), m.f(2, s), o.a, 0.0f); break;
    case Kind::SoftmaxCeForward:
      ops::softmax_ce_forward(d, m.f(0, s), m.f(1, s), m.f(2, s), m.operands[3].data<int64_t>() + s * m.elems[3],
                              int(o.a), int(o.b));
      break;
    case Kind::SoftmaxCeBackward: ops::softmax_ce_backward(d, m.f(0, s), m.f(1, s), m.f(2, s), o.a, 0.0f); break;
    case Kind::SgdStep:
      ops::sgd_step(d, m.sgd_params[s].data(), m.sgd_grads[s].data(), o.tensors.data(), int(o.tensors.size()), 0.01f);
      break;
    case Kind::Fill: ops::fill(d, m.f(0, s), 1.0f, o.a); break;
  }
}

}  // namespace kn::bench
