// The trace: KN_TRACE=1 (or kn::trace::enable()) logs every op, kernel launch, copy and
// synchronisation with the Module call that caused it, its shape and its duration. On the
// CPU backend (real output, kn-iris --trace-epochs 1):
//
//   [kn-trace] MLP.relu (ReLU) forward → Eigen y = x.cwiseMax(0) 0.32 µs  (relu_forward 1200)
//   [kn-trace] MLP.fc1 (Linear 4→10) backward → loop: db = sum of dy's rows, row by row 0.69 µs  (bias_grad 120x10)
//   [kn-trace] epoch 1: 15 CPU ops, 0 launches, 0 syncs, 0 B to device (0 copies), 0 B to host (0 copies); 37.7 µs in them
//
// On a GPU each launch is a line of the form
//   <module> forward → <kernel><<<grid,block>>> <device time> µs  (<dispatch> <sizes>)
// e.g. "MLP.fc1 (Linear 4→10) forward → sgemm_tiny<TA, TB><<<10,128>>> ... (gemm 120x10x4)".
//
// Where an event comes from:
//   - Module::operator() pushes a ModuleScope, so the ops its forward runs are labelled
//     "<path> (<type>) forward"; record() (autograd.hpp) copies that label into the
//     Node, and the backward pass runs each Node inside a BackwardScope, so the ops of
//     its backward are labelled "<path> (<type>) backward".
//   - Every dispatch in ops.hpp is an Op. On the CPU the Op itself is the event (the
//     Eigen expression it runs, timed on the host). On a GPU the Op names the launches
//     it makes: the launch helper (kernels/common.cuh) reports each launch, and
//     kernels/runtime.cu each copy and synchronisation, to kernels/trace.cu, which
//     times them with CUDA events.
//
// Cost. Off, each op, Module call, recorded Node and kernel launch pays one relaxed
// load of a flag; nothing else runs (docs/layers-to-kernels.md has the measurement).
// Built with -DKN_NO_TRACE (every translation unit) the flag is a constant false and the
// trace compiles away: that build is the baseline the measurement compares against.
// On, the trace is slow on purpose: a CUDA launch or copy waits for the device so that
// it can be timed (so launches no longer overlap the host), and each event takes a lock
// and formats a line.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <kernelnet/device.hpp>

// The tracing paths: kept out of line and away from the hot code they interrupt.
#if defined(__GNUC__)
#define KN_TRACE_COLD __attribute__((noinline, cold))
#else
#define KN_TRACE_COLD
#endif

namespace kn::trace {

enum class Kind {
  Op,      // a CPU op: the Eigen expression the CPU backend runs
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
  std::string detail;  // Op: the Eigen expression; Step: the summary line; Launch, Copy: a note
                       // ("captured into a CUDA graph, not run now": no time then)
  Device device;
  unsigned grid[3] = {0, 0, 0};   // Launch
  unsigned block[3] = {0, 0, 0};  // Launch
  int64_t bytes = 0;              // Copy
  bool synchronises = false;      // Copy: the host waited for it
  double micros = 0;  // Op: host time of the Eigen call; Launch, Copy: device time between CUDA
                      // events; Sync: host time waiting; Step: the sum over the step's events
};

// What a step did: counted while tracing, from the events themselves.
struct Summary {
  int64_t ops = 0;       // CPU ops
  int64_t launches = 0;  // CUDA kernel launches
  int64_t syncs = 0;     // host waits on a device (the trace's own waits are not counted)
  int64_t h2d_copies = 0, h2d_bytes = 0;
  int64_t d2h_copies = 0, d2h_bytes = 0;
  int64_t d2d_copies = 0, d2d_bytes = 0;
  double micros = 0;     // summed durations of the events above
};

inline std::string format(const Event& e);
inline std::string format(const Summary& s);

// Event::name of the three kinds of copy.
inline constexpr const char* kCopyToDevice = "copy host→device";
inline constexpr const char* kCopyToHost = "copy device→host";
inline constexpr const char* kCopyOnDevice = "copy device→device";

namespace detail {

#ifdef KN_NO_TRACE
constexpr bool kCompiledIn = false;
#else
constexpr bool kCompiledIn = true;
#endif

inline bool env_on() {
  const char* v = std::getenv("KN_TRACE");
  return v && *v && std::string(v) != "0";
}
// A namespace-scope variable, not a function-local static: reading it needs no
// "initialised yet?" guard, so the check in every op is the one load. (Read during
// another file's static initialisation it may still be false: tracing starts after.)
inline std::atomic<bool> on{kCompiledIn && env_on()};
inline std::atomic<bool>& flag() { return on; }

// Shared by every thread: the sink and the running summary, behind one lock.
struct Shared {
  std::mutex mutex;
  std::function<void(const Event&)> sink;
  Summary summary;
};
inline Shared& shared() {
  static Shared s;
  return s;
}

// Per thread: the Module calls in progress, the Node whose backward is running, and
// (on a GPU) the dispatch whose kernels are being launched.
struct Frame {
  std::string path;   // "MLP.fc1"
  std::string label;  // "MLP.fc1 (Linear 4→10)"
};
struct ThreadState {
  std::vector<Frame> frames;
  const std::string* backward_module = nullptr;  // the running Node's label, during backward
  const char* backward_node = nullptr;
  std::string op;  // "gemm 120x10x4" while a CUDA dispatch launches its kernels
};
inline ThreadState& state() {
  static thread_local ThreadState s;
  return s;
}

inline void count(Summary& s, const Event& e) {
  switch (e.kind) {
    case Kind::Op: ++s.ops; break;
    case Kind::Launch: ++s.launches; break;
    case Kind::Sync: ++s.syncs; break;
    case Kind::Copy:
      if (e.name == kCopyToDevice) ++s.h2d_copies, s.h2d_bytes += e.bytes;
      else if (e.name == kCopyToHost) ++s.d2h_copies, s.d2h_bytes += e.bytes;
      else ++s.d2d_copies, s.d2d_bytes += e.bytes;
      if (e.synchronises) ++s.syncs;
      break;
    case Kind::Step: return;
  }
  s.micros += e.micros;
}

inline void default_sink(const Event& e) { std::fprintf(stderr, "[kn-trace] %s\n", format(e).c_str()); }

// "Linear(4→10)" -> "Linear 4→10": how a type reads inside the label's parentheses.
inline std::string type_label(const std::string& describe) {
  const auto open = describe.find('(');
  if (open == std::string::npos || open == 0 || describe.back() != ')') return describe;
  return describe.substr(0, open) + " " + describe.substr(open + 1, describe.size() - open - 2);
}

inline void append_sizes(std::string& s, std::initializer_list<int64_t> sizes) {
  bool first = true;
  for (int64_t v : sizes) {
    s += first ? " " : "x";
    s += std::to_string(v);
    first = false;
  }
}

}  // namespace detail

// --- On and off.
inline bool enabled() { return detail::kCompiledIn && detail::flag().load(std::memory_order_relaxed); }
inline void enable(bool on = true) { detail::flag().store(detail::kCompiledIn && on, std::memory_order_relaxed); }

// Where events go: stderr, one line each, unless replaced. The sink runs under the
// trace's lock, one event at a time; it must not run ops itself. Returns the old sink.
inline std::function<void(const Event&)> set_sink(std::function<void(const Event&)> sink) {
  auto& sh = detail::shared();
  std::lock_guard<std::mutex> lock(sh.mutex);
  return std::exchange(sh.sink, std::move(sink));
}

// Sends an event to the sink and counts it in the running summary. The backends call
// this; user code that launches its own work can too.
inline void emit(const Event& e) {
  auto& sh = detail::shared();
  std::lock_guard<std::mutex> lock(sh.mutex);
  detail::count(sh.summary, e);
  if (sh.sink) sh.sink(e);
  else detail::default_sink(e);
}

// The summary since the last call (or since tracing began), and a fresh one started.
inline Summary step_summary() {
  auto& sh = detail::shared();
  std::lock_guard<std::mutex> lock(sh.mutex);
  return std::exchange(sh.summary, Summary{});
}

// --- Where the calling thread is.

// "MLP.fc1 (Linear 4→10) forward" inside fc1's forward, "MLP.fc1 (Linear 4→10) backward"
// inside the backward of a Node fc1 recorded, "" elsewhere.
inline std::string current_module() {
  const auto& s = detail::state();
  if (s.backward_node) return s.backward_module->empty() ? std::string() : *s.backward_module + " backward";
  return s.frames.empty() ? std::string() : s.frames.back().label + " forward";
}
// The autograd Node whose backward is running ("" outside backward).
inline const char* current_node() {
  const char* n = detail::state().backward_node;
  return n ? n : "";
}
// What a Node recorded now should be attributed to: "MLP.fc1 (Linear 4→10)", or "".
inline std::string module_for_node() {
  const auto& s = detail::state();
  return s.frames.empty() ? std::string() : s.frames.back().label;
}

// Pushed by Module::operator() while tracing, so that ops know which layer called them.
// `label` is Module::trace_label(): "fc1 (Linear(4→10))" for a registered module,
// "MLP" for a top-level one. The path joins the registered names from the outermost
// Module called: "MLP.fc1".
class ModuleScope {
 public:
  explicit ModuleScope(const std::string& label) : active_(enabled()) {
    if (!active_) return;
    const auto open = label.find(" (");
    if (open != std::string::npos && label.back() == ')')
      push(label.substr(0, open), label.substr(open + 2, label.size() - open - 3));
    else
      push(std::string(), label);
  }
  ModuleScope(const std::string& name, const std::string& describe) : active_(enabled()) {
    if (active_) push(name, describe);
  }
  // From the Module itself (anything with name() and describe()): builds no string at
  // all while tracing is off, so Module::operator() can write `ModuleScope scope(*this);`.
  template <typename M, typename = decltype(std::declval<const M&>().describe())>
  explicit ModuleScope(const M& module) : active_(enabled()) {
    if (active_) push(module.name(), module.describe());
  }
  ~ModuleScope() {
    if (active_) detail::state().frames.pop_back();
  }
  ModuleScope(const ModuleScope&) = delete;
  ModuleScope& operator=(const ModuleScope&) = delete;

 private:
  static void push(const std::string& name, const std::string& describe) {
    auto& frames = detail::state().frames;
    const std::string type = detail::type_label(describe);
    const std::string own = name.empty() ? type : name;
    detail::Frame f;
    f.path = frames.empty() ? own : frames.back().path + "." + own;
    f.label = name.empty() ? f.path : f.path + " (" + type + ")";
    frames.push_back(std::move(f));
  }
  bool active_;
};

// Around one Node's backward (autograd.hpp): `module` is what the Node recorded.
class BackwardScope {
 public:
  BackwardScope(const std::string& module, const char* node) : active_(enabled()) {
    if (!active_) return;
    auto& s = detail::state();
    prev_module_ = std::exchange(s.backward_module, &module);
    prev_node_ = std::exchange(s.backward_node, node);
  }
  ~BackwardScope() {
    if (!active_) return;
    auto& s = detail::state();
    s.backward_module = prev_module_;
    s.backward_node = prev_node_;
  }
  BackwardScope(const BackwardScope&) = delete;
  BackwardScope& operator=(const BackwardScope&) = delete;

 private:
  bool active_;
  const std::string* prev_module_ = nullptr;
  const char* prev_node_ = nullptr;
};

// What kn::cpu::gemm runs (cpu/ops.hpp), for the trace: for outputs at most 16 wide its
// own row-panel loop (Eigen's GEMM packs its operands first, which costs more than a
// 4-10-3 MLP's maths), otherwise Eigen's product.
inline std::string cpu_gemm_expr(bool transA, bool transB, float alpha, float beta, bool narrow) {
  if (narrow)
    return std::string("loop: row-panel GEMM, N accumulators per row of C") + (transB ? ", B^T packed first" : "");
  const std::string a = transA ? "a.transpose()" : "a", b = transB ? "b.transpose()" : "b";
  if (beta == 0.0f) return "c.noalias() = " + a + " * " + b + (alpha != 1.0f ? "; c *= alpha" : "");
  return std::string(beta != 1.0f ? "c *= beta; " : "") + "c.noalias() += " + (alpha != 1.0f ? "alpha * " : "") + a +
         " * " + b;
}

// One dispatch (ops.hpp). `cpu_expr` is called only while tracing, and only on the CPU:
// it returns the Eigen expression. `sizes` name the problem ("120x10x4").
//
// Off, an Op is one pointer, set to null after one load of the flag; the tracing work
// sits in begin() and end(), out of line, so the op around it compiles as if the trace
// were not there.
class Op {
 public:
  template <typename Expr, typename... Sizes>
  Op(Device d, const char* name, Expr&& cpu_expr, Sizes... sizes) {
    if (enabled()) begin(d, name, d.is_cpu() ? std::string(cpu_expr()) : std::string(), {int64_t(sizes)...});
  }
  ~Op() {
    if (state_) end();
  }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

 private:
  struct State {
    Event event;          // CPU: the event this op becomes
    std::string prev_op;  // CUDA: the dispatch its launches carry, put back at the end
    std::chrono::steady_clock::time_point start;
  };
  KN_TRACE_COLD void begin(Device d, const char* name, std::string expr, std::initializer_list<int64_t> sizes) {
    state_ = new State;
    std::string op = name;
    detail::append_sizes(op, sizes);
    if (d.is_cpu()) {
      state_->event.kind = Kind::Op;
      state_->event.name = name;
      state_->event.op = std::move(op);
      state_->event.detail = std::move(expr);
      state_->event.device = d;
      state_->start = std::chrono::steady_clock::now();
    } else {
      state_->prev_op = std::exchange(detail::state().op, std::move(op));
    }
  }
  KN_TRACE_COLD void end() {
    Event& e = state_->event;
    if (e.device.is_cpu() && !e.name.empty()) {
      e.micros = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - state_->start).count();
      e.module = current_module();
      e.node = current_node();
      emit(e);
    } else {
      detail::state().op = std::move(state_->prev_op);
    }
    delete state_;
  }
  State* state_ = nullptr;
};

// The fields every backend event shares: where the calling thread is.
inline Event event_here(Kind kind, Device device) {
  Event e;
  e.kind = kind;
  e.device = device;
  e.module = current_module();
  e.node = current_node();
  e.op = detail::state().op;
  return e;
}

// A training step, e.g. an epoch. While it lives, tracing is on if it was already on
// or if `trace_this`; at its end, when tracing, it emits a Step event with the
// summary of what the step did, and puts the flag back as it found it.
//   for (int epoch = 1; ...) { kn::trace::Step step(epoch <= trace_epochs, "epoch", epoch); ... }
class Step {
 public:
  Step(bool trace_this, const char* name, int64_t index = -1) : was_on_(enabled()) {
    if (trace_this && !was_on_) enable(true);
    on_ = enabled();
    if (!on_) return;
    name_ = name;
    index_ = index;
    step_summary();  // start counting here
  }
  ~Step() {
    if (!on_) return;
    Event e;
    e.kind = Kind::Step;
    e.name = index_ >= 0 ? std::string(name_) + " " + std::to_string(index_) : std::string(name_);
    const Summary s = step_summary();
    e.detail = format(s);
    e.micros = s.micros;
    emit(e);
    if (!was_on_) enable(false);
  }
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;

 private:
  bool was_on_, on_ = false;
  const char* name_ = "";
  int64_t index_ = -1;
};

// Collects events in memory instead of printing them, and turns tracing on, while it
// lives (tests, and programs that analyse their own trace). Not for use from two
// threads at once.
class Capture {
 public:
  Capture() : was_on_(enabled()) {
    old_sink_ = set_sink([this](const Event& e) { events_.push_back(e); });
    enable(true);
    step_summary();
  }
  ~Capture() {
    enable(was_on_);
    set_sink(std::move(old_sink_));
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  // Taken under the trace's lock: safe while other threads trace.
  std::vector<Event> events() const {
    std::lock_guard<std::mutex> lock(detail::shared().mutex);
    return events_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(detail::shared().mutex);
    events_.clear();
  }

 private:
  bool was_on_;
  std::function<void(const Event&)> old_sink_;
  std::vector<Event> events_;
};

// --- Formatting.

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
    case Kind::Op: what = e.detail.rfind("loop:", 0) == 0 ? e.detail : "Eigen " + e.detail; break;
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

inline std::string format(const Summary& s) {
  std::string out;
  if (s.ops || !s.launches) out += std::to_string(s.ops) + " CPU ops, ";
  out += std::to_string(s.launches) + " launches, " + std::to_string(s.syncs) + " syncs, " +
         detail::bytes(s.h2d_bytes) + " to device (" + std::to_string(s.h2d_copies) + " copies), " +
         detail::bytes(s.d2h_bytes) + " to host (" + std::to_string(s.d2h_copies) + " copies)";
  if (s.d2d_copies) out += ", " + detail::bytes(s.d2d_bytes) + " on device (" + std::to_string(s.d2d_copies) + ")";
  return out + "; " + detail::micros(s.micros) + " in them";
}

}  // namespace kn::trace
