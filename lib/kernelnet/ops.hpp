// The dispatch point: one function per op, sending it to kn::cpu or kn::cuda.
//
// The two backends have the same names and signatures (cpu/ops.hpp, cuda/ops.hpp),
// so each op below is a single line. These work on raw pointers and know nothing
// of autograd; functional.hpp builds the differentiable ops on top of them.
#pragma once
#include <cstdint>

#include <kernelnet/cpu/ops.hpp>
#include <kernelnet/device.hpp>
#include <kernelnet/trace.hpp>
#if KN_WITH_CUDA
#include <kernelnet/cuda/ops.hpp>
#define KN_DISPATCH(device, op, ...) \
  ((device).is_cuda() ? ::kn::cuda::op(__VA_ARGS__) : ::kn::cpu::op(__VA_ARGS__))
#else
// Without CUDA no tensor can live on a GPU (Tensor::to refuses), so only the CPU branch exists.
#define KN_DISPATCH(device, op, ...) ::kn::cpu::op(__VA_ARGS__)
#endif

namespace kn::ops {

inline void gemm(Device d, float* C, const float* A, const float* B, int M, int N, int K, bool transA,
                 bool transB, float alpha, float beta) {
  trace::Op t(
      d, "gemm", [&] { return trace::cpu_gemm_expr(transA, transB, alpha, beta, N <= cpu::detail::kPanelMaxN); },
      M, N, K);
  KN_DISPATCH(d, gemm, C, A, B, M, N, K, transA, transB, alpha, beta);
}
inline void bias_add(Device d, float* y, const float* b, int rows, int cols) {
  trace::Op t(d, "bias_add", [] { return "y.rowwise() += b"; }, rows, cols);
  KN_DISPATCH(d, bias_add, y, b, rows, cols);
}
inline void bias_grad(Device d, float* db, const float* dy, int rows, int cols, float beta) {
  trace::Op t(
      d, "bias_grad",
      [&] { return beta == 0.0f ? "loop: db = sum of dy's rows, row by row" : "loop: db = beta * db + sum of dy's rows"; },
      rows, cols);
  KN_DISPATCH(d, bias_grad, db, dy, rows, cols, beta);
}
inline void relu_forward(Device d, float* y, const float* x, int64_t n) {
  trace::Op t(d, "relu_forward", [] { return "y = x.cwiseMax(0)"; }, n);
  KN_DISPATCH(d, relu_forward, y, x, n);
}
inline void relu_backward(Device d, float* dx, const float* dy, const float* y, int64_t n, float beta) {
  trace::Op t(
      d, "relu_backward",
      [&] { return beta == 0.0f ? "dx = (y > 0).select(dy, 0)" : "dx = beta * dx + (y > 0).select(dy, 0)"; }, n);
  KN_DISPATCH(d, relu_backward, dx, dy, y, n, beta);
}
inline void softmax_ce_forward(Device d, float* loss, float* dlogits, const float* logits, const int64_t* labels,
                               int rows, int classes) {
  trace::Op t(
      d, "softmax_ce_forward",
      [] { return "loop: per row max; Eigen .exp() and .log() over whole arrays; dlogits = (softmax - onehot) / rows"; },
      rows, classes);
  KN_DISPATCH(d, softmax_ce_forward, loss, dlogits, logits, labels, rows, classes);
}
inline void softmax_ce_backward(Device d, float* dx, const float* dlogits, const float* dloss, int64_t n,
                                float beta) {
  trace::Op t(
      d, "softmax_ce_backward",
      [&] { return beta == 0.0f ? "dx = dloss[0] * dlogits" : "dx = beta * dx + dloss[0] * dlogits"; }, n);
  KN_DISPATCH(d, softmax_ce_backward, dx, dlogits, dloss, n, beta);
}
inline void sgd_step(Device d, float* const* params, const float* const* grads, const int64_t* sizes, int count,
                     float lr) {
  trace::Op t(d, "sgd_step", [] { return "p += (-lr) * g, for each tensor"; }, count);
  KN_DISPATCH(d, sgd_step, params, grads, sizes, count, lr);
}
inline void fill(Device d, float* x, float value, int64_t n) {
  trace::Op t(d, "fill", [] { return "x.setConstant(value)"; }, n);
  KN_DISPATCH(d, fill, x, value, n);
}
inline void accumulate(Device d, float* y, const float* x, int64_t n, float beta) {
  trace::Op t(d, "accumulate", [&] { return beta == 0.0f ? "y = x" : "y = beta * y + x"; }, n);
  KN_DISPATCH(d, accumulate, y, x, n, beta);
}
inline void argmax_rows(Device d, int64_t* idx, const float* x, int rows, int cols) {
  trace::Op t(d, "argmax_rows", [] { return "loop: std::max_element per row"; }, rows, cols);
  KN_DISPATCH(d, argmax_rows, idx, x, rows, cols);
}
inline void count_equal(Device d, int64_t* count, const int64_t* a, const int64_t* b, int64_t n) {
  trace::Op t(d, "count_equal", [] { return "loop: count a[i] == b[i]"; }, n);
  KN_DISPATCH(d, count_equal, count, a, b, n);
}

}  // namespace kn::ops
