// time_device: how long a call keeps the GPU busy, with the host's cost taken out.
//
// CUDA events time what happens on the GPU between them. But a kernel that takes 2 us on
// the GPU and 3 us to launch, timed by launching it over and over, measures the launch:
// the GPU idles between kernels, waiting for the host. So every sample first queues a
// kernel that spins for longer than the host needs to queue the whole sample; the calls
// pile up behind it and then run back to back, and the events see the GPU's time alone.
#if KN_WITH_CUDA
#include <algorithm>
#include <cmath>
#include <vector>

#include "bench.hpp"
#include "gpu.hpp"

namespace kn::bench {

Spread time_device(const std::function<void(int64_t call)>& fn, const Budget& b, Spread* host_issue, int max_calls) {
  gpu::Events ev;
  int64_t next = 0;

  // One call behind a generous spinner: its device time sizes the samples, and its host
  // time sizes the spinner.
  gpu::sync();
  double spin_s = 200e-6;
  gpu::spin(spin_s);
  auto t0 = Clock::now();
  ev.start();
  fn(next++);
  ev.stop();
  double issue = seconds_since(t0);
  const double one = std::max(ev.seconds(), 1e-7);
  // Enough calls for ~200 us of device time per sample (the events resolve ~0.5 us).
  const int calls = int(std::clamp(std::ceil(200e-6 / one), 1.0, double(max_calls)));
  spin_s = 20e-6 + 2.0 * calls * std::max(issue, 5e-6);

  std::vector<double> issue_per_call;
  const Spread device = measure(
      [&] {
        for (int attempt = 0;; ++attempt) {
          gpu::spin(spin_s);
          const auto start = Clock::now();
          ev.start();
          for (int i = 0; i < calls; ++i) fn(next++);
          ev.stop();
          const double host = seconds_since(start);
          const double per_call = ev.seconds() / calls;
          // The host took longer than the spinner: the GPU may have waited for it, so the
          // sample is not the device's time alone. Spin longer and take it again.
          if (host > 0.8 * spin_s && attempt < 3) {
            spin_s = 2.0 * host + 20e-6;
            continue;
          }
          issue_per_call.push_back(host / calls);
          return per_call;
        }
      },
      b, calls);
  if (host_issue) {  // the warm-up samples' host times are in there too: leave them out
    const size_t skip = std::min(issue_per_call.size(), size_t(b.warmup));
    *host_issue = summarize(std::vector<double>(issue_per_call.begin() + skip, issue_per_call.end()), calls);
  }
  return device;
}

}  // namespace kn::bench
#endif  // KN_WITH_CUDA
