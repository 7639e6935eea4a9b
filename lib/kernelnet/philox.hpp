// Philox4x32-10, the counter-based random generator of Salmon et al., "Parallel Random
// Numbers: As Easy as 1, 2, 3" (SC 2011), with the constants of Random123, cuRAND and
// PyTorch's CUDA generator. A 128-bit counter and a 64-bit key give 128 random bits, with
// no state: any element's random number is computed where it is needed, in any order, by
// any thread. Dropout draws its mask from it (<kernelnet/ops/dropout.hpp>), the same on
// the CPU and on CUDA.
//
// Plain C++ constexpr, so that the CPU and the kernels compile the same code: nvcc runs
// constexpr functions on the device (kernels/ is built with --expt-relaxed-constexpr),
// and no CUDA syntax enters lib/. tests/test_dropout_mse.cpp checks it against
// Random123's known-answer vectors (kat_vectors).
//
// One round, with the 32x32 -> 64-bit products hi/lo:
//   (hi0, lo0) = M0 * c0;  (hi1, lo1) = M1 * c2
//   c = {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}
// and the key is bumped by (W0, W1) between rounds: ten rounds, nine bumps.
//
// What dropout takes from it: element i of a call with (seed, offset) reads output word
// i % 4 of
//   philox4x32_10(counter = {lo(i / 4), hi(i / 4), lo(offset), hi(offset)},
//                 key     = {lo(seed), hi(seed)})
// where lo/hi are the low and high 32 bits. So one Philox call serves four neighbouring
// elements, and each dropout call (one offset, <kernelnet/random.hpp>) has its own
// stream of 2^66 words.
#pragma once
#include <cstdint>

namespace kn {

struct PhiloxCounter {
  uint32_t c0, c1, c2, c3;
};
struct PhiloxKey {
  uint32_t k0, k1;
};

namespace detail {

inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u;  // the round multipliers
inline constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // the key bumps (golden ratio, sqrt(3) - 1)
inline constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

constexpr PhiloxCounter philox_round(PhiloxCounter c, PhiloxKey k) {
  const uint64_t p0 = uint64_t(kPhiloxM0) * c.c0;
  const uint64_t p1 = uint64_t(kPhiloxM1) * c.c2;
  return {uint32_t(p1 >> 32) ^ c.c1 ^ k.k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c.c3 ^ k.k1, uint32_t(p0)};
}

}  // namespace detail

// Philox4x32 with ten rounds: 128 random bits for (counter, key).
constexpr PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  counter = detail::philox_round(counter, key);
  for (int r = 1; r < 10; ++r) {
    key = {key.k0 + detail::kPhiloxW0, key.k1 + detail::kPhiloxW1};
    counter = detail::philox_round(counter, key);
  }
  return counter;
}

// The four words for elements 4 * group .. 4 * group + 3 of a call with (seed, offset):
// word j of the result is element 4 * group + j's (the layout above).
constexpr PhiloxCounter philox_group(uint64_t seed, uint64_t offset, uint64_t group) {
  return philox4x32_10({uint32_t(group), uint32_t(group >> 32), uint32_t(offset), uint32_t(offset >> 32)},
                       {uint32_t(seed), uint32_t(seed >> 32)});
}

// Word j (0..3) of four.
constexpr uint32_t philox_word(PhiloxCounter r, int j) { return j == 0 ? r.c0 : j == 1 ? r.c1 : j == 2 ? r.c2 : r.c3; }

// Element i's 32-bit word for (seed, offset).
constexpr uint32_t philox_element(uint64_t seed, uint64_t offset, uint64_t i) {
  return philox_word(philox_group(seed, offset, i / 4), int(i % 4));
}

}  // namespace kn
