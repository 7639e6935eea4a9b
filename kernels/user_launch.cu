// kn::cuda::launch_user_kernel: a kernel written outside kernelnet, launched the way
// kernelnet launches its own (common.cuh's launch_on()): on the device's stream with the
// device current, checked, counted and traced.
#include "common.cuh"

namespace kn::cuda {

void launch_user_kernel(const char* kernel, Dim3 grid, Dim3 block, const std::function<void(void* stream)>& launch,
                        int device) {
  KN_CHECK(kernel && launch, "launch_user_kernel: needs a kernel name and a launch function");
  detail::launch_on(detail::KernelSite{kernel, "(user kernel)", 0}, device, dim3(grid.x, grid.y, grid.z),
                    dim3(block.x, block.y, block.z), [&](cudaStream_t s) { launch(s); });
}

}  // namespace kn::cuda
