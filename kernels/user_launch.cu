// kn::cuda::launch_user_kernel: a kernel written outside kernelnet, launched the way
// kernelnet launches its own (common.cuh's launch()): on the device's stream with the
// device current, checked, counted and traced.
#include "common.cuh"
#include "trace.cuh"

namespace kn::cuda {

void launch_user_kernel(const char* kernel, Dim3 grid, Dim3 block, const std::function<void(void* stream)>& launch,
                        int device) {
  KN_CHECK(kernel && launch, "launch_user_kernel: needs a kernel name and a launch function");
  const dim3 g(grid.x, grid.y, grid.z), b(block.x, block.y, block.z);
  if (g.x == 0 || g.y == 0 || g.z == 0) return;
  cudaStream_t s = detail::stream(device);
  const detail::DeviceGuard on(device);
  detail::TracedLaunch traced(device, s);
  launch(s);  // if it throws, the TracedLaunch opens its gate and logs nothing
  traced.launched();
  detail::after_launch(detail::KernelSite{kernel, "(user kernel)", 0}, device, g, b);
  traced.log(kernel, g, b);
}

}  // namespace kn::cuda
