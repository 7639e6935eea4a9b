// The CUDA backend's ops: plain C++ declarations, defined in kernels/*.cu.
//
// Each function has exactly the name and signature of its CPU twin in
// <kernelnet/cpu/ops.hpp> (tests/test_backend_signatures.cpp checks this), so the
// dispatch in <kernelnet/ops.hpp> is one line per op. Pointers are device
// pointers on the current device; work is queued on the device's stream and
// nothing here synchronises. Layout is row-major (see <kernelnet/tensor.hpp>).
#pragma once
#include <cstdint>

namespace kn::cuda {

// C[M,N] = alpha * op(A) op(B) + beta * C, with op(A) [M,K] and op(B) [K,N].
// transA: A is stored [K,M] and used transposed; transB: B is stored [N,K].
void gemm(float* C, const float* A, const float* B, int M, int N, int K, bool transA, bool transB,
          float alpha, float beta);
// y[r,c] += b[c]
void bias_add(float* y, const float* b, int rows, int cols);
// db[c] = beta * db[c] + sum_r dy[r,c]
void bias_grad(float* db, const float* dy, int rows, int cols, float beta);
// y = max(x, 0)
void relu_forward(float* y, const float* x, int64_t n);
// dx = beta * dx + (y > 0 ? dy : 0)
void relu_backward(float* dx, const float* dy, const float* y, int64_t n, float beta);
// loss[0] = mean_r(logsumexp(logits[r,:]) - logits[r, labels[r]]);
// dlogits = (softmax(logits) - onehot(labels)) / rows. Labels outside [0, classes) give NaN.
void softmax_ce_forward(float* loss, float* dlogits, const float* logits, const int64_t* labels,
                        int rows, int classes);
// dx = beta * dx + dloss[0] * dlogits; dloss is a pointer on the same device.
void softmax_ce_backward(float* dx, const float* dlogits, const float* dloss, int64_t n, float beta);
// For every i < count: params[i][j] += -lr * grads[i][j], j < sizes[i]. The pointer
// arrays live on the host; the tensors they point to live on the device.
void sgd_step(float* const* params, const float* const* grads, const int64_t* sizes, int count,
              float lr);
// x[i] = value
void fill(float* x, float value, int64_t n);
// y = beta * y + x
void accumulate(float* y, const float* x, int64_t n, float beta);
// idx[r] = first index of the largest x[r,:]
void argmax_rows(int64_t* idx, const float* x, int rows, int cols);
// count[0] = number of i with a[i] == b[i]
void count_equal(int64_t* count, const int64_t* a, const int64_t* b, int64_t n);

}  // namespace kn::cuda
