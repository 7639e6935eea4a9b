// How kn-bench times things: warm-up first, then samples until a time budget is spent
// (and at least a minimum count is in), reported as min, median and p90.
//
// Why these three: the minimum is what the machine can do when nothing interferes, the
// median is what you will usually see, and the p90 shows how noisy it is. A mean would
// let one interrupted sample move the number.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace kn::bench {

using Clock = std::chrono::steady_clock;

// Tells the compiler that memory may have been read and written here, so that a timed
// loop's stores (a memcpy into the same buffer, say) cannot be merged or dropped.
inline void clobber_memory() { asm volatile("" : : : "memory"); }

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The spread of a measurement, in seconds per call.
struct Spread {
  double min = 0, median = 0, p90 = 0;
  int samples = 0;               // timed samples (warm-up not counted)
  int64_t calls_per_sample = 1;  // calls timed together in one sample
};

// How long to measure.
struct Budget {
  int warmup = 2;          // samples run and thrown away (caches, allocator pools, clocks)
  int min_samples = 5;     // then at least this many...
  int max_samples = 2000;  // ...at most this many...
  double seconds = 0.2;    // ...stopping once this much time has passed
};

// Min, median and p90 of per-call times.
inline Spread summarize(std::vector<double> v, int64_t calls_per_sample) {
  Spread s;
  s.samples = int(v.size());
  s.calls_per_sample = calls_per_sample;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.min = v.front();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.p90 = v[std::min(n - 1, size_t(std::ceil(0.9 * double(n))) - 1)];
  return s;
}

// The loop every measurement uses: sample() runs one timed sample and returns its
// seconds per call, however it measured them (host clock, CUDA events).
template <typename Sample>
Spread measure(Sample&& sample, const Budget& b, int64_t calls_per_sample = 1) {
  for (int i = 0; i < b.warmup; ++i) sample();
  std::vector<double> per_call;
  const auto start = Clock::now();
  while (int(per_call.size()) < b.max_samples) {
    per_call.push_back(sample());
    if (int(per_call.size()) >= b.min_samples && seconds_since(start) >= b.seconds) break;
  }
  return summarize(std::move(per_call), calls_per_sample);
}

// How many back-to-back calls of fn last about `target` seconds (at least 1). A sample
// of a sub-microsecond call must hold many calls, or the clock's own cost and
// resolution (tens of ns) would be part of the number.
template <typename F>
int64_t calls_for(F&& fn, double target, int64_t max_calls = 1000000) {
  int64_t n = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) fn();
    const double t = seconds_since(t0);
    if (t >= target / 4 || n >= max_calls) {
      const double per_call = std::max(t / double(n), 1e-9);
      return std::clamp<int64_t>(int64_t(std::ceil(target / per_call)), 1, max_calls);
    }
    n *= 4;
  }
}

// Host wall-clock time per call of fn, `calls` calls to a sample (0: enough for ~50 us).
template <typename F>
Spread time_host(F&& fn, const Budget& b, int64_t calls = 0) {
  if (calls <= 0) calls = calls_for(fn, 50e-6);
  return measure(
      [&] {
        const auto t0 = Clock::now();
        for (int64_t i = 0; i < calls; ++i) fn();
        return seconds_since(t0) / double(calls);
      },
      b, calls);
}

inline void to_json(nlohmann::json& j, const Spread& s) {
  j = nlohmann::json{{"min_us", s.min * 1e6},
                     {"median_us", s.median * 1e6},
                     {"p90_us", s.p90 * 1e6},
                     {"samples", s.samples},
                     {"calls_per_sample", s.calls_per_sample}};
}

}  // namespace kn::bench
