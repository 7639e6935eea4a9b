// The op trace: KN_TRACE=1 (or kn::trace::enable()) logs every op with the Module
// path that caused it, its sizes and its duration.
//
// Off, an op pays one relaxed load of a flag: nothing else runs.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <kernelnet/device.hpp>

namespace kn::trace {

struct Event {
  std::string module;  // "MLP.fc1 (Linear 4→10) forward", or "" outside any Module call
  std::string op;      // dispatch name: "gemm", "relu_forward", ...
  std::string detail;  // CPU: the Eigen expression; sizes
  Device device;
  double micros = 0;   // host wall time of the op (CPU: its work; CUDA: its launch)
};

namespace detail {
inline std::atomic<bool>& flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("KN_TRACE");
    return v && *v && std::string(v) != "0";
  }()};
  return on;
}
inline thread_local std::vector<std::string> module_stack;
inline thread_local std::string phase = "forward";
inline std::function<void(const Event&)>& sink() {
  static std::function<void(const Event&)> s = [](const Event& e) {
    std::fprintf(stderr, "[kn-trace] %s%s%s [%s] %s %.1f us\n", e.module.c_str(), e.module.empty() ? "" : " → ",
                 e.op.c_str(), e.device.str().c_str(), e.detail.c_str(), e.micros);
  };
  return s;
}
}  // namespace detail

inline bool enabled() { return detail::flag().load(std::memory_order_relaxed); }
inline void enable(bool on = true) { detail::flag().store(on, std::memory_order_relaxed); }
// Replace where events go (stderr by default).
inline void set_sink(std::function<void(const Event&)> sink) { detail::sink() = std::move(sink); }

inline std::string current_module() {
  const auto& s = detail::module_stack;
  return s.empty() ? std::string() : s.back() + " " + detail::phase;
}

// Pushed by Module::operator() while tracing, so ops know which layer called them.
struct ModuleScope {
  bool active;
  explicit ModuleScope(const std::string& label) : active(enabled()) {
    if (!active) return;
    auto& s = detail::module_stack;
    s.push_back(s.empty() ? label : s.back().substr(0, s.back().find(' ')) + "." + label);
  }
  ~ModuleScope() {
    if (active) detail::module_stack.pop_back();
  }
};

inline const char* cpu_gemm_name(bool transA, bool transB) {
  static const char* names[4] = {"C = A * B", "C = A * B^T", "C = A^T * B", "C = A^T * B^T"};
  return names[(transA ? 2 : 0) + (transB ? 1 : 0)];
}

// One op, timed while tracing.
class Op {
 public:
  Op(Device d, const char* op, const char* cpu_expr, int64_t a = -1, int64_t b = -1, int64_t c = -1)
      : on_(enabled()) {
    if (!on_) return;
    device_ = d;
    op_ = op;
    detail_ = d.is_cpu() ? std::string(cpu_expr) : std::string();
    for (int64_t v : {a, b, c})
      if (v >= 0) sizes_ += (sizes_.empty() ? "" : "x") + std::to_string(v);
    start_ = std::chrono::steady_clock::now();
  }
  ~Op() {
    if (!on_) return;
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count();
    detail::sink()(Event{current_module(), op_, detail_ + (detail_.empty() ? "" : " ") + sizes_, device_, us});
  }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

 private:
  bool on_;
  Device device_;
  const char* op_ = "";
  std::string detail_, sizes_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace kn::trace
