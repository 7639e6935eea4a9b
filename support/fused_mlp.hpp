// A whole training run of a small MLP in one kernel launch (kernels/fused_mlp.cu).
//
// The model is the lesson's: logits = relu(X W1^T + b1) W2^T + b2, mean softmax
// cross-entropy, full-batch SGD (p += -lr * grad, as PyTorch). One thread block keeps
// the data, the weights and every activation in shared memory and runs all the epochs,
// writing each epoch's loss to device memory; nothing returns to the host until the end.
//
// Limits (fused_mlp_supported() checks them and says which one fails):
//   - classes <= 64 (each lane of a row's group holds at most two logits in registers);
//   - rows, in, hidden >= 1 and classes >= 1, each at most 65536;
//   - fused_mlp_shared_bytes() <= the device's opt-in shared memory per block (227 KiB on
//     an H100 or H200). For Iris' 120 rows, 4 inputs and 3 classes that allows up to 228
//     hidden units; 4-10-3 needs 15.3 KiB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <kernelnet/cuda/runtime.hpp>

namespace kn::cuda {

constexpr int kFusedMlpMaxClasses = 64;
constexpr int kFusedMlpMaxDim = 65536;

// The shared memory layout, in this order: the per-row losses (double, [rows]), then
// floats: X with a column of ones [rows, in+1], the hidden activations with a column of
// ones [rows, hidden+1], dlogits [rows, classes], dhidden [rows, hidden], W1 with b1 as
// its last column [hidden, in+1], W2 with b2 [classes, hidden+1]; then the labels (int32,
// [rows]). The columns of ones make each bias one more weight: its forward term and its
// gradient (a column sum) come out of the same dot products.
inline std::size_t fused_mlp_shared_bytes(int rows, int in, int hidden, int classes) {
  const std::size_t r = std::size_t(rows), i1 = std::size_t(in) + 1, h1 = std::size_t(hidden) + 1;
  const std::size_t floats = r * i1 + r * h1 + r * std::size_t(classes) + r * std::size_t(hidden) +
                             std::size_t(hidden) * i1 + std::size_t(classes) * h1;
  return r * sizeof(double) + floats * sizeof(float) + r * sizeof(int32_t);
}

#if KN_WITH_CUDA
// True when fused_mlp_train() can run this model on `device`; otherwise false, with the
// reason in *why (when why is not null).
bool fused_mlp_supported(int rows, int in, int hidden, int classes, int device, std::string* why);

// Trains in place, on `device`, for `epochs` epochs: losses[e] is the mean loss
// of epoch e + 1 before its update (what loss.item() returns in the eager loop). All
// pointers are device pointers: losses [epochs]; W1 [hidden, in], b1 [hidden],
// W2 [classes, hidden], b2 [classes] (updated); X [rows, in]; labels [rows] (a label
// outside [0, classes) makes the losses NaN). Queued on the device's stream; returns at
// once. Throws kn::Error when !fused_mlp_supported().
void fused_mlp_train(float* losses, float* W1, float* b1, float* W2, float* b2, const float* X,
                     const int64_t* labels, int rows, int in, int hidden, int classes, int epochs, float lr,
                     int device);
#else
inline bool fused_mlp_supported(int, int, int, int, int, std::string* why) {
  if (why) *why = unavailable_reason();
  return false;
}
inline void fused_mlp_train(float*, float*, float*, float*, float*, const float*, const int64_t*, int, int, int, int,
                            int, float, int) {
  no_cuda("kn::cuda::fused_mlp_train");
}
#endif

}  // namespace kn::cuda
