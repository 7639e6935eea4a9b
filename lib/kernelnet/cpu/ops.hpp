// The CPU backend's ops: Eigen over raw row-major float buffers.
//
// Same names and signatures as <kernelnet/cuda/ops.hpp>; each function here is the
// reference its CUDA twin is tested against. Layout is row-major (see
// <kernelnet/tensor.hpp>), so matrices are mapped as Eigen RowMajor.
#pragma once
#include <algorithm>
#include <array>
#include <utility>
#include <vector>
#include <cmath>
#include <cstdint>
#include <limits>

#include <Eigen/Core>

namespace kn::cpu {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMat>;
using ConstMatMap = Eigen::Map<const RowMat>;
using VecMap = Eigen::Map<Eigen::VectorXf>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXf>;
using ConstRowVecMap = Eigen::Map<const Eigen::RowVectorXf>;

namespace detail {
// Eigen's GEMM packs its operands into blocks first, which costs more than the maths
// when one side is as narrow as a 4-10-3 MLP's (3, 4 or 10 columns). For those, a
// row panel: each output row is a handful of accumulators whose count N is known at
// compile time, so they sit in one vector register and the k loop is a broadcast
// and a fused multiply-add. R rows go together when N is tiny, to fill the register.

// op(A)(i, k) = A[i * si + k * sk]; Bp is op(B) as a row-major [K, N] panel.
template <int N, int R>
void gemm_panel(float* C, const float* A, int64_t si, int64_t sk, const float* Bp, int M, int K, float alpha,
                float beta) {
  int i = 0;
  for (; i + R <= M; i += R) {
    float acc[R][N] = {};
    for (int k = 0; k < K; ++k) {
      const float* b = Bp + int64_t(k) * N;
      for (int r = 0; r < R; ++r) {
        const float a = A[(i + r) * si + k * sk];
        for (int j = 0; j < N; ++j) acc[r][j] += a * b[j];
      }
    }
    for (int r = 0; r < R; ++r) {
      float* c = C + int64_t(i + r) * N;
      if (beta == 0.0f)
        for (int j = 0; j < N; ++j) c[j] = alpha * acc[r][j];
      else
        for (int j = 0; j < N; ++j) c[j] = alpha * acc[r][j] + beta * c[j];
    }
  }
  if (i < M) gemm_panel<N, 1>(C + int64_t(i) * N, A + i * si, si, sk, Bp, M - i, K, alpha, beta);
}

constexpr int kPanelMaxN = 16;
using PanelFn = void (*)(float*, const float*, int64_t, int64_t, const float*, int, int, float, float);
template <int... Ns>
constexpr std::array<PanelFn, sizeof...(Ns)> make_panels(std::integer_sequence<int, Ns...>) {
  return {&gemm_panel<Ns + 1, (Ns + 1 <= 4 ? 4 : Ns + 1 <= 8 ? 2 : 1)>...};
}
inline constexpr auto kPanels = make_panels(std::make_integer_sequence<int, kPanelMaxN>{});

inline float* scratch(std::size_t n, int which) {
  static thread_local std::vector<float> buffers[2];
  if (buffers[which].size() < n) buffers[which].resize(n);
  return buffers[which].data();
}

inline void gemm_narrow(float* C, const float* A, const float* B, int M, int N, int K, bool transA, bool transB,
                        float alpha, float beta) {
  // A narrow output with few rows is better computed transposed: C^T = op(B)^T op(A)^T
  // has M columns, and the transpose back is at most 16 x 16 elements.
  if (N < M && M <= kPanelMaxN && N < 8) {
    float* Ct = scratch(std::size_t(N) * M, 1);
    gemm_narrow(Ct, B, A, N, M, K, !transB, !transA, 1.0f, 0.0f);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        float& c = C[int64_t(i) * N + j];
        c = alpha * Ct[int64_t(j) * M + i] + (beta == 0.0f ? 0.0f : beta * c);
      }
    return;
  }
  const float* Bp = B;  // op(B) as [K, N]
  if (transB) {
    float* t = scratch(std::size_t(K) * N, 0);
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) t[int64_t(k) * N + n] = B[int64_t(n) * K + k];
    Bp = t;
  }
  const int64_t si = transA ? 1 : K, sk = transA ? M : 1;
  kPanels[N - 1](C, A, si, sk, Bp, M, K, alpha, beta);
}

template <typename L, typename R>
void gemm_into(MatMap& c, const L& a, const R& b, float alpha, float beta) {
  if (beta == 0.0f) {
    c.noalias() = a * b;
    if (alpha != 1.0f) c *= alpha;
  } else {
    if (beta != 1.0f) c *= beta;
    c.noalias() += alpha * a * b;
  }
}
}  // namespace detail

// C[M,N] = alpha * op(A) op(B) + beta * C, with op(A) [M,K] and op(B) [K,N].
// transA: A is stored [K,M] and used transposed; transB: B is stored [N,K].
inline void gemm(float* C, const float* A, const float* B, int M, int N, int K, bool transA, bool transB,
                 float alpha, float beta) {
  if (M == 0 || N == 0) return;
  MatMap c(C, M, N);
  if (K == 0) {
    if (beta == 0.0f) c.setZero();
    else c *= beta;
    return;
  }
  if (N <= detail::kPanelMaxN) return detail::gemm_narrow(C, A, B, M, N, K, transA, transB, alpha, beta);
  ConstMatMap a(A, transA ? K : M, transA ? M : K);
  ConstMatMap b(B, transB ? N : K, transB ? K : N);
  if (!transA && !transB) detail::gemm_into(c, a, b, alpha, beta);
  else if (!transA && transB) detail::gemm_into(c, a, b.transpose(), alpha, beta);
  else if (transA && !transB) detail::gemm_into(c, a.transpose(), b, alpha, beta);
  else detail::gemm_into(c, a.transpose(), b.transpose(), alpha, beta);
}

// y[r,c] += b[c]
inline void bias_add(float* y, const float* b, int rows, int cols) {
  MatMap(y, rows, cols).rowwise() += ConstRowVecMap(b, cols);
}

// db[c] = beta * db[c] + sum_r dy[r,c]
inline void bias_grad(float* db, const float* dy, int rows, int cols, float beta) {
  // Row by row, so the inner loop runs along contiguous memory and vectorises.
  if (beta == 0.0f) std::fill(db, db + cols, 0.0f);
  else if (beta != 1.0f) VecMap(db, cols) *= beta;
  for (int r = 0; r < rows; ++r) {
    const float* row = dy + int64_t(r) * cols;
    for (int c = 0; c < cols; ++c) db[c] += row[c];
  }
}

// y = max(x, 0)
inline void relu_forward(float* y, const float* x, int64_t n) {
  VecMap(y, n) = ConstVecMap(x, n).cwiseMax(0.0f);
}

// dx = beta * dx + (y > 0 ? dy : 0)
inline void relu_backward(float* dx, const float* dy, const float* y, int64_t n, float beta) {
  auto masked = (ConstVecMap(y, n).array() > 0.0f).select(ConstVecMap(dy, n).array(), 0.0f);
  if (beta == 0.0f) VecMap(dx, n).array() = masked;
  else VecMap(dx, n).array() = beta * VecMap(dx, n).array() + masked;
}

// loss[0] = mean_r(logsumexp(logits[r,:]) - logits[r, labels[r]]);
// dlogits = (softmax(logits) - onehot(labels)) / rows. Labels outside [0, classes) give NaN.
inline void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels, int rows,
                               int classes) {
  // Three passes so that exp and log run over whole arrays, where Eigen vectorises
  // them, instead of one libm call per element.
  const int64_t n = int64_t(rows) * classes;
  float* row_max = detail::scratch(3 * std::size_t(rows), 0);
  float* row_sum = row_max + rows;
  float* row_lse = row_sum + rows;
  for (int r = 0; r < rows; ++r) {
    const float* x = logits + int64_t(r) * classes;
    float m = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < classes; ++c) m = std::max(m, x[c]);
    row_max[r] = m;
    for (int c = 0; c < classes; ++c) dlogits[int64_t(r) * classes + c] = x[c] - m;  // <= 0: exp cannot overflow
  }
  VecMap(dlogits, n).array() = ConstVecMap(dlogits, n).array().exp();
  for (int r = 0; r < rows; ++r) {
    const float* e = dlogits + int64_t(r) * classes;
    float sum = 0.0f;
    for (int c = 0; c < classes; ++c) sum += e[c];
    row_sum[r] = sum;
  }
  VecMap(row_lse, rows).array() = ConstVecMap(row_sum, rows).array().log();
  double total = 0.0;  // PyTorch sums the per-row losses in a wider type too
  const float inv_rows = 1.0f / float(rows);
  for (int r = 0; r < rows; ++r) {
    const int64_t label = labels[r];
    if (label < 0 || label >= classes) {
      total = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const float* x = logits + int64_t(r) * classes;
    float* d = dlogits + int64_t(r) * classes;
    total += double(row_lse[r] + row_max[r] - x[label]);
    const float scale = inv_rows / row_sum[r];
    for (int c = 0; c < classes; ++c) d[c] *= scale;
    d[label] -= inv_rows;
  }
  loss[0] = float(total / rows);
}

// dx = beta * dx + dloss[0] * dlogits
inline void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n,
                                float beta) {
  if (beta == 0.0f) VecMap(dx, n) = dloss[0] * ConstVecMap(dlogits, n);
  else VecMap(dx, n) = beta * VecMap(dx, n) + dloss[0] * ConstVecMap(dlogits, n);
}

// For every i < count: params[i] += -lr * grads[i] (PyTorch: p.add_(g, alpha=-lr)).
inline void sgd_step(float* const* params, const float* const* grads, const int64_t* sizes,
                     int count, float lr) {
  for (int i = 0; i < count; ++i)
    VecMap(params[i], sizes[i]) += (-lr) * ConstVecMap(grads[i], sizes[i]);
}

// x[i] = value
inline void fill(float* x, float value, int64_t n) { VecMap(x, n).setConstant(value); }

// y = beta * y + x
inline void accumulate(float* y, const float* x, int64_t n, float beta) {
  if (beta == 0.0f) VecMap(y, n) = ConstVecMap(x, n);
  else VecMap(y, n) = beta * VecMap(y, n) + ConstVecMap(x, n);
}

// idx[r] = first index of the largest x[r,:]
inline void argmax_rows(int64_t* idx, const float* x, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + int64_t(r) * cols;
    idx[r] = std::max_element(row, row + cols) - row;
  }
}

// count[0] = number of i with a[i] == b[i]
inline void count_equal(int64_t* count, const int64_t* a, const int64_t* b, int64_t n) {
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) k += a[i] == b[i];
  count[0] = k;
}

}  // namespace kn::cpu
