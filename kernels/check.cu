// kn::cuda::throw_error, behind KN_CUDA_CHECK (<kernelnet/cuda/runtime.hpp>).
#include <cuda_runtime.h>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>

namespace kn::cuda {

void throw_error(int cuda_error, const char* expr, const char* file, int line) {
  const auto err = static_cast<cudaError_t>(cuda_error);
  // A failed call also leaves its error as the "last error"; clear it so the next
  // launch check does not blame an innocent kernel. (Sticky errors, such as an illegal
  // address, stay: every later call reports them anyway.)
  (void)cudaGetLastError();
  throw Error(str("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") in ", expr, " at ", file,
                  ":", line));
}

}  // namespace kn::cuda
