// kn-info's readers (support/sysinfo.hpp, kn::cuda::runtime_info) against what the
// OS reports through other tools: nproc, grep over /proc/cpuinfo, the /sys topology.
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "sysinfo.hpp"
#include "test_util.hpp"

using namespace kn;

namespace {

// The output of a shell command, trailing newline removed.
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool linux_proc() { return std::ifstream("/proc/cpuinfo").good(); }

}  // namespace

TEST_CASE("sysinfo: logical CPUs match nproc and getconf", "[info]") {
  if (!linux_proc()) return;
  const sysinfo::Cpu cpu = sysinfo::read_cpu();
  // nproc counts the CPUs this process may run on, unless OMP_NUM_THREADS says otherwise.
  CHECK(std::to_string(cpu.logical_available) == shell("env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc"));
  CHECK(std::to_string(cpu.logical_online) == shell("getconf _NPROCESSORS_ONLN"));
  CHECK(cpu.logical_available <= cpu.logical_online);
}

TEST_CASE("sysinfo: model, vendor and ISA flags match /proc/cpuinfo", "[info]") {
  if (!linux_proc()) return;
  const sysinfo::Cpu cpu = sysinfo::read_cpu();
  const std::string model = shell("grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^[ \\t]*//'");
  CHECK(cpu.model_name == model);
  const std::string vendor = shell("grep -m1 '^vendor_id' /proc/cpuinfo | cut -d: -f2- | sed 's/^[ \\t]*//'");
  CHECK(cpu.vendor == vendor);
  CHECK(cpu.architecture == shell("uname -m"));
  // Each flag the CPU backend cares about, as grep -w finds it in the first flags line.
  auto grep_flag = [](const char* f) {
    return shell(std::string("grep -m1 -E '^(flags|Features)' /proc/cpuinfo | grep -cw ") + f) == "1";
  };
  CHECK(cpu.isa.sse4_2 == grep_flag("sse4_2"));
  CHECK(cpu.isa.avx2 == grep_flag("avx2"));
  CHECK(cpu.isa.fma == grep_flag("fma"));
  CHECK(cpu.isa.avx512f == grep_flag("avx512f"));
  CHECK(cpu.has("avx2") == cpu.isa.avx2);
}

TEST_CASE("sysinfo: physical cores are the distinct (physical id, core id) pairs", "[info]") {
  if (!linux_proc()) return;
  const sysinfo::Cpu cpu = sysinfo::read_cpu();
  const std::string pairs = shell(
      "awk -F: '/^physical id/ {p=$2} /^core id/ {print p \"/\" $2}' /proc/cpuinfo | sort -u | wc -l");
  if (pairs != "0") CHECK(std::to_string(cpu.physical_cores) == pairs);
  CHECK(cpu.physical_cores >= 1);
  CHECK(cpu.physical_cores <= cpu.logical_online);
  CHECK(cpu.sockets >= 1);
}

TEST_CASE("sysinfo: caches come from /sys, L1 to the last level", "[info]") {
  if (!linux_proc()) return;
  const sysinfo::Cpu cpu = sysinfo::read_cpu();
  if (!std::ifstream("/sys/devices/system/cpu/cpu0/cache/index0/size").good()) return;
  REQUIRE(!cpu.caches.empty());
  CHECK(cpu.caches.front().level == 1);
  for (auto& c : cpu.caches) {
    CHECK(c.size_bytes > 0);
    CHECK(c.instances >= 1);
    CHECK(c.shared_by >= 1);
  }
  // cpu0's L1 data cache, as the kernel writes it ("32K").
  const std::string l1d = shell("cat /sys/devices/system/cpu/cpu0/cache/index0/size");
  CHECK(cpu.caches.front().size_bytes == sysinfo::detail::parse_size(l1d));
}

TEST_CASE("sysinfo: parses cpuinfo text without x86 fields (AArch64)", "[info]") {
  std::istringstream arm("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32\n"
                         "CPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\nprocessor\t: 1\n");
  sysinfo::Cpu cpu;
  sysinfo::parse_cpuinfo(arm, cpu);
  CHECK(cpu.model_name.empty());  // not reported, and not guessed
  CHECK(cpu.vendor == "implementer 0x41");
  CHECK(cpu.has("asimd"));
  CHECK(cpu.physical_cores == 0);  // read_cpu() then asks /sys/devices/system/cpu/*/topology
  CHECK(sysinfo::detail::isa_from_flags(cpu.flags).neon);

  std::istringstream x86("processor : 0\nvendor_id : GenuineIntel\nmodel name : Intel(R) Xeon(R)\nphysical id : 0\n"
                         "core id : 0\nflags : fpu sse4_2 avx avx2 fma\nprocessor : 1\nphysical id : 0\ncore id : 0\n"
                         "flags : fpu sse4_2 avx avx2 fma\nprocessor : 2\nphysical id : 1\ncore id : 0\n");
  sysinfo::Cpu two;
  sysinfo::parse_cpuinfo(x86, two);
  CHECK(two.model_name == "Intel(R) Xeon(R)");
  CHECK(two.physical_cores == 2);  // two hyperthreads of core 0 on socket 0, core 0 on socket 1
  CHECK(two.sockets == 2);
  const auto isa = sysinfo::detail::isa_from_flags(two.flags);
  CHECK((isa.sse4_2 && isa.avx2 && isa.fma && !isa.avx512f));
}

TEST_CASE("sysinfo: sizes and CPU lists as /sys writes them", "[info]") {
  CHECK(sysinfo::detail::parse_size("32K") == 32768);
  CHECK(sysinfo::detail::parse_size("1024K") == 1 << 20);
  CHECK(sysinfo::detail::parse_size("32M") == 32 << 20);
  CHECK(sysinfo::detail::count_cpu_list("0-3,8,10-11") == 7);
  CHECK(sysinfo::detail::expand_cpu_list("0-2,5") == std::vector<int>{0, 1, 2, 5});
}

TEST_CASE("sysinfo: Eigen's build matches the compiler's ISA macros", "[info]") {
  const sysinfo::EigenBuild e = sysinfo::eigen_build();
  CHECK(e.version == "3." + std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION));
#ifdef __AVX2__
  CHECK(e.isa.avx2);
#else
  CHECK_FALSE(e.isa.avx2);
#endif
#ifdef __AVX512F__
  CHECK(e.isa.avx512f);
#endif
  CHECK(!e.simd.empty());
  CHECK(e.threads >= 1);
  // What this binary uses, the CPU must have (or it could not be running this test).
  if (linux_proc()) {
    const sysinfo::Cpu cpu = sysinfo::read_cpu();
    if (e.isa.avx2) CHECK(cpu.isa.avx2);
    if (e.isa.avx512f) CHECK(cpu.isa.avx512f);
  }
}

TEST_CASE("cuda info: architecture names and version strings", "[info]") {
  CHECK(std::string(cuda::architecture_name(9, 0)) == "Hopper");
  CHECK(std::string(cuda::architecture_name(8, 0)) == "Ampere");
  CHECK(std::string(cuda::architecture_name(8, 6)) == "Ampere");
  CHECK(std::string(cuda::architecture_name(8, 9)) == "Ada Lovelace");
  CHECK(std::string(cuda::architecture_name(7, 0)) == "Volta");
  CHECK(std::string(cuda::architecture_name(7, 5)) == "Turing");
  CHECK(std::string(cuda::architecture_name(10, 0)) == "Blackwell");
  CHECK(std::string(cuda::architecture_name(12, 0)) == "Blackwell");
  CHECK(cuda::version_string(13000) == "13.0");
  CHECK(cuda::version_string(12080) == "12.8");
  CHECK(cuda::version_string(0) == "none");
}

TEST_CASE("cuda info: says whether CUDA is there, and why not", "[info]") {
  const cuda::RuntimeInfo r = cuda::runtime_info();
  CHECK(r.available == cuda::is_available());
  CHECK(r.device_count == cuda::device_count());
#if KN_WITH_CUDA
  CHECK(r.built_with_cuda);
  CHECK(r.runtime_version > 0);
#else
  CHECK_FALSE(r.built_with_cuda);
  CHECK(r.unavailable_reason.find("built without CUDA") != std::string::npos);
#endif
  if (!r.available) {
    CHECK(!r.unavailable_reason.empty());
    CHECK(r.devices.empty());
    CHECK(r.current_device == -1);
  } else {
    REQUIRE(int(r.devices.size()) == r.device_count);
    CHECK(r.current_device >= 0);
    for (auto& d : r.devices) {
      CHECK(!d.name.empty());
      CHECK(d.major >= 3);
      CHECK(d.sm_count > 0);
      CHECK(d.free_bytes <= d.total_bytes);
      CHECK(d.warp_size == 32);
    }
  }
}
