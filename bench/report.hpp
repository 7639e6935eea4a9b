// How kn-bench reports: Markdown tables on stdout (paste them into docs/ as they are),
// the same numbers in JSON (--out), and a line saying so whenever the GPU part is skipped.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <kernelnet/cpu/threads.hpp>
#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/io.hpp>
#include <kernelnet/version.hpp>

#include "bench.hpp"
#include "gpu.hpp"
#include "timing.hpp"

namespace kn::bench {

using nlohmann::json;

// ---- Numbers as text --------------------------------------------------------------

inline std::string fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
// Microseconds with enough digits to read: 0.042, 3.41, 56.2, 1234
inline std::string us(double seconds) {
  const double u = seconds * 1e6, a = std::fabs(u);
  return fixed(u, a < 1 ? 3 : a < 10 ? 2 : a < 1000 ? 1 : 0);
}
// "min / median / p90" in microseconds
inline std::string spread_us(const Spread& s) { return us(s.min) + " / " + us(s.median) + " / " + us(s.p90); }
inline std::string bytes_str(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return (b == std::floor(b) ? fixed(b, 0) : fixed(b, 1)) + " " + units[u];
}
// Per second in billions: rate(2.5e10, "GB/s") is "25.0 GB/s".
inline std::string rate(double per_second, const char* unit) {
  return fixed(per_second / 1e9, per_second < 1e10 ? 2 : 1) + " " + unit;
}

// ---- Tables -----------------------------------------------------------------------

// A table printed as Markdown, columns padded so it also reads well in a terminal.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) {
    row.resize(rows_[0].size());
    rows_.push_back(std::move(row));
  }
  std::string markdown() const {
    std::vector<size_t> w(rows_[0].size(), 3);
    for (const auto& r : rows_)
      for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], display_width(r[c]));
    std::string out;
    for (size_t i = 0; i < rows_.size(); ++i) {
      out += "|";
      for (size_t c = 0; c < w.size(); ++c)
        out += " " + rows_[i][c] + std::string(w[c] - display_width(rows_[i][c]), ' ') + " |";
      out += "\n";
      if (i == 0) {
        out += "|";
        for (size_t c = 0; c < w.size(); ++c) out += std::string(w[c] + 2, '-') + "|";
        out += "\n";
      }
    }
    return out;
  }
  void print(const std::string& title) const {
    std::printf("\n### %s\n\n%s", title.c_str(), markdown().c_str());
    std::fflush(stdout);
  }

 private:
  // Characters, not bytes: "×" and "→" are one column wide on a terminal.
  static size_t display_width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }
  std::vector<std::vector<std::string>> rows_;
};

// ---- The machine ------------------------------------------------------------------

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

// The last-level cache of one core's complex (what one thread can keep data in); used to
// size input rotation so that CPU numbers are not flattered by a cache the data would
// not fit in during real training.
inline std::size_t cpu_llc_bytes() {
  for (const char* path :
       {"/sys/devices/system/cpu/cpu0/cache/index3/size", "/sys/devices/system/cpu/cpu0/cache/index2/size"}) {
    std::ifstream in(path);
    std::size_t kib = 0;
    char unit = 0;
    if (in >> kib >> unit && unit == 'K' && kib > 0) return kib * 1024;
  }
  return std::size_t(32) << 20;
}

// Empty when the GPU part can run; otherwise why not.
inline std::string gpu_skip_reason() {
  return kn::cuda::is_available() ? std::string() : kn::cuda::unavailable_reason();
}

// Says that the GPU part was skipped (the line the tests look for) and what goes in the JSON.
inline json gpu_skipped(const std::string& why) {
  std::printf("\nGPU part skipped: %s\n", why.c_str());
  std::fflush(stdout);
  return json{{"available", false}, {"skipped", why}};
}

inline json machine() {
  const kn::cuda::RuntimeInfo rt = kn::cuda::runtime_info();  // what kn-info reports
  json m{{"cpu", cpu_model()},
         {"hardware_threads", std::thread::hardware_concurrency()},
         {"eigen_threads", Eigen::nbThreads()},
         {"threads", kn::get_num_threads()},  // kn-bench --threads: the CPU backend's big GEMMs
         {"cpu_llc_bytes", cpu_llc_bytes()},
         {"kernelnet_version", KN_VERSION_STRING},
         {"built_with_cuda", rt.built_with_cuda},
         {"cuda_runtime", kn::cuda::version_string(rt.runtime_version)},
         {"cuda_driver", kn::cuda::version_string(rt.driver_version)},
         {"gpu", nullptr}};
  if (rt.available && !rt.devices.empty()) {
    const kn::cuda::DeviceProperties& d = rt.devices[0];
    m["gpu"] = json{{"name", d.name},
                    {"compute_capability", std::to_string(d.major) + "." + std::to_string(d.minor)},
                    {"sm_count", d.sm_count},
                    {"memory_bytes", d.total_bytes},
                    {"l2_bytes", d.l2_bytes},
                    {"peak_bandwidth_gb_per_s", d.peak_bandwidth_gbs()}};
  }
  return m;
}

// The GPU's L2 cache (device 0), for sizing input rotation.
inline double gpu_l2_bytes() {
  const kn::cuda::RuntimeInfo rt = kn::cuda::runtime_info();
  return rt.devices.empty() ? 0.0 : double(rt.devices[0].l2_bytes);
}

// What every JSON result starts with: which bench, how big a run, the machine.
inline json header(const std::string& bench, const Common& c) {
  return json{{"bench", bench}, {"quick", c.quick}, {"seconds_per_measurement", c.seconds}, {"machine", machine()}};
}

// ---- Files ------------------------------------------------------------------------

inline void write_json(const std::string& path, const json& j) {
  if (path.empty()) return;
  kn::io::write_text_atomic(path, j.dump(2) + "\n");
  std::printf("wrote %s\n", path.c_str());
}
inline void write_svg(const std::string& path, const std::string& svg) {
  if (path.empty()) return;
  kn::io::write_text_atomic(path, svg);
  std::printf("wrote %s\n", path.c_str());
}

}  // namespace kn::bench
