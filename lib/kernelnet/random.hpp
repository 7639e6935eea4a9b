// The global random generator: kn::manual_seed(s) seeds it, layers draw their
// initial weights from it.
//
// It reproduces PyTorch's CPU generator for uniform_: an MT19937 seeded with the
// seed, each float32 drawn as (next 32-bit output & (2^24 - 1)) * 2^-24, scaled to
// [from, to) in float. So kn::manual_seed(1) followed by the same layers gives the
// same initial weights as torch.manual_seed(1) (tests/test_fixture.cpp checks this
// against a PyTorch fixture).
#pragma once
#include <cstdint>
#include <random>

#include <kernelnet/tensor.hpp>

namespace kn {

namespace detail {
inline std::mt19937& generator() {
  static thread_local std::mt19937 gen(67280421310721ULL & 0xffffffffULL);  // PyTorch's default seed
  return gen;
}
}  // namespace detail

inline void manual_seed(uint64_t seed) { detail::generator().seed(uint32_t(seed & 0xffffffffULL)); }

// One float in [from, to), as at::uniform_real_distribution<float> makes it.
inline float uniform_float(std::mt19937& gen, float from, float to) {
  const uint32_t bits = gen() & ((1u << 24) - 1);
  const float x = float(bits) * (1.0f / float(1u << 24));
  return x * (to - from) + from;
}

// Fills a CPU float tensor from the global generator, element by element in order.
inline void uniform_(Tensor& t, double from, double to) {
  KN_CHECK(t.device().is_cpu() && t.dtype() == Dtype::Float32, "uniform_: needs a CPU float32 tensor, got ", t.str());
  float* p = t.data<float>();
  const float f = float(from), u = float(to);
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = uniform_float(detail::generator(), f, u);
}

// A CPU tensor of uniform values in [from, to).
inline Tensor rand(const Shape& shape, double from = 0.0, double to = 1.0) {
  Tensor t = Tensor::empty(shape);
  uniform_(t, from, to);
  return t;
}

}  // namespace kn
