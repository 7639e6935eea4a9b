// The trace's switch and where its events go: on and off (KN_TRACE=1, enable(), a traced
// Step), the sink, the running counters of the current step, and Recorder, which keeps
// events in memory. See <kernelnet/trace.hpp> for the whole trace.
#pragma once
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <kernelnet/counters.hpp>
#include <kernelnet/trace/event.hpp>

namespace kn::trace {

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

// Shared by every thread: the sink and the running counters, behind one lock.
struct Shared {
  std::mutex mutex;
  std::function<void(const Event&)> sink;
  Stats counters;
};
inline Shared& shared() {
  static Shared s;
  return s;
}

inline void count(Stats& s, const Event& e) {
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

}  // namespace detail

// --- On and off.
inline bool enabled() { return detail::kCompiledIn && detail::on.load(std::memory_order_relaxed); }
inline void enable(bool on = true) { detail::on.store(detail::kCompiledIn && on, std::memory_order_relaxed); }

// Where events go: stderr, one line each, unless replaced. The sink runs under the
// trace's lock, one event at a time; it must not run ops itself. Returns the old sink.
inline std::function<void(const Event&)> set_sink(std::function<void(const Event&)> sink) {
  auto& sh = detail::shared();
  std::lock_guard<std::mutex> lock(sh.mutex);
  return std::exchange(sh.sink, std::move(sink));
}

// Sends an event to the sink and counts it. The backends call this; user code that
// launches its own work can too.
inline void emit(const Event& e) {
  auto& sh = detail::shared();
  std::lock_guard<std::mutex> lock(sh.mutex);
  detail::count(sh.counters, e);
  if (sh.sink) sh.sink(e);
  else std::fprintf(stderr, "[kn-trace] %s\n", format(e).c_str());
}

// What was traced since the last call (or since tracing began); counting starts afresh.
inline Stats step_summary() {
  auto& sh = detail::shared();
  std::lock_guard<std::mutex> lock(sh.mutex);
  return std::exchange(sh.counters, Stats{});
}

// A training step, e.g. an epoch. While it lives, tracing is on if it was already on
// or if `trace_this`; at its end, when tracing, it emits a Step event with the
// summary of what the step did, and puts the switch back as it found it.
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
    const Stats s = step_summary();
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

// Keeps events in memory instead of printing them, and turns tracing on, while it
// lives (tests, and programs that analyse their own trace). Not for use from two
// threads at once.
class Recorder {
 public:
  Recorder() : was_on_(enabled()) {
    old_sink_ = set_sink([this](const Event& e) { events_.push_back(e); });
    enable(true);
    step_summary();
  }
  ~Recorder() {
    enable(was_on_);
    set_sink(std::move(old_sink_));
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
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

}  // namespace kn::trace
