// The GPU suite's main: with no CUDA device every test exits 77, which CTest
// reports as skipped. Listing tests (for CTest's discovery) works without a GPU.
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
