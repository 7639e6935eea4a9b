// A whole training run of a small MLP in one call on the CPU: the twin of the fused GPU
// kernel (support/fused_mlp.hpp, kernels/fused_mlp.cu), for kn-iris --device cpu --mode fused.
//
// The model is the lesson's: logits = relu(X W1^T + b1) W2^T + b2, mean softmax
// cross-entropy, full-batch SGD (p += -lr * grad, as PyTorch). One pass per epoch runs the
// forward, the loss, the backward and the update, on buffers allocated once before epoch 1:
// no allocation, no autograd graph, no dispatch inside the epoch loop.
//
// Layout: the batch rows are the SIMD lanes. Every activation is stored transposed,
// feature-major, with the rows contiguous and padded to a multiple of 16 (kFusedCpuLanes):
//   XT [in'][R]  the data, X^T        HT [hidden'][R]  relu(X W1^T + b1)^T
//   P  [classes][R]  the logits, then exp(logits - max), then dlogits
//   DH [hidden'][R]  dloss/dH^T (masked by H > 0)
// with R = rows rounded up to 16, in' and hidden' = in and hidden rounded up to 4 (the
// register tiles below). A block of 16 rows is one `float __attribute__((vector_size(64)))`
// value (GCC's and Clang's vector extensions): one AVX-512 register here, two AVX2 or four
// SSE registers elsewhere, the same code. So every inner loop is "16 rows at once, one
// weight broadcast": the forward and dH are tiles of 4 outputs x 16 rows accumulated over
// the features, the weight gradients tiles of 4 (or 5, with the bias) outputs accumulated
// over the row blocks and summed across their 16 lanes at the end. Row-major [rows, features]
// would put the features (4, 10, 3 on Iris) in the lanes: short, odd-length vectors.
//
// The padding contributes nothing: padded features are zero rows of XT with zero weights
// (their gradients are sums of products with zeros, so the weights stay zero); padded rows
// (R - rows of them) have zero data and are masked out of the loss and of dlogits, so of
// every gradient. Classes are not padded: a padded logit would enter the softmax.
//
// The maths is the CPU backend's (kn::cpu, lib/kernelnet/ops/softmax_ce.hpp): the row max,
// Eigen's vectorised exp over the whole P block and log over the row sums, the row loss
// lse + max - logit[label], dlogits = exp * (1/rows / sum) - onehot/rows, the row losses
// summed in double (16 partial sums, one per lane, added in a fixed order at the end),
// p += (-lr) * g. The order of the sums over features and rows differs from Eigen's GEMMs,
// so results agree with eager mode to rounding (docs/fast-training.md gives the measured
// differences), not bit for bit. The compiler may contract the update into a fused
// multiply-add where the target has one (GCC's default for C++), as it may Eigen's.
//
// Limits (fused_mlp_cpu_supported() checks them and says which one fails): the GPU
// kernel's (one hidden layer; classes <= 64; rows, in, hidden, classes each in
// [1, 65536]) and a working set, fused_mlp_cpu_bytes(), of at most kFusedCpuMaxBytes
// (8 MiB): the epoch walks every buffer several times, which pays only while they stay in
// the caches; past that, eager mode's blocked GEMMs use the caches better. Iris' 4-10-3 on
// 120 rows needs about 17 KiB.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include <kernelnet/kernelnet.hpp>

namespace kn::cpu {

constexpr int kFusedCpuMaxClasses = 64;
constexpr int kFusedCpuMaxDim = 65536;
constexpr std::size_t kFusedCpuMaxBytes = std::size_t(8) << 20;
// Rows per block: one vector register of floats, the widest the build targets (16 with
// AVX-512, 8 with AVX, 4 otherwise: SSE, NEON). A wider vector type than the registers
// compiles too, but GCC then moves the pieces of a tile's accumulators through memory:
// 16-float blocks ran 10x slower on AVX2 than 8-float ones.
#if defined(__AVX512F__)
#define KN_FUSED_LANES 16
#elif defined(__AVX__)
#define KN_FUSED_LANES 8
#else
#define KN_FUSED_LANES 4
#endif
constexpr int kFusedCpuLanes = KN_FUSED_LANES;

namespace fused_detail {

typedef float vf __attribute__((vector_size(4 * KN_FUSED_LANES)));    // a block: one feature of kFusedCpuLanes rows
typedef int32_t vi __attribute__((vector_size(4 * KN_FUSED_LANES)));  // labels, or a lane mask (-1 / 0)
typedef double vd __attribute__((vector_size(8 * KN_FUSED_LANES)));   // a block's row losses in double
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf4 __attribute__((vector_size(16)));

#if defined(__GNUC__)
#define KN_FUSED_INLINE inline __attribute__((always_inline))
#define KN_FUSED_NOINLINE inline __attribute__((noinline))
#else
#define KN_FUSED_INLINE inline
#define KN_FUSED_NOINLINE inline
#endif

inline std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }

// The buffers' sizes, in 16-float blocks (vf), in the order train() carves them.
struct Sizes {
  std::size_t nb, in, hidden, classes;  // row blocks, and the model's sizes
  std::size_t xa() const { return (in + 1) * nb; }      // [X | 1]^T
  std::size_t ha() const { return (hidden + 1) * nb; }  // [H | 1]^T
  std::size_t dh() const { return hidden * nb; }
  std::size_t p() const { return classes * nb; }
  std::size_t rowv() const { return 3 * nb; }              // row max, row sum (then its log), the label's logit
  std::size_t masks() const { return (classes + 2) * nb; }  // one-hot [classes], keep, poison
  std::size_t weights() const {                            // [W1 | b1] [hidden, in+1], [W2 | b2] [classes, hidden+1]
    return (hidden * (in + 1) + classes * (hidden + 1) + kFusedCpuLanes - 1) / kFusedCpuLanes;
  }
  std::size_t blocks() const { return xa() + ha() + dh() + p() + rowv() + masks() + weights(); }
};

inline Sizes sizes(int rows, int in, int hidden, int classes) {
  return Sizes{round_up(std::size_t(rows), kFusedCpuLanes) / kFusedCpuLanes, std::size_t(in), std::size_t(hidden),
               std::size_t(classes)};
}

// Lane masks and selects as integer bit operations: a float comparison (`a > b`, and the
// vector extensions' `m ? a : b`) is one instruction with AVX-512, but GCC runs it element
// by element where the 64-byte vector is wider than the registers (AVX2, SSE); and, or,
// shifts and the casts (bit copies) are single instructions on every target.
#define KN_FUSED_BITS(v) ((vi)(v))
#define KN_FUSED_NEG(v) (KN_FUSED_BITS(v) >> 31)          // -1 where v's sign bit is set, else 0
#define KN_FUSED_KEEP(m, v) ((vf)(KN_FUSED_BITS(v) & (m)))  // v where m, else +0

// out[t] = the sum of a[t]'s lanes, for t < 4, in a fixed order: halves onto halves (lane
// l + lane l+8, then l + l+4), then (x0 + x2) + (x1 + x3). Four at once, so each step is
// one vector add for two or four sums (a transposing reduction).
KN_FUSED_INLINE void lane_sums(const vf (&a)[4], float* out) {
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#if KN_FUSED_LANES >= 8
#if KN_FUSED_LANES == 16
  vf8 s[4];
  for (int t = 0; t < 4; ++t)
    s[t] = __builtin_shufflevector(a[t], a[t], 0, 1, 2, 3, 4, 5, 6, 7) +
           __builtin_shufflevector(a[t], a[t], 8, 9, 10, 11, 12, 13, 14, 15);
#else
  const vf8(&s)[4] = a;
#endif
  const vf8 u01 = __builtin_shufflevector(s[0], s[1], 0, 1, 2, 3, 8, 9, 10, 11) +
                  __builtin_shufflevector(s[0], s[1], 4, 5, 6, 7, 12, 13, 14, 15);
  const vf8 u23 = __builtin_shufflevector(s[2], s[3], 0, 1, 2, 3, 8, 9, 10, 11) +
                  __builtin_shufflevector(s[2], s[3], 4, 5, 6, 7, 12, 13, 14, 15);
  const vf8 v = __builtin_shufflevector(u01, u23, 0, 1, 4, 5, 8, 9, 12, 13) +
                __builtin_shufflevector(u01, u23, 2, 3, 6, 7, 10, 11, 14, 15);
  const vf4 r = __builtin_shufflevector(v, v, 0, 2, 4, 6) + __builtin_shufflevector(v, v, 1, 3, 5, 7);
#else
  const vf4 p01 = __builtin_shufflevector(a[0], a[1], 0, 1, 4, 5) + __builtin_shufflevector(a[0], a[1], 2, 3, 6, 7);
  const vf4 p23 = __builtin_shufflevector(a[2], a[3], 0, 1, 4, 5) + __builtin_shufflevector(a[2], a[3], 2, 3, 6, 7);
  const vf4 r = __builtin_shufflevector(p01, p23, 0, 2, 4, 6) + __builtin_shufflevector(p01, p23, 1, 3, 5, 7);
#endif
  std::memcpy(out, &r, sizeof r);
#else  // no two-vector shuffle (GCC before 12): the same order, lane by lane
  for (int t = 0; t < 4; ++t) {
    float x[KN_FUSED_LANES];
    std::memcpy(x, &a[t], sizeof x);
    for (int w = KN_FUSED_LANES / 2; w >= 4; w /= 2)
      for (int l = 0; l < w; ++l) x[l] += x[l + w];
    out[t] = (x[0] + x[2]) + (x[1] + x[3]);
  }
#endif
}

template <int N>
using Width = std::integral_constant<int, N>;

// f(Width<w>{}, i) for i = 0, 4, 8, ... over [0, n) in tiles of 4 and a last one of 1..3:
// tile widths known at compile time, so a tile's accumulators live in registers.
template <typename F>
KN_FUSED_INLINE void tiles(int n, F&& f) {
  int i = 0;
  for (; i + 4 <= n; i += 4) f(Width<4>{}, i);
  switch (n - i) {
    case 3: f(Width<3>{}, i); break;
    case 2: f(Width<2>{}, i); break;
    case 1: f(Width<1>{}, i); break;
    default: break;
  }
}

// w[o] += nlr * (the sum over rows of d[r] * A[o][r]) for o < n: the weight gradient of
// one output row (a class of W2a, a hidden unit of W1a) from its dlogits / dH row d [nb]
// and the activations A [n][nb] (Ha or Xa, whose last row of ones gives the bias).
// Tiles of 4 weights accumulate over the row blocks, then across the lanes at once.
KN_FUSED_INLINE void weight_row(float* w, const vf* d, const vf* A, int n, std::size_t nb, float nlr) {
  tiles(n, [&](auto width, int o) {
    constexpr int T = decltype(width)::value;
    vf a[4] = {};
    for (std::size_t b = 0; b < nb; ++b) {
      const vf db = d[b];
      for (int t = 0; t < T; ++t) a[t] += db * A[std::size_t(o + t) * nb + b];
    }
    float g[4];
    lane_sums(a, g);  // the lanes of a tile narrower than 4 add zeros: the same sums
    for (int t = 0; t < T; ++t) w[o + t] += nlr * g[t];
  });
}

}  // namespace fused_detail

// The bytes train() allocates for a model: the working set of an epoch.
inline std::size_t fused_mlp_cpu_bytes(int rows, int in, int hidden, int classes) {
  return fused_detail::sizes(rows, in, hidden, classes).blocks() * sizeof(fused_detail::vf);
}

// True when fused_mlp_cpu_train() can run this model; otherwise false, with the reason in
// *why (when why is not null).
inline bool fused_mlp_cpu_supported(int rows, int in, int hidden, int classes, std::string* why) {
  auto no = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  const auto dim_ok = [](int v) { return v >= 1 && v <= kFusedCpuMaxDim; };
  if (!dim_ok(rows) || !dim_ok(in) || !dim_ok(hidden) || !dim_ok(classes))
    return no(str("the fused CPU loop needs rows, in, hidden and classes in [1, ", kFusedCpuMaxDim, "], got ", rows,
                  ", ", in, ", ", hidden, ", ", classes));
  if (classes > kFusedCpuMaxClasses)
    return no(str("the fused CPU loop handles at most ", kFusedCpuMaxClasses, " classes, the model has ", classes));
  const std::size_t need = fused_mlp_cpu_bytes(rows, in, hidden, classes);
  if (need > kFusedCpuMaxBytes)
    return no(str("a ", in, "-", hidden, "-", classes, " MLP on ", rows, " rows needs ", need,
                  " bytes of working set (data, weights and activations), the fused CPU loop takes at most ",
                  kFusedCpuMaxBytes, " (it pays only while they stay in cache)"));
  if (why) why->clear();
  return true;
}

// Trains in place for `epochs` epochs, on the calling thread: losses[e] is the mean loss of
// epoch e + 1 before its update (what loss.item() returns in the eager loop). Host
// pointers: losses [epochs] (every element written); W1 [hidden, in], b1 [hidden],
// W2 [classes, hidden], b2 [classes] (updated); X [rows, in]; labels [rows] (a label
// outside [0, classes) makes the losses NaN, and the weights with them). Throws kn::Error
// when !fused_mlp_cpu_supported() or epochs < 0.
// Never inlined: inside a large caller (kn::iris::train) the epoch loop's registers were
// allocated worse, and it ran 1.5-2x slower.
KN_FUSED_NOINLINE void fused_mlp_cpu_train(float* losses, float* W1, float* b1, float* W2, float* b2, const float* X,
                                     const int64_t* labels, int rows, int in, int hidden, int classes, int epochs,
                                     float lr) {
  using namespace fused_detail;
  constexpr int L = kFusedCpuLanes;
  KN_CHECK(epochs >= 0, "kn::cpu::fused_mlp_cpu_train: epochs must be >= 0, got ", epochs);
  if (epochs == 0) return;
  std::string why;
  KN_CHECK(fused_mlp_cpu_supported(rows, in, hidden, classes, &why), "kn::cpu::fused_mlp_cpu_train: ", why);

  const Sizes sz = sizes(rows, in, hidden, classes);
  const std::size_t nb = sz.nb;
  const int in1 = in + 1, h1 = hidden + 1, C = classes;
  // Everything, once: 64-byte aligned blocks (C++17's aligned new), zeroed.
  std::vector<vf> store(sz.blocks(), vf{});
  vf* const XA = store.data();  // [in+1][nb]      [X | 1]^T
  vf* const HA = XA + sz.xa();  // [hidden+1][nb]  [relu(.) | 1]^T
  vf* const DH = HA + sz.ha();  // [hidden][nb]
  vf* const P = DH + sz.dh();   // [C][nb]         logits, exp(logits - max), dlogits
  vf* const M = P + sz.p();     // [nb] row max
  vf* const S = M + nb;         // [nb] row sum, then its log
  vf* const ZL = S + nb;        // [nb] the logit of the row's label
  vi* const OH = reinterpret_cast<vi*>(ZL + nb);  // [C][nb] -1 where the row's label is c
  vi* const KEEP = OH + std::size_t(C) * nb;      // [nb] -1 for a real row with a valid label
  vi* const POISON = KEEP + nb;                   // [nb] NaN's bits for a row with an invalid label
  float* const W1a = reinterpret_cast<float*>(POISON + nb);  // [hidden][in+1]  [W1 | b1]
  float* const W2a = W1a + std::size_t(hidden) * in1;        // [C][hidden+1]    [W2 | b2]

  {
    float* xa = reinterpret_cast<float*>(XA);
    int32_t* oh = reinterpret_cast<int32_t*>(OH);
    int32_t* keep = reinterpret_cast<int32_t*>(KEEP);
    float* poison = reinterpret_cast<float*>(POISON);
    // The columns of ones, on every lane: a padding row's activations are harmless, as
    // its dlogits are zero.
    for (std::size_t b = 0; b < nb; ++b) {
      XA[std::size_t(in) * nb + b] = vf{} + 1.0f;
      HA[std::size_t(hidden) * nb + b] = vf{} + 1.0f;
    }
    for (int r = 0; r < rows; ++r) {  // padding rows: no label, not kept, not poisoned
      for (int k = 0; k < in; ++k) xa[std::size_t(k) * nb * L + r] = X[std::size_t(r) * in + k];
      const int64_t l = labels[r];
      const bool valid = l >= 0 && l < classes;
      if (valid) oh[std::size_t(l) * nb * L + r] = -1;
      keep[r] = valid ? -1 : 0;
      poison[r] = valid ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    }
  }
  for (int j = 0; j < hidden; ++j) {
    for (int k = 0; k < in; ++k) W1a[std::size_t(j) * in1 + k] = W1[std::size_t(j) * in + k];
    W1a[std::size_t(j) * in1 + in] = b1[j];
  }
  for (int c = 0; c < C; ++c) {
    for (int j = 0; j < hidden; ++j) W2a[std::size_t(c) * h1 + j] = W2[std::size_t(c) * hidden + j];
    W2a[std::size_t(c) * h1 + hidden] = b2[c];
  }

  const float inv_rows = 1.0f / float(rows);
  const float nlr = -lr;
  const vf zero{};
  const vf vinv = zero + inv_rows;
  Eigen::Map<Eigen::ArrayXf> p_all(reinterpret_cast<float*>(P), Eigen::Index(std::size_t(C) * nb * L));
  Eigen::Map<Eigen::ArrayXf> s_all(reinterpret_cast<float*>(S), Eigen::Index(nb * L));

  for (int epoch = 0; epoch < epochs; ++epoch) {
    // 1. H = relu([W1 | b1] Xa): tiles of up to 4 hidden units x 16 rows, over the inputs
    // and last the bias (as the CPU backend's Linear adds it after the product).
    for (std::size_t b = 0; b < nb; ++b)
      tiles(hidden, [&](auto width, int j) {
        constexpr int T = decltype(width)::value;
        const float* w = W1a + std::size_t(j) * in1;
        vf a[T];
        for (int t = 0; t < T; ++t) a[t] = zero;
        for (int k = 0; k < in1; ++k) {
          const vf x = XA[std::size_t(k) * nb + b];
          for (int t = 0; t < T; ++t) a[t] += w[t * in1 + k] * x;
        }
        for (int t = 0; t < T; ++t) HA[std::size_t(j + t) * nb + b] = KN_FUSED_KEEP(~KN_FUSED_NEG(a[t]), a[t]);
      });

    // 2. The logits [W2 | b2] Ha, tiles of up to 4 classes; per row the max, the label's
    // logit, then logits - max (<= 0: exp cannot overflow), in P.
    for (std::size_t b = 0; b < nb; ++b) {
      tiles(C, [&](auto width, int c) {
        constexpr int T = decltype(width)::value;
        const float* w = W2a + std::size_t(c) * h1;
        vf a[T];
        for (int t = 0; t < T; ++t) a[t] = zero;
        for (int j = 0; j < h1; ++j) {
          const vf h = HA[std::size_t(j) * nb + b];
          for (int t = 0; t < T; ++t) a[t] += w[t * h1 + j] * h;
        }
        for (int t = 0; t < T; ++t) P[std::size_t(c + t) * nb + b] = a[t];
      });
      vf m = P[b];
      vi zl{};
      for (int c = 1; c < C; ++c) {  // max(m, z): z where z - m >= +0
        const vf z = P[std::size_t(c) * nb + b];
        const vi below = KN_FUSED_NEG(z - m);
        m = (vf)((KN_FUSED_BITS(m) & below) | (KN_FUSED_BITS(z) & ~below));
      }
      for (int c = 0; c < C; ++c) {
        vf& z = P[std::size_t(c) * nb + b];
        zl |= KN_FUSED_BITS(z) & OH[std::size_t(c) * nb + b];
        z -= m;
      }
      M[b] = m;
      ZL[b] = (vf)zl;
    }
    p_all = p_all.exp();
    for (std::size_t b = 0; b < nb; ++b) {
      vf s = P[b];
      for (int c = 1; c < C; ++c) s += P[std::size_t(c) * nb + b];
      S[b] = s;
    }

    // 3. dlogits = exp * (1/rows / sum) - onehot/rows, in place in P; zero on padding
    // rows, NaN on a row with an invalid label. Then the loss: the row losses
    // lse + max - logit[label], summed in double lane by lane, the lanes in a fixed order.
    for (std::size_t b = 0; b < nb; ++b) {
      const vf scale = vinv / S[b];
      const vi keep = KEEP[b], poison = POISON[b];
      for (int c = 0; c < C; ++c) {
        vf& d = P[std::size_t(c) * nb + b];
        const vf e = d * scale;
        d = (vf)((KN_FUSED_BITS(e - KN_FUSED_KEEP(OH[std::size_t(c) * nb + b], vinv)) & keep) | poison);
      }
    }
    s_all = s_all.log();
    {
      vd total{};
      for (std::size_t b = 0; b < nb; ++b) {
        const vf row = (S[b] + M[b]) - ZL[b];
        total += __builtin_convertvector((vf)((KN_FUSED_BITS(row) & KEEP[b]) | POISON[b]), vd);
      }
      double t[L];
      for (int l = 0; l < L; ++l) t[l] = total[l];
      for (int w = L / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; ++l) t[l] += t[l + w];
      losses[epoch] = float(t[0] / rows);
    }

    // 4. dH = (W2^T dlogits) masked by H > 0, with W2 before its update: tiles of up to 4
    // hidden units x 16 rows, over the classes.
    for (std::size_t b = 0; b < nb; ++b)
      tiles(hidden, [&](auto width, int j) {
        constexpr int T = decltype(width)::value;
        vf a[T];
        for (int t = 0; t < T; ++t) a[t] = zero;
        for (int c = 0; c < C; ++c) {
          const float* w = W2a + std::size_t(c) * h1 + j;
          const vf p = P[std::size_t(c) * nb + b];
          for (int t = 0; t < T; ++t) a[t] += w[t] * p;
        }
        for (int t = 0; t < T; ++t)  // H > 0: H's bits, an int >= 0, negated are < 0
          DH[std::size_t(j + t) * nb + b] = KN_FUSED_KEEP((-KN_FUSED_BITS(HA[std::size_t(j + t) * nb + b])) >> 31, a[t]);
      });

    // 5. [W2 | b2] += -lr * dlogits Ha^T, then [W1 | b1] += -lr * dH Xa^T.
    for (int c = 0; c < C; ++c) weight_row(W2a + std::size_t(c) * h1, P + std::size_t(c) * nb, HA, h1, nb, nlr);
    for (int j = 0; j < hidden; ++j) weight_row(W1a + std::size_t(j) * in1, DH + std::size_t(j) * nb, XA, in1, nb, nlr);
  }

  for (int j = 0; j < hidden; ++j) {
    for (int k = 0; k < in; ++k) W1[std::size_t(j) * in + k] = W1a[std::size_t(j) * in1 + k];
    b1[j] = W1a[std::size_t(j) * in1 + in];
  }
  for (int c = 0; c < C; ++c) {
    for (int j = 0; j < hidden; ++j) W2[std::size_t(c) * hidden + j] = W2a[std::size_t(c) * h1 + j];
    b2[c] = W2a[std::size_t(c) * h1 + hidden];
  }
}

#undef KN_FUSED_KEEP
#undef KN_FUSED_NEG
#undef KN_FUSED_BITS
#undef KN_FUSED_INLINE
#undef KN_FUSED_NOINLINE
#undef KN_FUSED_LANES

}  // namespace kn::cpu
