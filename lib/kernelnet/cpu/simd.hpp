// The CPU ops' vector registers, where the compiler targets AVX-512 (with VL, as every
// AVX-512 core since Skylake-SP has): KN_CPU_AVX512 is 1 there and 0 elsewhere, where
// each op keeps its portable loop. simd::Lanes<W> is a register of W = 4, 8 or 16 floats
// with the few operations the ops use; a mask of the first n lanes lets a row of any
// n <= W floats be loaded and stored in place, the other lanes neither read nor written.
#pragma once

#if defined(__AVX512F__) && defined(__AVX512VL__) && !defined(__CUDACC__)
#define KN_CPU_AVX512 1
#include <immintrin.h>
#else
#define KN_CPU_AVX512 0
#endif

#if KN_CPU_AVX512
namespace kn::cpu::simd {

template <int W> struct Lanes;
template <> struct Lanes<4> {
  using V = __m128;
  using Mask = __mmask8;
  static Mask mask(int n) { return Mask((1u << n) - 1u); }  // the first n lanes
  static V zero() { return _mm_setzero_ps(); }
  static V set1(float x) { return _mm_set1_ps(x); }
  static V load(Mask m, const float* p) { return _mm_maskz_loadu_ps(m, p); }
  static void store(float* p, Mask m, V v) { _mm_mask_storeu_ps(p, m, v); }
  static void store_all(float* p, V v) { _mm_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static V mul(V a, V b) { return _mm_mul_ps(a, b); }
};
template <> struct Lanes<8> {
  using V = __m256;
  using Mask = __mmask8;
  static Mask mask(int n) { return Mask((1u << n) - 1u); }  // the first n lanes
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(Mask m, const float* p) { return _mm256_maskz_loadu_ps(m, p); }
  static void store(float* p, Mask m, V v) { _mm256_mask_storeu_ps(p, m, v); }
  static void store_all(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};
template <> struct Lanes<16> {
  using V = __m512;
  using Mask = __mmask16;
  static Mask mask(int n) { return Mask((1u << n) - 1u); }  // the first n lanes
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static void store_all(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};

// Calls f(Lanes<W>{}) with the narrowest W that holds n <= 16 floats.
template <typename F>
void narrowest(int n, F&& f) {
  if (n <= 4) f(Lanes<4>{});
  else if (n <= 8) f(Lanes<8>{});
  else f(Lanes<16>{});
}

}  // namespace kn::cpu::simd
#endif
