// The CPU backend's ops: Eigen over raw row-major float buffers.
//
// Same names and signatures as <kernelnet/cuda/ops.hpp>; each function here is the
// reference its CUDA twin is tested against. Layout is row-major (see
// <kernelnet/tensor.hpp>), so matrices are mapped as Eigen RowMajor.
#pragma once
#include <algorithm>
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
// Small products (a 4-10-3 MLP) are faster as Eigen's coefficient-based product
// than through its blocked GEMM, whose packing costs more than the maths.
inline bool small_product(int M, int N, int K) { return int64_t(M) * N * K <= 64 * 64 * 64; }

template <typename L, typename R>
void gemm_into(MatMap& c, const L& a, const R& b, float alpha, float beta, bool small) {
  if (beta == 0.0f) {
    if (small) c.noalias() = a.lazyProduct(b);
    else c.noalias() = a * b;
    if (alpha != 1.0f) c *= alpha;
  } else {
    if (beta != 1.0f) c *= beta;
    if (small) c.noalias() += alpha * a.lazyProduct(b);
    else c.noalias() += alpha * a * b;
  }
}
}  // namespace detail

// C[M,N] = alpha * op(A) op(B) + beta * C, with op(A) [M,K] and op(B) [K,N].
// transA: A is stored [K,M] and used transposed; transB: B is stored [N,K].
inline void gemm(float* C, const float* A, const float* B, int M, int N, int K, bool transA,
                 bool transB, float alpha, float beta) {
  MatMap c(C, M, N);
  if (K == 0) {
    if (beta == 0.0f) c.setZero();
    else c *= beta;
    return;
  }
  const bool small = detail::small_product(M, N, K);
  ConstMatMap a(A, transA ? K : M, transA ? M : K);
  ConstMatMap b(B, transB ? N : K, transB ? K : N);
  if (!transA && !transB) detail::gemm_into(c, a, b, alpha, beta, small);
  else if (!transA && transB) detail::gemm_into(c, a, b.transpose(), alpha, beta, small);
  else if (transA && !transB) detail::gemm_into(c, a.transpose(), b, alpha, beta, small);
  else detail::gemm_into(c, a.transpose(), b.transpose(), alpha, beta, small);
}

// y[r,c] += b[c]
inline void bias_add(float* y, const float* b, int rows, int cols) {
  MatMap(y, rows, cols).rowwise() += ConstRowVecMap(b, cols);
}

// db[c] = beta * db[c] + sum_r dy[r,c]
inline void bias_grad(float* db, const float* dy, int rows, int cols, float beta) {
  Eigen::Map<Eigen::RowVectorXf> out(db, cols);
  if (beta == 0.0f) out = ConstMatMap(dy, rows, cols).colwise().sum();
  else out = beta * out + ConstMatMap(dy, rows, cols).colwise().sum();
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
inline void softmax_ce_forward(float* loss, float* dlogits, const float* logits,
                               const int64_t* labels, int rows, int classes) {
  double total = 0.0;  // PyTorch sums the per-row losses in a wider type too
  const float inv_rows = 1.0f / float(rows);
  for (int r = 0; r < rows; ++r) {
    const float* x = logits + int64_t(r) * classes;
    float* d = dlogits + int64_t(r) * classes;
    float m = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < classes; ++c) m = std::max(m, x[c]);
    float sum = 0.0f;
    for (int c = 0; c < classes; ++c) {
      d[c] = std::exp(x[c] - m);
      sum += d[c];
    }
    const float lse = std::log(sum) + m;
    const int64_t label = labels[r];
    if (label < 0 || label >= classes) {
      total = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    total += double(lse - x[label]);
    const float inv_sum = 1.0f / sum;
    for (int c = 0; c < classes; ++c) d[c] = d[c] * inv_sum * inv_rows;
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
