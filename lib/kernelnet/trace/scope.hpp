// Where the calling thread is, for the trace: the Module calls in progress (ModuleScope),
// the autograd Node whose backward is running (BackwardScope), and the op being
// dispatched (Op). Every event a thread emits is labelled from here.
// See <kernelnet/trace.hpp> for the whole trace.
#pragma once
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <kernelnet/device.hpp>
#include <kernelnet/trace/event.hpp>
#include <kernelnet/trace/sink.hpp>

// The tracing paths: kept out of line and away from the hot code they interrupt.
#if defined(__GNUC__)
#define KN_TRACE_COLD __attribute__((noinline, cold))
#else
#define KN_TRACE_COLD
#endif

namespace kn::trace {

namespace detail {

struct Frame {
  std::string path;   // "MLP.fc1"
  std::string label;  // "MLP.fc1 (Linear 4→10)"
};
struct ThreadState {
  std::vector<Frame> frames;                     // the Module calls in progress
  const std::string* backward_module = nullptr;  // the running Node's label, during backward
  const char* backward_node = nullptr;
  std::string op;                // "gemm 120x10x4" while a dispatch runs (its launches carry it)
  const char* cpu_path = nullptr;  // the branch the running CPU op took (cpu_path())
};
inline ThreadState& state() {
  static thread_local ThreadState s;
  return s;
}

// "Linear(4→10)" -> "Linear 4→10": how a type reads inside the label's parentheses.
inline std::string type_label(const std::string& describe) {
  const auto open = describe.find('(');
  if (open == std::string::npos || open == 0 || describe.back() != ')') return describe;
  return describe.substr(0, open) + " " + describe.substr(open + 1, describe.size() - open - 2);
}

}  // namespace detail

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
// The path joins the registered names from the outermost Module called: "MLP.fc1"; the
// label adds the type: "MLP.fc1 (Linear 4→10)". Anything with name() and describe()
// (every kn::Module) can be pushed; while tracing is off this builds no string at all.
class ModuleScope {
 public:
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

// Called by a CPU op from inside the branch it takes, when it has several: the trace
// then says which ran ("register panel, computed transposed"). Off, one load of the flag.
inline void cpu_path(const char* branch) {
  if (enabled()) detail::state().cpu_path = branch;
}

// One dispatch (ops/*.hpp): `name` and `sizes` name the problem ("gemm 120x10x4").
// On the CPU the Op itself becomes the event, timed on the host; on a GPU it labels the
// launches it makes, which kernels/ reports.
//
// Off, an Op is one pointer, set to null after one load of the flag; the tracing work
// sits in begin() and end(), out of line, so the op around it compiles as if the trace
// were not there.
class Op {
 public:
  template <typename... Sizes>
  Op(Device d, const char* name, Sizes... sizes) {
    if (enabled()) begin(d, name, {int64_t(sizes)...});
  }
  ~Op() {
    if (state_) end();
  }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

 private:
  struct State {
    Event event;          // CPU: the event this op becomes
    std::string prev_op;  // the dispatch label to put back at the end
    std::chrono::steady_clock::time_point start;
  };
  KN_TRACE_COLD void begin(Device d, const char* name, std::initializer_list<int64_t> sizes) {
    state_ = new State;
    std::string op = name;
    bool first = true;
    for (int64_t v : sizes) {
      op += first ? " " : "x";
      op += std::to_string(v);
      first = false;
    }
    auto& s = detail::state();
    state_->event.kind = Kind::Op;
    state_->event.name = name;
    state_->event.op = op;
    state_->event.device = d;
    state_->prev_op = std::exchange(s.op, std::move(op));
    s.cpu_path = nullptr;
    state_->start = std::chrono::steady_clock::now();
  }
  KN_TRACE_COLD void end() {
    const auto stop = std::chrono::steady_clock::now();
    auto& s = detail::state();
    Event& e = state_->event;
    if (e.device.is_cpu()) {
      e.micros = std::chrono::duration<double, std::micro>(stop - state_->start).count();
      e.module = current_module();
      e.node = current_node();
      if (s.cpu_path) e.detail = s.cpu_path;
      emit(e);
    }
    s.cpu_path = nullptr;
    s.op = std::move(state_->prev_op);
    delete state_;
  }
  State* state_ = nullptr;
};

// An event of the given kind with the fields every backend event shares: where the
// calling thread is and the dispatch running.
inline Event event_here(Kind kind, Device device) {
  Event e;
  e.kind = kind;
  e.device = device;
  e.module = current_module();
  e.node = current_node();
  e.op = detail::state().op;
  return e;
}

}  // namespace kn::trace
