// kn::sysinfo: the machine the CPU backend runs on, read from Linux (/proc/cpuinfo,
// /sys/devices/system/cpu, uname, the affinity mask), and the instruction sets Eigen
// was compiled to use. kn-info prints it; the GPU half is kn::cuda::runtime_info().
//
// Everything is read, nothing assumed: a field the system does not report stays empty
// (or 0) and kn-info says "not reported".
#pragma once
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace kn::sysinfo {

// The instruction sets that matter to the CPU backend (Eigen's vector code).
struct Isa {
  bool sse4_2 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool neon = false;  // AArch64: "asimd" in /proc/cpuinfo
};

struct Cache {
  int level = 0;
  std::string type;        // "Data", "Instruction", "Unified"
  int64_t size_bytes = 0;  // one instance
  int instances = 0;       // how many the online CPUs have between them
  int shared_by = 0;       // logical CPUs sharing one instance
};

struct Cpu {
  std::string model_name;    // "AMD EPYC 9654 96-Core Processor"
  std::string vendor;        // "AuthenticAMD", "GenuineIntel"
  std::string architecture;  // uname -m: "x86_64", "aarch64"
  std::set<std::string> flags;
  Isa isa;                     // what the CPU can run, from its flags
  int physical_cores = 0;      // distinct (socket, core) pairs; 0 when not reported
  int sockets = 0;
  int logical_online = 0;      // logical CPUs online (hardware threads)
  int logical_available = 0;   // of those, the ones this process may run on (what nproc says)
  std::vector<Cache> caches;   // L1d, L1i, L2, L3, ...
  bool has(const std::string& flag) const { return flags.count(flag) != 0; }
};

// How this translation unit was compiled: the ISA Eigen vectorises for. (kn-info is
// built with the flags of kernelnet's apps and tests, so this is what they use; a user's
// program built with other flags gets what its own flags allow.)
struct EigenBuild {
  std::string version;  // "3.4.0"
  std::string simd;     // Eigen::SimdInstructionSetsInUse()
  Isa isa;
  int threads = 1;      // Eigen::nbThreads(): more than 1 only with OpenMP
};

namespace detail {

inline std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

inline std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return trim(line);
}

// "32K" -> 32768, "1024K", "32M", "512" (bytes).
inline int64_t parse_size(const std::string& s) {
  if (s.empty()) return 0;
  int64_t v = 0;
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  const char unit = i < s.size() ? s[i] : 'B';
  return unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : unit == 'G' ? v << 30 : v;
}

// "0-3,8,10-11" -> 7
inline int count_cpu_list(const std::string& list) {
  int n = 0;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    part = trim(part);
    if (part.empty()) continue;
    const auto dash = part.find('-');
    if (dash == std::string::npos) ++n;
    else n += std::stoi(part.substr(dash + 1)) - std::stoi(part.substr(0, dash)) + 1;
  }
  return n;
}

// "0-3,8" -> {0, 1, 2, 3, 8}
inline std::vector<int> expand_cpu_list(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    part = trim(part);
    if (part.empty()) continue;
    const auto dash = part.find('-');
    const int lo = std::stoi(part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  return out;
}

inline Isa isa_from_flags(const std::set<std::string>& flags) {
  Isa i;
  i.sse4_2 = flags.count("sse4_2");
  i.avx = flags.count("avx");
  i.avx2 = flags.count("avx2");
  i.fma = flags.count("fma");
  i.avx512f = flags.count("avx512f");
  i.neon = flags.count("asimd") || flags.count("neon");
  return i;
}

}  // namespace detail

// Parses /proc/cpuinfo-format text: the first processor's model, vendor and flags, and
// the distinct (physical id, core id) pairs over all processors.
inline void parse_cpuinfo(std::istream& in, Cpu& cpu) {
  std::string line, physical;
  std::set<std::pair<std::string, std::string>> cores;
  std::set<std::string> sockets;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = detail::trim(line.substr(0, colon)), value = detail::trim(line.substr(colon + 1));
    if ((key == "model name" || key == "Model Name") && cpu.model_name.empty()) cpu.model_name = value;
    else if (key == "vendor_id" && cpu.vendor.empty()) cpu.vendor = value;
    else if (key == "CPU implementer" && cpu.vendor.empty()) cpu.vendor = "implementer " + value;
    else if ((key == "flags" || key == "Features") && cpu.flags.empty()) {
      std::stringstream ss(value);
      std::string f;
      while (ss >> f) cpu.flags.insert(f);
    } else if (key == "physical id") {
      physical = value;
      sockets.insert(value);
    } else if (key == "core id") {
      cores.insert({physical, value});
    }
  }
  cpu.physical_cores = int(cores.size());
  cpu.sockets = int(sockets.size());
}

// The caches of the online CPUs, from /sys/devices/system/cpu/cpuN/cache/indexM.
inline std::vector<Cache> read_caches(const std::string& sys_cpu, const std::vector<int>& online) {
  // (level, type) -> the distinct shared_cpu_lists seen, and one instance's size.
  std::map<std::pair<int, std::string>, std::pair<std::set<std::string>, Cache>> found;
  for (int c : online) {
    for (int index = 0;; ++index) {
      const std::string dir = sys_cpu + "/cpu" + std::to_string(c) + "/cache/index" + std::to_string(index);
      const std::string level = detail::read_line(dir + "/level");
      if (level.empty()) break;
      Cache k;
      k.level = std::stoi(level);
      k.type = detail::read_line(dir + "/type");
      k.size_bytes = detail::parse_size(detail::read_line(dir + "/size"));
      const std::string shared = detail::read_line(dir + "/shared_cpu_list");
      k.shared_by = detail::count_cpu_list(shared);
      auto& entry = found[{k.level, k.type}];
      if (entry.first.empty()) entry.second = k;
      entry.first.insert(shared.empty() ? std::to_string(c) : shared);
    }
  }
  std::vector<Cache> out;
  for (auto& [key, entry] : found) {
    Cache k = entry.second;
    k.instances = int(entry.first.size());
    out.push_back(k);
  }
  // L1d before L1i, as lscpu lists them.
  std::stable_sort(out.begin(), out.end(), [](const Cache& a, const Cache& b) {
    return a.level != b.level ? a.level < b.level : a.type < b.type;
  });
  return out;
}

// Reads everything about the CPU. The paths are parameters so that tests can point them
// at fixtures.
inline Cpu read_cpu(const std::string& cpuinfo = "/proc/cpuinfo", const std::string& sys_cpu = "/sys/devices/system/cpu") {
  Cpu cpu;
  {
    std::ifstream f(cpuinfo);
    parse_cpuinfo(f, cpu);
  }
  cpu.isa = detail::isa_from_flags(cpu.flags);
  utsname u{};
  if (uname(&u) == 0) cpu.architecture = u.machine;

  std::vector<int> online = detail::expand_cpu_list(detail::read_line(sys_cpu + "/online"));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  cpu.logical_online = online.empty() ? int(n > 0 ? n : 0) : int(online.size());
  if (online.empty())
    for (int c = 0; c < cpu.logical_online; ++c) online.push_back(c);
  cpu_set_t set;
  CPU_ZERO(&set);
  cpu.logical_available = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : cpu.logical_online;

  // No "physical id"/"core id" in /proc/cpuinfo (AArch64): the topology in /sys instead.
  if (cpu.physical_cores == 0) {
    std::set<std::pair<std::string, std::string>> cores;
    std::set<std::string> sockets;
    for (int c : online) {
      const std::string dir = sys_cpu + "/cpu" + std::to_string(c) + "/topology";
      const std::string pkg = detail::read_line(dir + "/physical_package_id"), core = detail::read_line(dir + "/core_id");
      if (core.empty()) continue;
      cores.insert({pkg, core});
      sockets.insert(pkg);
    }
    cpu.physical_cores = int(cores.size());
    cpu.sockets = int(sockets.size());
  }
  cpu.caches = read_caches(sys_cpu, online);
  return cpu;
}

inline EigenBuild eigen_build() {
  EigenBuild e;
  e.version = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
              std::to_string(EIGEN_MINOR_VERSION);
  e.simd = Eigen::SimdInstructionSetsInUse();
#ifdef EIGEN_VECTORIZE_SSE4_2
  e.isa.sse4_2 = true;
#endif
#ifdef EIGEN_VECTORIZE_AVX
  e.isa.avx = true;
#endif
#ifdef EIGEN_VECTORIZE_AVX2
  e.isa.avx2 = true;
#endif
#ifdef EIGEN_VECTORIZE_FMA
  e.isa.fma = true;
#endif
#ifdef EIGEN_VECTORIZE_AVX512
  e.isa.avx512f = true;
#endif
#ifdef EIGEN_VECTORIZE_NEON
  e.isa.neon = true;
#endif
  e.threads = Eigen::nbThreads();
  return e;
}

}  // namespace kn::sysinfo
