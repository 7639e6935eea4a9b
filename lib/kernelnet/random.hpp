// The global random generators: kn::manual_seed(s) seeds both. Layers draw their
// initial weights from the first; dropout draws its masks from the second.
//
// The first reproduces PyTorch's CPU generator for uniform_: an MT19937 seeded with the
// seed, each float32 drawn as (next 32-bit output & (2^24 - 1)) * 2^-24, scaled to
// [from, to) in float. So kn::manual_seed(1) followed by the same layers gives the
// same initial weights as torch.manual_seed(1) (tests/test_fixture.cpp checks this
// against a PyTorch fixture).
//
// Dropout's generator is Philox4x32-10 (<kernelnet/philox.hpp>), which has no state but
// a (seed, offset) pair: manual_seed(s) sets the seed to s and the offset to 0, and each
// dropout call that draws a mask (training, 0 < p < 1, a non-empty input) uses the
// current offset and adds one to it. So the masks after manual_seed(s) are the same on
// every run and on every device (a CUDA tensor gets the mask a CPU tensor would), and
// no two calls share one. kn::philox_state() reads the pair, kn::set_philox_state()
// puts one back (to replay a call's mask). Like the MT19937, it is per thread.
#pragma once
#include <cstdint>
#include <random>

#include <kernelnet/philox.hpp>
#include <kernelnet/tensor.hpp>

namespace kn {

// Dropout's generator: the Philox key (the seed) and the counter's high half (the
// offset, one per dropout call).
struct PhiloxState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

namespace detail {
inline constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's default seed
inline std::mt19937& generator() {
  static thread_local std::mt19937 gen(kDefaultSeed & 0xffffffffULL);
  return gen;
}
inline PhiloxState& philox() {
  static thread_local PhiloxState state{kDefaultSeed, 0};
  return state;
}
// The state a dropout call uses; the next call gets the following offset.
inline PhiloxState take_philox_offset() {
  PhiloxState& s = philox();
  const PhiloxState now = s;
  ++s.offset;
  return now;
}
}  // namespace detail

inline void manual_seed(uint64_t seed) {
  detail::generator().seed(uint32_t(seed & 0xffffffffULL));
  detail::philox() = {seed, 0};
}

// Dropout's (seed, offset): the next dropout call draws its mask from this pair.
inline PhiloxState philox_state() { return detail::philox(); }
inline void set_philox_state(PhiloxState state) { detail::philox() = state; }

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
