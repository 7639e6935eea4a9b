// The whole training of a small MLP in one launch: see support/fused_mlp.hpp.
//
// Why one thread block. An Iris epoch is about 10,000 multiply-adds in four dependent
// steps (hidden layer, softmax, the two weight gradients), each needing all of the one
// before it. Inside a block a step boundary is a __syncthreads (tens of nanoseconds) and
// the data stays in the SM's shared memory; across blocks it would be a grid-wide
// barrier (a microsecond or more, about what the whole epoch costs here) with the
// activations going through L2. So the model must fit one SM: that is the limit the host
// function checks. One block also fixes every reduction's order, so a run is bit for bit
// reproducible.
//
// An epoch, between three barriers (Xa = [X | 1], Ha = [relu(.) | 1], W1a = [W1 | b1],
// W2a = [W2 | b2], all in shared memory):
//   1. H = relu(Xa W1a^T)                                  // [rows, in+1] x [hidden, in+1]^T
//   2. per row, G lanes: logits = Ha W2a^T, softmax, the row's loss, dlogits = (p - onehot)
//      / rows, then dH = (dlogits W2) * (H > 0) for that row  // [rows, classes] x [classes, hidden]
//   3. W2a += -lr * dlogits^T Ha, W1a += -lr * dH^T Xa      // gradients over rows, applied at once
//      and one warp adds the row losses (in double) into losses[epoch].
// The same formulas as the CPU backend (kn::cpu), in float32, with each reduction over
// the rows split between lanes in a fixed pattern.
#include <cmath>

#include "fused_mlp.hpp"

#include "common.cuh"

namespace kn::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kPerLane = kFusedMlpMaxClasses / detail::kWarp;  // logits a lane holds at most

// Lanes that share one dot product of K terms when `outputs` of them are computed by the
// block: a power of two (so a group never straddles a warp), as many as one pass of the
// block allows, at most 32, and no more than the terms. The same for every thread.
__device__ __forceinline__ int lanes_for(int outputs, int K) {
  int g = 1;
  while (g < detail::kWarp && 2 * g <= K && outputs * (2 * g) <= kThreads) g *= 2;
  return g;
}

// One dot product: sum over k < K of a[k * sa] * b[k * sb].
struct Dot {
  const float* a;
  int sa;
  const float* b;
  int sb;
};

// For every o < outputs: finish(o, sum over k of setup(o)'s terms). Lane j of a group
// adds terms j, j+g, ...; the group then adds its lanes with xor shuffles, in the same
// order on every run. Every thread runs every pass (the shuffles need whole warps).
template <typename Setup, typename Finish>
__device__ __forceinline__ void block_dots(int outputs, int K, Setup setup, Finish finish) {
  const int g = lanes_for(outputs, K);
  const int lane = int(threadIdx.x) & (g - 1);
  for (int base = 0; base < outputs; base += kThreads / g) {
    const int o = base + int(threadIdx.x) / g;
    float acc = 0.0f;
    if (o < outputs) {
      const Dot d = setup(o);
      for (int k = lane; k < K; k += g) acc += d.a[k * d.sa] * d.b[k * d.sb];
    }
    acc = detail::warp_sum(acc, g);
    if (o < outputs && lane == 0) finish(o, acc);
  }
}

// p += -lr * g, rounded as PyTorch's p.add_(g, alpha=-lr) and the CPU backend (no fused
// multiply-add).
__device__ __forceinline__ void sgd(float* p, float g, float lr) { *p = __fadd_rn(*p, __fmul_rn(-lr, g)); }

__global__ void __launch_bounds__(kThreads)
    fused_mlp_kernel(float* losses, float* W1, float* b1, float* W2, float* b2, const float* X,
                     const int64_t* labels, int rows, int in, int hidden, int classes, int epochs, float lr) {
  const int ldx = in + 1, ldh = hidden + 1;
  extern __shared__ double shared[];
  double* row_loss = shared;                             // [rows]
  float* Xa = reinterpret_cast<float*>(row_loss + rows);  // [rows, in+1]
  float* Ha = Xa + rows * ldx;                            // [rows, hidden+1]
  float* P = Ha + rows * ldh;                             // [rows, classes]: dlogits
  float* dH = P + rows * classes;                         // [rows, hidden]
  float* W1a = dH + rows * hidden;                        // [hidden, in+1]
  float* W2a = W1a + hidden * ldx;                        // [classes, hidden+1]
  int* label = reinterpret_cast<int*>(W2a + classes * ldh);  // [rows], -1 when out of range

  const int tid = int(threadIdx.x);
  for (int i = tid; i < rows * ldx; i += kThreads) {
    const int r = i / ldx, k = i % ldx;
    Xa[i] = k < in ? X[r * in + k] : 1.0f;
  }
  for (int r = tid; r < rows; r += kThreads) {
    Ha[r * ldh + hidden] = 1.0f;  // step 1 never writes this column
    const int64_t l = labels[r];
    label[r] = l >= 0 && l < classes ? int(l) : -1;
  }
  for (int i = tid; i < hidden * ldx; i += kThreads) {
    const int j = i / ldx, k = i % ldx;
    W1a[i] = k < in ? W1[j * in + k] : b1[j];
  }
  for (int i = tid; i < classes * ldh; i += kThreads) {
    const int c = i / ldh, j = i % ldh;
    W2a[i] = j < hidden ? W2[c * hidden + j] : b2[c];
  }
  __syncthreads();

  // Step 2's groups: gc lanes per row (a power of two, at most a warp); lane j holds the
  // logits of classes j, j + gc.
  int gc = 1;
  while (gc < classes && gc < detail::kWarp) gc *= 2;
  const int gl = tid & (gc - 1);
  const float inv_rows = 1.0f / float(rows);
  const int n2 = classes * ldh, n1 = hidden * ldx;  // step 3's outputs: W2a's, then W1a's

  for (int epoch = 0; epoch < epochs; ++epoch) {
    // 1. H = relu(Xa W1a^T): the bias is the last term, as the CPU adds it after the product.
    block_dots(
        rows * hidden, ldx,
        [&](int o) { return Dot{Xa + (o / hidden) * ldx, 1, W1a + (o % hidden) * ldx, 1}; },
        [&](int o, float h) { Ha[(o / hidden) * ldh + o % hidden] = h > 0.0f ? h : 0.0f; });
    __syncthreads();

    // 2. One row per group: the CPU's softmax_ce_forward, then the row of dH.
    for (int base = 0; base < rows; base += kThreads / gc) {
      const int r = base + tid / gc;
      const bool live = r < rows;
      float x[kPerLane], e[kPerLane];
      float m = -INFINITY;
      for (int s = 0; s < kPerLane; ++s) {
        const int c = gl + s * gc;
        x[s] = 0.0f;
        if (live && c < classes) {
          const float* h = Ha + r * ldh;
          const float* w = W2a + c * ldh;
          float acc = 0.0f;
          for (int j = 0; j < ldh; ++j) acc += h[j] * w[j];
          x[s] = acc;
          m = fmaxf(m, acc);
        }
      }
      m = detail::warp_max(m, gc);
      float sum = 0.0f;
      for (int s = 0; s < kPerLane; ++s) {
        const int c = gl + s * gc;
        e[s] = live && c < classes ? expf(x[s] - m) : 0.0f;
        sum += e[s];
      }
      // Lanes 0,1 then 0+1,2+3: for three classes the CPU's order, (e0 + e1) + e2.
      sum = detail::warp_sum(sum, gc);
      if (live) {
        const int l = label[r];
        const float lse = logf(sum);
        const float scale = inv_rows / sum;
        for (int s = 0; s < kPerLane; ++s) {
          const int c = gl + s * gc;
          if (c >= classes) continue;
          float d = e[s] * scale;
          if (c == l) {
            d -= inv_rows;
            row_loss[r] = double(lse + m - x[s]);
          }
          P[r * classes + c] = l >= 0 ? d : NAN;
        }
        if (l < 0 && gl == 0) row_loss[r] = NAN;
      }
      __syncwarp();  // the group's dlogits, written above, are read below by the same warp
      if (live) {
        const float* p = P + r * classes;
        for (int j = gl; j < hidden; j += gc) {
          float acc = 0.0f;
          for (int c = 0; c < classes; ++c) acc += p[c] * W2a[c * ldh + j];
          dH[r * hidden + j] = Ha[r * ldh + j] > 0.0f ? acc : 0.0f;
        }
      }
      __syncwarp();  // the next pass's groups reuse these lanes
    }
    __syncthreads();

    // 3. The weight gradients, sums over rows, each applied by the lane that finished it:
    // nothing reads W1a or W2a in this step. dlogits^T Ha includes db2 (Ha's column of
    // ones), dH^T Xa includes db1.
    block_dots(
        n2 + n1, rows,
        [&](int o) {
          if (o < n2) return Dot{P + o / ldh, classes, Ha + o % ldh, ldh};
          o -= n2;
          return Dot{dH + o / ldx, hidden, Xa + o % ldx, ldx};
        },
        [&](int o, float g) { sgd(o < n2 ? W2a + o : W1a + (o - n2), g, lr); });
    if (tid / detail::kWarp == kThreads / detail::kWarp - 1) {  // the last warp: the epoch's mean loss
      const int lane = tid % detail::kWarp;
      double total = 0.0;
      for (int r = lane; r < rows; r += detail::kWarp) total += row_loss[r];
      total = detail::warp_sum(total);
      if (lane == 0) losses[epoch] = float(total / rows);
    }
    __syncthreads();
  }

  for (int i = tid; i < hidden * ldx; i += kThreads) {
    const int j = i / ldx, k = i % ldx;
    if (k < in) W1[j * in + k] = W1a[i];
    else b1[j] = W1a[i];
  }
  for (int i = tid; i < classes * ldh; i += kThreads) {
    const int c = i / ldh, j = i % ldh;
    if (j < hidden) W2[c * hidden + j] = W2a[i];
    else b2[c] = W2a[i];
  }
}

}  // namespace

bool fused_mlp_supported(int rows, int in, int hidden, int classes, int device, std::string* why) {
  auto no = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  const auto dim_ok = [](int v) { return v >= 1 && v <= kFusedMlpMaxDim; };
  if (!dim_ok(rows) || !dim_ok(in) || !dim_ok(hidden) || !dim_ok(classes))
    return no(str("the fused kernel needs rows, in, hidden and classes in [1, ", kFusedMlpMaxDim, "], got ", rows,
                  ", ", in, ", ", hidden, ", ", classes));
  if (classes > kFusedMlpMaxClasses)
    return no(str("the fused kernel handles at most ", kFusedMlpMaxClasses, " classes, the model has ", classes));
  int optin = 0;
  KN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  const std::size_t need = fused_mlp_shared_bytes(rows, in, hidden, classes);
  if (need > std::size_t(optin))
    return no(str("a ", in, "-", hidden, "-", classes, " MLP on ", rows, " rows needs ", need,
                  " bytes of shared memory (data, weights and activations), the device gives a block at most ", optin));
  if (why) why->clear();
  return true;
}

void fused_mlp_train(float* losses, float* W1, float* b1, float* W2, float* b2, const float* X,
                     const int64_t* labels, int rows, int in, int hidden, int classes, int epochs, float lr,
                     int device) {
  KN_CHECK(epochs >= 0, "kn::cuda::fused_mlp_train: epochs must be >= 0, got ", epochs);
  if (epochs == 0) return;
  std::string why;
  KN_CHECK(fused_mlp_supported(rows, in, hidden, classes, device, &why), "kn::cuda::fused_mlp_train: ", why);
  const std::size_t bytes = fused_mlp_shared_bytes(rows, in, hidden, classes);
  // Past 48 KiB a kernel must ask for its dynamic shared memory.
  {
    const detail::DeviceGuard on(device);
    KN_CUDA_CHECK(cudaFuncSetAttribute(fused_mlp_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
  }
  KN_LAUNCH(fused_mlp_kernel, device, dim3(1), dim3(kThreads), bytes, losses, W1, b1, W2, b2, X, labels, rows, in, hidden,
            classes, epochs, lr);
}

}  // namespace kn::cuda
