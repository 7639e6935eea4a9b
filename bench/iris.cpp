// kn-bench iris: the lesson's experiment, and where each epoch's time goes.
//
// The lesson trains a 4-10-3 MLP on Iris for 20000 epochs and finds the GPU slower than
// the CPU. It reads the loss back every epoch (loss.item()), then every 200 epochs, and
// we add never. Each run is kn::iris::train, the loop kn-iris runs.
//
// The time per epoch is split into the lesson's three overheads, each computed from what
// kernelnet counted (kn::stats) times a unit cost measured in this same run:
//   transfer/sync = copies to host x (one loss.item())        [transfer's item cost]
//                 + other waits    x (one synchronise)        [transfer's sync cost]
//                 + copies to GPU  x (one 4-byte copy) + bytes / bandwidth
//   launch        = kernel launches x (host cost of one kernelnet launch)   [launch's cost]
//   compute       = the sum, over the ops of one epoch, of each op's own time at Iris
//                   size (GPU: device time with the launches hidden; CPU: Eigen)
// and the sum is held against the measured time. They need not agree: the host's own
// work per op (autograd, allocation, dispatch) is in none of the three, and on the GPU
// launches and kernels overlap, since the host queues the next kernel while the GPU
// runs the last. The table says how far apart they are.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <kernelnet/trace.hpp>

#include "bench.hpp"
#include "iris_train.hpp"
#include "report.hpp"

namespace kn::bench {

namespace {

const int kRecordEvery[] = {1, 200, 0};

std::string record_label(int every) {
  return every == 1 ? "every epoch" : every == 0 ? "never" : "every " + std::to_string(every) + " epochs";
}

// The ops kernelnet really runs in one epoch, from its own trace (kn::trace::Recorder):
// train 2 epochs and 1 epoch on the CPU; the second run's extra ops are one epoch's.
// Checks the list the compute estimate is built from against the library itself.
json check_against_trace(kn::iris::Config cfg, const std::vector<OpSpec>& ops) {
  auto traced = [&](int epochs) {
    std::vector<std::string> seen;
    kn::trace::Recorder capture;
    cfg.device = Device::cpu();
    cfg.epochs = epochs;
    cfg.record_every = 0;
    kn::manual_seed(cfg.init_seed);
    kn::iris::MLP model(4, cfg.hidden, 3);
    kn::iris::train(cfg, model);
    for (const kn::trace::Event& e : capture.events())
      if (e.kind == kn::trace::Kind::Op) seen.push_back(e.op);  // "gemm 120x10x4"
    return seen;
  };
  const auto one = traced(1), two = traced(2);
  const size_t n = two.size() > one.size() ? two.size() - one.size() : 0;
  const std::vector<std::string> epoch(two.begin(), two.begin() + std::ptrdiff_t(n));
  std::vector<std::string> expected;
  for (const OpSpec& o : ops) expected.push_back(o.name + " " + o.sizes());
  const bool match = epoch == expected;
  if (match)
    std::printf("\nThe %zu ops of an epoch below are the ones kernelnet's trace shows it running.\n", n);
  else
    std::printf("\nWARNING: the op list below differs from kernelnet's trace of one epoch (%zu ops traced); the "
                "compute estimate may be off.\n",
                n);
  return json{{"matches_trace", match}, {"traced", epoch}, {"expected", expected}};
}

struct Units {  // the unit costs, seconds
  double item = 0, sync = 0, launch = 0, h2d_latency = 0, h2d_bytes_per_s = 1, d2h_bytes_per_s = 1;
  json j;
};

struct DeviceRuns {
  json j;
  std::vector<std::vector<std::string>> rows;  // for the split table
};

// The lesson's runs on one device, each split into the three overheads.
DeviceRuns runs_on(Device device, const kn::iris::Config& base, const IrisOptions& o, double compute_s,
                   const Units& u) {
  // The GPU runs the mode asked for; the CPU runs eager, or fused when that is asked for
  // (support/fused_mlp_cpu.hpp; graph mode is CUDA's only).
  const kn::iris::Mode asked = kn::iris::parse_mode(o.mode);
  const kn::iris::Mode mode = device.is_cuda() || asked == kn::iris::Mode::Fused ? asked : kn::iris::Mode::Eager;
  {  // warm-up: first allocations, the GPU's memory pool, the CPU's caches and clocks
    kn::iris::Config cfg = base;
    cfg.device = device;
    cfg.mode = mode;
    cfg.epochs = std::min(base.epochs, 200);
    cfg.record_every = 0;
    kn::manual_seed(cfg.init_seed);
    kn::iris::MLP model(4, cfg.hidden, 3);
    kn::iris::train(cfg, model);
  }
  DeviceRuns out;
  out.j = json::array();
  for (int every : kRecordEvery) {
    kn::iris::Config cfg = base;
    cfg.device = device;
    cfg.mode = mode;
    cfg.record_every = every;
    std::vector<double> per_epoch;
    kn::iris::Result res;
    for (int rep = 0; rep < o.repeats; ++rep) {
      kn::manual_seed(cfg.init_seed);
      kn::iris::MLP model(4, cfg.hidden, 3);
      res = kn::iris::train(cfg, model);
      per_epoch.push_back(res.time_s / cfg.epochs);
    }
    const Spread measured = summarize(per_epoch, 1);
    const double E = cfg.epochs;
    const Stats& st = res.stats;  // the same counts on every repeat
    const double extra_syncs = double(st.syncs - st.d2h_copies);
    // Bytes past the first 4 of each copy: the unit costs already include 4 bytes.
    const double h2d_extra = std::max(0.0, double(st.h2d_bytes - 4 * st.h2d_copies));
    const double d2h_extra = std::max(0.0, double(st.d2h_bytes - 4 * st.d2h_copies));
    const double transfer = (double(st.d2h_copies) * u.item + extra_syncs * u.sync +
                             double(st.h2d_copies) * u.h2d_latency + h2d_extra / u.h2d_bytes_per_s +
                             d2h_extra / u.d2h_bytes_per_s) /
                            E;
    const double launch = double(st.launches) / E * u.launch;
    const double sum = transfer + launch + compute_s;
    const double gap = measured.median - sum;
    out.rows.push_back({device.str(), record_label(every), spread_us(measured), fixed(double(st.launches) / E, 1),
                        fixed(double(st.syncs) / E, 3), us(transfer), us(launch), us(compute_s), us(sum),
                        (gap >= 0 ? "+" : "") + us(gap) + " us (" + fixed(100.0 * gap / measured.median, 0) + " %)"});
    out.j.push_back({{"record_every", every},
                     {"per_epoch", measured},
                     {"final_loss", res.final_loss},
                     {"test_acc", res.test_acc},
                     {"counters_per_epoch",
                      {{"launches", double(st.launches) / E},
                       {"syncs", double(st.syncs) / E},
                       {"h2d_copies", double(st.h2d_copies) / E},
                       {"h2d_bytes", double(st.h2d_bytes) / E},
                       {"d2h_copies", double(st.d2h_copies) / E},
                       {"d2h_bytes", double(st.d2h_bytes) / E}}},
                     {"split_us",
                      {{"transfer_sync", transfer * 1e6},
                       {"launch", launch * 1e6},
                       {"compute", compute_s * 1e6},
                       {"sum", sum * 1e6},
                       {"measured", measured.median * 1e6},
                       {"measured_minus_sum", gap * 1e6},
                       {"measured_minus_sum_pct", 100.0 * gap / measured.median}}}});
  }
  return out;
}

}  // namespace

json run_iris(const IrisOptions& o) {
  kn::iris::parse_mode(o.mode);  // a clear error for an unknown mode, before any work
  KN_CHECK(o.epochs >= 1 && o.repeats >= 1, "--epochs and --repeats must be at least 1");
  std::printf("## kn-bench iris: the lesson's %d epochs (%s), loss read every epoch, every 200, never\n", o.epochs,
              o.mode.c_str());
  json r = header("iris", o.common);
  r["mode"] = o.mode;
  r["epochs"] = o.epochs;
  r["repeats"] = o.repeats;
  r["hidden"] = o.hidden;
  const Budget b = budget(o.common);

  kn::iris::Config base;
  base.epochs = o.epochs;
  base.hidden = o.hidden;
  base.lr = o.lr;
  const data::Dataset ds = data::load_iris(base.data);
  const data::Split split = data::train_test_split(ds.X, ds.y, base.test_size, base.seed);
  const int64_t rows = split.X_train.size(0), in = ds.X.size(1), classes = int64_t(data::iris_classes().size());
  const std::vector<OpSpec> ops = iris_epoch_ops(rows, in, o.hidden, classes);
  r["trace_check"] = check_against_trace(base, ops);

  const std::string why = gpu_skip_reason();
  const bool gpu = why.empty();

  // Each op of an epoch on its own: the compute part.
  std::vector<std::string> head{"op (one epoch, in order)", "CPU (min / median / p90 us)"};
  if (gpu) head.insert(head.end(), {"GPU device (min / median / p90 us)", "GPU host issue (median us)"});
  Table per_op(head);
  json op_rows = json::array();
  double cpu_compute = 0, gpu_compute = 0, gpu_issue = 0;
  for (const OpSpec& op : ops) {
    OpRun cpu_run(op, Device::cpu(), 1);  // one copy: an epoch finds its data in cache too
    int64_t next = 0;
    const Spread cpu = time_host([&] { cpu_run.call(next++); }, b);
    cpu_compute += cpu.median;
    std::vector<std::string> cells{op.label(), spread_us(cpu)};
    json row{{"op", op.label()}, {"cpu", cpu}};
#if KN_WITH_CUDA
    if (gpu) {
      OpRun gpu_run(op, Device::cuda(0), 1);
      Spread issue;
      const Spread dev = time_device([&](int64_t i) { gpu_run.call(i); }, b, &issue);
      gpu_compute += dev.median;
      gpu_issue += issue.median;
      cells.insert(cells.end(), {spread_us(dev), us(issue.median)});
      row["gpu"] = dev;
      row["gpu_host_issue"] = issue;
    }
#endif
    per_op.add(cells);
    op_rows.push_back(row);
  }
  std::vector<std::string> total{"sum: the compute part of an epoch", us(cpu_compute)};
  if (gpu) total.insert(total.end(), {us(gpu_compute), us(gpu_issue)});
  per_op.add(total);
  per_op.print("Compute: the ops of one epoch, each on its own (" + std::to_string(rows) + " rows, 4-" +
               std::to_string(o.hidden) + "-3)");
  r["epoch_ops"] = op_rows;
  r["compute_per_epoch_us"] = {{"cpu", cpu_compute * 1e6}};

  Table split_table({"device", "loss read", "us/epoch (min / median / p90)", "launches/epoch", "syncs/epoch",
                     "transfer+sync us", "launch us", "compute us", "sum us", "measured - sum"});
  const DeviceRuns cpu_runs = runs_on(Device::cpu(), base, o, cpu_compute, Units{});
  for (const auto& row : cpu_runs.rows) split_table.add(row);
  r["cpu"] = json{{"runs", cpu_runs.j}};

  if (!gpu) {
    r["gpu"] = gpu_skipped(why);
  } else {
#if KN_WITH_CUDA
    r["compute_per_epoch_us"]["gpu"] = gpu_compute * 1e6;
    r["compute_per_epoch_us"]["gpu_host_issue"] = gpu_issue * 1e6;
    Units u;
    const int64_t bw_bytes = o.common.quick ? (int64_t(1) << 20) : (int64_t(16) << 20);
    u.item = item_cost(b).median;
    u.sync = sync_cost(b).median;
    u.launch = kn_launch_cost(b, 100).median;
    u.h2d_latency = copy_cost(4, true, false, b).wall.median;
    u.h2d_bytes_per_s = double(bw_bytes) / copy_cost(bw_bytes, true, false, b).wall.median;
    u.d2h_bytes_per_s = double(bw_bytes) / copy_cost(bw_bytes, false, false, b).wall.median;
    Table units({"unit cost (measured now)", "median"});
    units.add({"loss.item(): synchronise + 4-byte copy to host", us(u.item) + " us"});
    units.add({"synchronise an idle stream", us(u.sync) + " us"});
    units.add({"one kernel launch through kernelnet's launch path (host)", us(u.launch) + " us"});
    units.add({"one 4-byte pageable copy to the GPU", us(u.h2d_latency) + " us"});
    units.add({"pageable bandwidth to / from the GPU (" + bytes_str(double(bw_bytes)) + ")",
               rate(u.h2d_bytes_per_s, "GB/s") + " / " + rate(u.d2h_bytes_per_s, "GB/s")});
    units.print("GPU: unit costs for the split");
    r["unit_costs_us"] = {{"item", u.item * 1e6},
                          {"sync", u.sync * 1e6},
                          {"launch", u.launch * 1e6},
                          {"h2d_latency", u.h2d_latency * 1e6},
                          {"h2d_gb_per_s", u.h2d_bytes_per_s / 1e9},
                          {"d2h_gb_per_s", u.d2h_bytes_per_s / 1e9}};
    const DeviceRuns gpu_runs = runs_on(Device::cuda(0), base, o, gpu_compute, u);
    for (const auto& row : gpu_runs.rows) split_table.add(row);
    r["gpu"] = json{{"available", true}, {"runs", gpu_runs.j}};
#endif
  }
  split_table.print("Where an epoch's time goes (" + std::to_string(o.epochs) + " epochs, median of " +
                    std::to_string(o.repeats) + " run" + (o.repeats == 1 ? "" : "s") + ")");
  std::printf("\nmeasured - sum: the host's own work per op (autograd, allocation, dispatch) is in none of the\n"
              "three parts; on the GPU, launches and kernels overlap, so their sum can also exceed the time.\n");
  return r;
}

}  // namespace kn::bench
