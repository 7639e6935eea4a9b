// kn-info: what kernelnet runs on, read from the system (Linux).
//
//   kn-info           # CPU, Eigen, CUDA and GPU, as text
//   kn-info --json    # the same, for scripts
//
// The lesson's two "how to read performance" snippets in one tool: the CPU's cores,
// caches and vector instructions (and which of them Eigen was compiled to use), then
// whether CUDA is available (and why not), and each GPU's architecture, SMs, memory and
// theoretical memory bandwidth.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/version.hpp>

#include "cli.hpp"
#include "sysinfo.hpp"

namespace {

using nlohmann::json;

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) b /= 1024.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 || b == double(int64_t(b)) ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string or_unknown(const std::string& s) { return s.empty() ? "not reported" : s; }

json isa_json(const kn::sysinfo::Isa& i) {
  return {{"sse4_2", i.sse4_2}, {"avx", i.avx}, {"avx2", i.avx2}, {"fma", i.fma}, {"avx512f", i.avx512f},
          {"neon", i.neon}};
}

std::string isa_text(const kn::sysinfo::Isa& i, bool arm) {
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  if (arm) return std::string("NEON (ASIMD) ") + yn(i.neon);
  return std::string("SSE4.2 ") + yn(i.sse4_2) + ", AVX " + yn(i.avx) + ", AVX2 " + yn(i.avx2) + ", FMA " +
         yn(i.fma) + ", AVX-512F " + yn(i.avx512f);
}

json to_json(const kn::sysinfo::Cpu& cpu, const kn::sysinfo::EigenBuild& eigen, const kn::cuda::RuntimeInfo& gpu) {
  json caches = json::array();
  for (auto& c : cpu.caches)
    caches.push_back({{"level", c.level}, {"type", c.type}, {"size_bytes", c.size_bytes}, {"instances", c.instances},
                      {"shared_by", c.shared_by}});
  json devices = json::array();
  for (auto& d : gpu.devices)
    devices.push_back({{"index", d.index},
                       {"name", d.name},
                       {"compute_capability", std::to_string(d.major) + "." + std::to_string(d.minor)},
                       {"architecture", kn::cuda::architecture_name(d.major, d.minor)},
                       {"sm_count", d.sm_count},
                       {"memory_total_bytes", d.total_bytes},
                       {"memory_free_bytes", d.free_bytes},
                       {"memory_clock_khz", d.memory_clock_khz},
                       {"memory_bus_width_bits", d.bus_width_bits},
                       {"peak_bandwidth_gbs", d.peak_bandwidth_gbs()},
                       {"l2_bytes", d.l2_bytes},
                       {"max_threads_per_sm", d.max_threads_per_sm},
                       {"max_threads_per_block", d.max_threads_per_block},
                       {"warp_size", d.warp_size},
                       {"shared_bytes_per_sm", d.shared_bytes_per_sm}});
  return {
      {"kernelnet_version", KN_VERSION_STRING},
      {"cpu",
       {{"model_name", cpu.model_name},
        {"vendor", cpu.vendor},
        {"architecture", cpu.architecture},
        {"physical_cores", cpu.physical_cores},
        {"sockets", cpu.sockets},
        {"logical_cpus_online", cpu.logical_online},
        {"logical_cpus_available", cpu.logical_available},
        {"isa", isa_json(cpu.isa)},
        {"caches", caches}}},
      {"eigen",
       {{"version", eigen.version}, {"simd_in_use", eigen.simd}, {"compiled_for", isa_json(eigen.isa)},
        {"threads", eigen.threads}}},
      {"cuda",
       {{"built_with_cuda", gpu.built_with_cuda},
        {"available", gpu.available},
        {"unavailable_reason", gpu.unavailable_reason},
        {"runtime_version", kn::cuda::version_string(gpu.runtime_version)},
        {"driver_version", kn::cuda::version_string(gpu.driver_version)},
        {"device_count", gpu.device_count},
        {"current_device", gpu.current_device},
        {"devices", devices}}},
      {"cudnn", "not used"},
  };
}

void print_text(const kn::sysinfo::Cpu& cpu, const kn::sysinfo::EigenBuild& eigen, const kn::cuda::RuntimeInfo& gpu) {
  const bool arm = cpu.architecture.rfind("aarch64", 0) == 0 || cpu.architecture.rfind("arm", 0) == 0;
  std::printf("CPU\n");
  std::printf("  model            %s\n", or_unknown(cpu.model_name).c_str());
  std::printf("  vendor           %s\n", or_unknown(cpu.vendor).c_str());
  std::printf("  architecture     %s\n", or_unknown(cpu.architecture).c_str());
  if (cpu.physical_cores > 0)
    std::printf("  physical cores   %d (%d socket%s)\n", cpu.physical_cores, cpu.sockets, cpu.sockets == 1 ? "" : "s");
  else
    std::printf("  physical cores   not reported\n");
  std::printf("  logical CPUs     %d online, %d available to this process\n", cpu.logical_online,
              cpu.logical_available);
  std::string caches;
  for (auto& c : cpu.caches) {
    const char* t = c.type == "Data" ? "d" : c.type == "Instruction" ? "i" : "";
    caches += (caches.empty() ? "" : ", ") + std::string("L") + std::to_string(c.level) + t + " " +
              human_bytes(double(c.size_bytes)) + " x" + std::to_string(c.instances);
  }
  std::printf("  caches           %s\n", caches.empty() ? "not reported" : caches.c_str());
  std::printf("  the CPU has      %s\n", isa_text(cpu.isa, arm).c_str());
  std::printf("Eigen %s (the CPU backend)\n", eigen.version.c_str());
  std::printf("  compiled for     %s\n", isa_text(eigen.isa, arm).c_str());
  std::printf("  vector code      %s\n", eigen.simd.c_str());
  std::printf("  threads          %d\n", eigen.threads);
  std::printf("CUDA\n");
  if (!gpu.built_with_cuda) {
    std::printf("  available        no: %s\n", gpu.unavailable_reason.c_str());
  } else {
    std::printf("  runtime          %s (what kernelnet was built with)\n",
                kn::cuda::version_string(gpu.runtime_version).c_str());
    std::printf("  driver           %s\n", gpu.driver_version > 0
                                               ? ("supports CUDA " + kn::cuda::version_string(gpu.driver_version)).c_str()
                                               : "none found");
    if (!gpu.available) std::printf("  available        no: %s\n", gpu.unavailable_reason.c_str());
    else std::printf("  available        yes: %d device%s, current %d\n", gpu.device_count,
                     gpu.device_count == 1 ? "" : "s", gpu.current_device);
  }
  std::printf("  cuDNN            not used (kernelnet's kernels are its own)\n");
  for (auto& d : gpu.devices) {
    std::printf("GPU %d: %s\n", d.index, d.name.c_str());
    std::printf("  compute cap.     %d.%d (%s), %d SMs, %d threads per SM, warp %d\n", d.major, d.minor,
                kn::cuda::architecture_name(d.major, d.minor), d.sm_count, d.max_threads_per_sm, d.warp_size);
    std::printf("  memory           %s total, %s free, L2 %s, shared %s per SM\n",
                human_bytes(double(d.total_bytes)).c_str(), human_bytes(double(d.free_bytes)).c_str(),
                human_bytes(double(d.l2_bytes)).c_str(), human_bytes(double(d.shared_bytes_per_sm)).c_str());
    if (d.memory_clock_khz > 0 && d.bus_width_bits > 0)
      std::printf("  bandwidth        %.0f MHz x 2 (DDR) x %d-bit bus = %.0f GB/s theoretical\n",
                  d.memory_clock_khz / 1e3, d.bus_width_bits, d.peak_bandwidth_gbs());
    else
      std::printf("  bandwidth        memory clock or bus width not reported by the driver\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool as_json = false;
  CLI::App app{"What kernelnet runs on: the CPU and its vector instructions, Eigen's build, CUDA and the GPUs"};
  app.add_flag("--json", as_json, "Print JSON (for scripts)");
  if (const auto code = kn::cli::parse(app, argc, argv)) return *code;
  try {
    const kn::sysinfo::Cpu cpu = kn::sysinfo::read_cpu();
    const kn::sysinfo::EigenBuild eigen = kn::sysinfo::eigen_build();
    const kn::cuda::RuntimeInfo gpu = kn::cuda::runtime_info();
    if (as_json) std::printf("%s\n", to_json(cpu, eigen, gpu).dump(2).c_str());
    else print_text(cpu, eigen, gpu);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kn-info: error: %s\n", e.what());
    return 1;
  }
}
