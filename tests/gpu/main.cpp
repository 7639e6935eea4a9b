// The GPU suite's main: with no CUDA device every test exits 77, which CTest
// reports as skipped. Listing tests (for CTest's discovery) works without a GPU.
//
// Tags beside [gpu], which scripts/gpu-check uses to pick what compute-sanitizer runs
// (every [gpu] test but these, "[gpu]~[slow]~[api-error]~[large]"; CTest runs them all):
//   [slow]       long: the 20000-epoch runs (each epoch is a dozen launches, and a
//                sanitizer adds its cost to every one); shorter tests reach the same kernels
//   [api-error]  makes a CUDA call fail on purpose (an allocation of 1 PiB, a device that
//                does not exist, a capture broken by a copy to the host), which
//                compute-sanitizer reports as errors
//   [large]      needs gigabytes of device memory (indexing past 2^31 elements)
//   [modes]      the training modes (graph capture, the fused kernel)
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include <kernelnet/cuda/runtime.hpp>

int main(int argc, char** argv) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv)) return rc;
  const auto& cfg = session.configData();
  const bool listing = cfg.listTests || cfg.listTestNamesOnly || cfg.listTags || cfg.listReporters;
  if (!listing && !kn::cuda::is_available()) {
    std::printf("SKIPPED: no CUDA device (%s)\n", kn::cuda::unavailable_reason().c_str());
    return 77;
  }
  return session.run();
}
