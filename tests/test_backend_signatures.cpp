// The two backends have the same op names and signatures: checked at compile time,
// so a drifting CUDA declaration fails the build even where no GPU exists.
#include <type_traits>

#include <kernelnet/cpu/ops.hpp>
#include <kernelnet/cuda/ops.hpp>

#include <catch2/catch.hpp>

#define KN_SAME_SIGNATURE(op) \
  static_assert(std::is_same_v<decltype(&kn::cpu::op), decltype(&kn::cuda::op)>, #op ": cpu and cuda differ");
KN_SAME_SIGNATURE(gemm)
KN_SAME_SIGNATURE(bias_add)
KN_SAME_SIGNATURE(bias_grad)
KN_SAME_SIGNATURE(relu_forward)
KN_SAME_SIGNATURE(relu_backward)
KN_SAME_SIGNATURE(softmax_ce_forward)
KN_SAME_SIGNATURE(softmax_ce_backward)
KN_SAME_SIGNATURE(sgd_step)
KN_SAME_SIGNATURE(fill)
KN_SAME_SIGNATURE(accumulate)
KN_SAME_SIGNATURE(argmax_rows)
KN_SAME_SIGNATURE(count_equal)

TEST_CASE("cpu and cuda backends declare the same ops (compile-time check)", "[backend]") {
  CHECK(std::is_same_v<decltype(&kn::cpu::gemm), decltype(&kn::cuda::gemm)>);
}
