// The kernel names that KN_KERNEL_LOG writes (kernels/kernel_log.cu) are the names after
// `__global__ void` in kernels/, which is the list scripts/gpu-check compares them with
// to show that its sanitizer runs reach every kernel. Runs without a GPU, and without
// CUDA: it reads the sources and calls the trace's name function.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include <kernelnet/trace/event.hpp>

#include "test_util.hpp"

namespace {


// Every kernels/ source file: *.cu and *.cuh, kernels/gemm/ included.
std::vector<std::filesystem::path> kernel_sources() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(std::string(KN_SOURCE_DIR) + "/kernels"))
    if (e.path().extension() == ".cu" || e.path().extension() == ".cuh") files.push_back(e.path());
  return files;
}

}  // namespace

TEST_CASE("kernel_base_name strips parentheses, namespaces and template arguments", "[kernels]") {
  using kn::trace::kernel_base_name;
  CHECK(kernel_base_name("fill_kernel") == "fill_kernel");
  CHECK(kernel_base_name("(sgemm_tiny<TA, TB>)") == "sgemm_tiny");
  CHECK(kernel_base_name("(sgemm_warptile<128, 128, 16, 64, 64, 4, 8, 4, 128, TA, TB>)") == "sgemm_warptile");
  CHECK(kernel_base_name("detail::bias_add_kernel") == "bias_add_kernel");
  CHECK(kernel_base_name("(a::b::c<x::y>)") == "c");
}

TEST_CASE("every KN_LAUNCH in kernels/ names a __global__ function of kernels/", "[kernels]") {
  // The same pattern as scripts/gpu-check's kernel list: __launch_bounds__ may hold one
  // level of parentheses, and the name may be on the next line.
  const std::regex global(R"(__global__\s+void\s+(?:__launch_bounds__\s*\((?:[^()]|\([^()]*\))*\)\s*)?(\w+)\s*\()");
  // KN_LAUNCH(name, ...) or KN_LAUNCH((name<...>), ...): the first argument.
  const std::regex launch(R"(KN_LAUNCH\((\([^()]*\)|[\w:]+)\s*,)");
  std::set<std::string> kernels, launched;
  for (const auto& f : kernel_sources()) {
    const std::string text = kn::test::read_file(f);
    for (std::sregex_iterator it(text.begin(), text.end(), global), end; it != end; ++it)
      kernels.insert((*it)[1]);
    for (std::sregex_iterator it(text.begin(), text.end(), launch), end; it != end; ++it)
      if (f.filename() != "common.cuh")  // the macro's own definition and comment
        launched.insert(kn::trace::kernel_base_name((*it)[1].str().c_str()));
  }
  INFO("kernels: " << kernels.size() << ", launched names: " << launched.size());
  CHECK(kernels.size() >= 20);  // the elementwise ops, softmax-CE, SGD, fused MLP, the GEMM series
  CHECK(kernels.count("sgemm_warptile") == 1);
  CHECK(kernels.count("fused_mlp_kernel") == 1);
  CHECK(kernels.count("trace_gate_kernel") == 1);  // launched directly by the trace, not KN_LAUNCH
  for (const auto& name : launched) {
    INFO("KN_LAUNCH of " << name);
    CHECK(kernels.count(name) == 1);
  }
  // And the other way: every kernel but the trace's gate is launched through KN_LAUNCH,
  // so the log can see it.
  for (const auto& name : kernels) {
    if (name == "trace_gate_kernel") continue;
    INFO("__global__ " << name);
    CHECK(launched.count(name) == 1);
  }
}
