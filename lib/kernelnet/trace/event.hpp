// What the trace records: one Event per CPU op, kernel launch, copy, synchronisation or
// finished step, and how an Event or a step's counters (kn::Stats) read as one line.
// See <kernelnet/trace.hpp> for the whole trace.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

#include <kernelnet/counters.hpp>
#include <kernelnet/device.hpp>

namespace kn::trace {

enum class Kind {
  Op,      // a CPU op, timed on the host
  Launch,  // a CUDA kernel launch
  Copy,    // a copy host→device, device→host or device→device
  Sync,    // the host waiting for a device
  Step,    // the end of a traced step (trace::Step): `detail` holds its summary
};

struct Event {
  Kind kind = Kind::Op;
  std::string module;  // "MLP.fc1 (Linear 4→10) forward" or "... backward"; "" outside any Module
  std::string node;    // during backward: the autograd Node running ("LinearBackward")
  std::string name;    // Op: "gemm"; Launch: the kernel; Copy: "copy host→device"; Sync: "synchronize"; Step: its name
  std::string op;      // the dispatch and its sizes, "gemm 120x10x4" ("" for copies and syncs)
  std::string detail;  // Op: the branch the CPU backend took, when it has several (trace::cpu_path);
                       // Step: the summary line; Launch, Copy: a note ("captured into a CUDA graph,
                       // not run now": no time then)
  Device device;
  unsigned grid[3] = {0, 0, 0};   // Launch
  unsigned block[3] = {0, 0, 0};  // Launch
  int64_t bytes = 0;              // Copy
  bool synchronises = false;      // Copy: the host waited for it
  double micros = 0;  // Op: host time of the CPU op; Launch, Copy: device time between CUDA
                      // events; Sync: host time waiting; Step: the sum over the step's events
};

// Event::name of the three kinds of copy.
inline constexpr const char* kCopyToDevice = "copy host→device";
inline constexpr const char* kCopyToHost = "copy device→host";
inline constexpr const char* kCopyOnDevice = "copy device→device";

// A kernel as KN_LAUNCH (kernels/common.cuh) writes it, "(gemm_kernels::sgemm_tiny<TA, TB>)",
// -> "sgemm_tiny<TA, TB>", the trace's name (no parentheses or namespaces), and ->
// "sgemm_tiny", its base name, as after `__global__ void` (no template arguments either).
inline std::string kernel_name(const char* launch_text) {
  std::string s = launch_text;
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') s = s.substr(1, s.size() - 2);
  const auto colons = s.rfind("::", s.find('<'));
  if (colons != std::string::npos) s = s.substr(colons + 2);
  return s;
}
inline std::string kernel_base_name(const char* launch_text) {
  const std::string s = kernel_name(launch_text);
  return s.substr(0, s.find('<'));
}

namespace detail {
// <<<10,128>>> for 1-D shapes, <<<(1,8),(16,16)>>> for 2-D, as CUDA code writes them.
inline std::string dims(const unsigned d[3]) {
  if (d[1] == 1 && d[2] == 1) return std::to_string(d[0]);
  std::string s = "(" + std::to_string(d[0]) + "," + std::to_string(d[1]);
  if (d[2] != 1) s += "," + std::to_string(d[2]);
  return s + ")";
}
inline std::string micros(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, us < 10 ? "%.2f µs" : us < 1000 ? "%.1f µs" : "%.0f µs", us);
  return buf;
}
inline std::string bytes(int64_t b) {
  char buf[32];
  if (b < 10 * 1024) std::snprintf(buf, sizeof buf, "%lld B", (long long)b);
  else if (b < 10 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024.0));
  return buf;
}
}  // namespace detail

// One line: "<where> → <what> <duration>  (<dispatch>)".
inline std::string format(const Event& e) {
  if (e.kind == Kind::Step) return e.name + ": " + e.detail;
  std::string where = !e.module.empty() ? e.module
                      : !e.node.empty() ? e.node + " backward"
                                        : std::string("(outside any Module)");
  std::string what;
  switch (e.kind) {
    case Kind::Op: what = e.detail.empty() ? "CPU" : "CPU " + e.detail; break;
    case Kind::Launch:
      what = e.name + "<<<" + detail::dims(e.grid) + "," + detail::dims(e.block) + ">>>";
      if (!e.detail.empty()) what += " " + e.detail;
      break;
    case Kind::Copy:
      what = e.name + " " + detail::bytes(e.bytes) + (e.synchronises ? ", host waits" : "");
      if (!e.detail.empty()) what += " " + e.detail;
      break;
    case Kind::Sync: what = e.name + " " + e.device.str(); break;
    case Kind::Step: break;
  }
  std::string line = where + " → " + what + " " + detail::micros(e.micros);
  if (!e.op.empty()) line += "  (" + e.op + ")";
  return line;
}

// A step's counters: "15 CPU ops, 0 launches, 0 syncs, 0 B to device (0 copies), ...".
inline std::string format(const Stats& s) {
  std::string out;
  if (s.ops || !s.launches) out += std::to_string(s.ops) + " CPU ops, ";
  out += std::to_string(s.launches) + " launches, " + std::to_string(s.syncs) + " syncs, " +
         detail::bytes(s.h2d_bytes) + " to device (" + std::to_string(s.h2d_copies) + " copies), " +
         detail::bytes(s.d2h_bytes) + " to host (" + std::to_string(s.d2h_copies) + " copies)";
  if (s.d2d_copies) out += ", " + detail::bytes(s.d2d_bytes) + " on device (" + std::to_string(s.d2d_copies) + ")";
  return out + "; " + detail::micros(s.micros) + " in them";
}

}  // namespace kn::trace
