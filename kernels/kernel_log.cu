// KN_KERNEL_LOG=<file>: the kernels a process launched, by base name, appended to <file>
// at exit (see note_kernel in common.cuh). scripts/gpu-check compares them with the
// __global__ functions of kernels/ to show what its sanitizer runs reached.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include <kernelnet/trace/event.hpp>

#include "common.cuh"

namespace kn::cuda::detail {
namespace {

// The launch texts noted so far (string literals: KN_LAUNCH's #kernel, so a set of
// pointers is enough), turned into base names and written at exit.
struct KernelLog {
  std::string path;
  std::mutex mutex;
  std::set<const char*> sites;
};

KernelLog* kernel_log() {
  static KernelLog* log = []() -> KernelLog* {
    const char* path = std::getenv("KN_KERNEL_LOG");
    if (path == nullptr || *path == '\0') return nullptr;
    auto* l = new KernelLog;  // never freed: it is written by the atexit handler
    l->path = path;
    std::atexit([] {
      KernelLog* l = kernel_log();
      std::lock_guard<std::mutex> lock(l->mutex);
      std::set<std::string> names;
      for (const char* site : l->sites) names.insert(trace::kernel_base_name(site));
      if (std::FILE* f = std::fopen(l->path.c_str(), "a")) {
        for (const auto& n : names) std::fprintf(f, "%s\n", n.c_str());
        std::fclose(f);
      }
    });
    return l;
  }();
  return log;
}

}  // namespace

void note_kernel(const char* launch_text) {
  KernelLog* log = kernel_log();
  if (log == nullptr) return;
  std::lock_guard<std::mutex> lock(log->mutex);
  log->sites.insert(launch_text);
}

}  // namespace kn::cuda::detail
