// kn::Stats: the one set of counters for what a stretch of work did. The lesson's three
// overheads are in it: kernel launches, host waits on a device, bytes copied.
//
// Two places fill it: kn::stats(device) (<kernelnet/stats.hpp>) counts, per device and
// always, the launches, waits and copies of kernelnet's CUDA runtime; kn::trace counts
// the same from its events while tracing, plus the CPU ops and the time spent in them
// (trace::step_summary(), the summary line of a trace::Step).
#pragma once
#include <cstdint>

namespace kn {

struct Stats {
  int64_t ops = 0;         // CPU ops (trace only)
  int64_t launches = 0;    // CUDA kernel launches; a graph replay counts as one
  int64_t syncs = 0;       // host waits on a device (item(), copies to the host, synchronize())
  int64_t h2d_copies = 0;  // copies host -> device
  int64_t h2d_bytes = 0;
  int64_t d2h_copies = 0;  // copies device -> host
  int64_t d2h_bytes = 0;
  int64_t d2d_copies = 0;  // copies within one device
  int64_t d2d_bytes = 0;
  double micros = 0;       // summed durations of the traced events (trace only)
};

}  // namespace kn
