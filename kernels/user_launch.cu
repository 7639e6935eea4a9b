// kn::cuda::launch_user_kernel: a kernel written outside kernelnet, launched the way
// kernelnet launches its own (common.cuh's launch()): on kernelnet's stream, checked,
// counted and traced.
#include "common.cuh"
#include "trace.cuh"

namespace kn::cuda {

void launch_user_kernel(const char* kernel, Dim3 grid, Dim3 block, const std::function<void(void* stream)>& launch) {
  KN_CHECK(kernel && launch, "launch_user_kernel: needs a kernel name and a launch function");
  const dim3 g(grid.x, grid.y, grid.z), b(block.x, block.y, block.z);
  if (g.x == 0 || g.y == 0 || g.z == 0) return;
  const int device = detail::current_device();
  const detail::KernelSite site{kernel, "(user kernel)", 0};
  const bool traced = trace::enabled();
  if (traced) detail::before_traced_launch(device);
  try {
    launch(detail::stream(device));
  } catch (...) {
    if (traced) detail::open_trace_gate(device);
    throw;
  }
  if (traced) detail::after_traced_launch(site, device, g, b);
  else detail::after_launch(site, device, g, b);
}

}  // namespace kn::cuda
