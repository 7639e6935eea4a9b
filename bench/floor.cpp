// kn-bench floor: the least time one Iris epoch could take on one core of this CPU.
//
// It measures the core's single-precision FMA rate (a loop of independent vector
// fused multiply-adds, Eigen's widest packet, enough chains to hide the FMA latency),
// counts the arithmetic of one epoch op by op (the same op list kn-bench iris checks
// against the trace), and divides: floor = FLOPs / rate. Then it trains the lesson's MLP
// on the CPU as kn-iris --record-every 0 does and says how far the epoch is from the
// floor. docs/cpu-scaling.md records the numbers.
#include <cstdio>

#include <Eigen/Core>

#include "bench.hpp"
#include "iris_train.hpp"
#include "report.hpp"

namespace kn::bench {

namespace {

using Packet = Eigen::internal::packet_traits<float>::type;
constexpr int kLanes = Eigen::internal::packet_traits<float>::size;
constexpr int kChains = 16;  // independent accumulators: more than FMA latency x FMA units

// Seconds for `iters` rounds of kChains vector FMAs; the result is kept in `sink`.
double fma_loop(int64_t iters, float& sink) {
  using namespace Eigen::internal;
  Packet acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = pset1<Packet>(1.0f + float(i) * 1e-3f);
  const Packet m = pset1<Packet>(0.9999999f), a = pset1<Packet>(1e-7f);
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = pmadd(acc[i], m, a);
  }
  const double s = seconds_since(t0);
  Packet sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = padd(sum, acc[i]);
  sink += predux(sum);
  return s;
}

// Arithmetic of one op of the epoch: FLOPs (a multiply-add is 2), exps and logs apart.
struct Arith {
  double flops = 0, exps = 0, logs = 0;
};
Arith arith(const OpSpec& o) {
  const double a = double(o.a), b = double(o.b);
  if (o.name == "gemm") return {o.flops(), 0, 0};
  if (o.name == "bias_add" || o.name == "bias_grad") return {a * b, 0, 0};  // one add per element
  if (o.name == "relu_forward" || o.name == "relu_backward") return {a, 0, 0};  // a max or a select
  // Per row of C classes: max (C), x - max (C), sum (C), lse + max - x[label] (2), the
  // row into the total (1), 1/sum (1), p / rows (C), minus 1/rows at the label (1); C exps, 1 log.
  if (o.name == "softmax_ce_forward") return {a * (4 * b + 5), a * b, a};
  if (o.name == "softmax_ce_backward") return {a, 0, 0};  // scaled by d loss
  if (o.name == "sgd_step") {
    double n = 0;
    for (int64_t t : o.tensors) n += double(t);
    return {2 * n, 0, 0};  // p - lr * g
  }
  return {};  // fill
}

}  // namespace

json run_floor(const FloorOptions& o) {
  std::printf("## kn-bench floor: one Iris epoch's arithmetic against one core's FMA rate (threads=%d)\n",
              kn::get_num_threads());
  json r = header("floor", o.common);
  const Budget b = budget(o.common);

  // --- The core's FMA rate.
  float sink = 0;
  const int64_t iters = o.common.quick ? 20000 : 200000;  // 3.2M FMAs of kLanes lanes: ~1 ms at 100 GFLOP/s
  const Spread t = measure([&] { return fma_loop(iters, sink); }, b);
  const double flops_per_sample = 2.0 * kLanes * kChains * double(iters);
  const double rate = flops_per_sample / t.min, rate_median = flops_per_sample / t.median;
  Table fma({"single core", "vector", "chains", "GFLOP/s (best / median)"});
  fma.add({cpu_model(), std::to_string(kLanes * 32) + "-bit FMA (Eigen packet)", std::to_string(kChains),
           fixed(rate / 1e9, 1) + " / " + fixed(rate_median / 1e9, 1)});
  fma.print("FMA rate, fp32, one thread");
  r["fma"] = {{"lanes", kLanes}, {"chains", kChains}, {"gflop_per_s", rate / 1e9},
              {"gflop_per_s_median", rate_median / 1e9}, {"time", t}, {"sink", sink}};

  // --- One epoch's arithmetic and memory, op by op.
  const int64_t rows = 120, in = 4, hidden = o.hidden, classes = 3;
  Table ops_table({"op (one epoch, in order)", "FLOPs", "exp", "log", "bytes moved"});
  Arith total;
  double bytes = 0, gemm_flops = 0;
  json op_rows = json::array();
  for (const OpSpec& op : iris_epoch_ops(rows, in, hidden, classes)) {
    const Arith a = arith(op);
    total.flops += a.flops, total.exps += a.exps, total.logs += a.logs;
    if (op.name == "gemm") gemm_flops += a.flops;
    bytes += op.bytes();
    ops_table.add({op.label(), fixed(a.flops, 0), fixed(a.exps, 0), fixed(a.logs, 0), fixed(op.bytes(), 0)});
    op_rows.push_back({{"op", op.label()}, {"flops", a.flops}, {"exp", a.exps}, {"log", a.logs}, {"bytes", op.bytes()}});
  }
  // The working set: data, parameters and their gradients, and the activations an epoch
  // keeps ([rows, hidden]: fc1's output, ReLU's, their gradients; [rows, classes]: logits
  // and their gradient).
  const double params = double(hidden * in + hidden + classes * hidden + classes);
  const double working_set = 4.0 * rows * in + 8.0 * rows + 4.0 * 2 * params + 4.0 * 4 * rows * hidden +
                             4.0 * 2 * rows * classes;
  ops_table.add({"total", fixed(total.flops, 0), fixed(total.exps, 0), fixed(total.logs, 0), fixed(bytes, 0)});
  ops_table.print("One epoch: " + std::to_string(rows) + " rows, 4-" + std::to_string(hidden) + "-3, full-batch SGD");
  // An exp or a log, vectorised (Eigen's pexp / plog), is about 10 / 15 arithmetic
  // instructions per lane: counted so in the floor.
  const double equivalent = total.flops + 10 * total.exps + 15 * total.logs;
  const double floor_s = equivalent / rate, gemm_floor_s = gemm_flops / rate;

  // --- The eager epoch, as kn-iris --device cpu --record-every 0 runs it.
  kn::iris::Config cfg;
  cfg.epochs = o.epochs;
  cfg.hidden = int(hidden);
  cfg.record_every = 0;
  std::vector<double> per_epoch;
  for (int rep = 0; rep < (o.common.quick ? 1 : 5); ++rep) {
    kn::manual_seed(0);
    kn::iris::MLP model(4, hidden, 3);
    per_epoch.push_back(kn::iris::train(cfg, model).time_s / cfg.epochs);
  }
  const Spread eager = summarize(per_epoch, cfg.epochs);

  Table floor({"", "value"});
  floor.add({"FLOPs per epoch (GEMMs / all)", fixed(gemm_flops, 0) + " / " + fixed(total.flops, 0)});
  floor.add({"exp, log per epoch", fixed(total.exps, 0) + ", " + fixed(total.logs, 0)});
  floor.add({"bytes moved by the ops / working set", fixed(bytes, 0) + " / " + fixed(working_set, 0) + " (" +
                                                          bytes_str(working_set) + ")"});
  floor.add({"fp32 FMA rate, one core", fixed(rate / 1e9, 1) + " GFLOP/s"});
  floor.add({"floor: GEMMs alone", us(gemm_floor_s) + " us"});
  floor.add({"floor: everything (exp = 10, log = 15 FLOPs)", us(floor_s) + " us"});
  floor.add({"eager epoch, CPU (min / median / p90, " + std::to_string(cfg.epochs) + " epochs)", spread_us(eager) + " us"});
  floor.add({"eager / floor", fixed(eager.median / floor_s, 1) + "x"});
  floor.print("The floor of one epoch on one core, and the eager CPU epoch against it");
  std::printf("\nresult floor_us=%.3f gemm_floor_us=%.3f flops=%.0f bytes=%.0f working_set=%.0f gflops=%.1f "
              "eager_us=%.2f eager_over_floor=%.1f threads=%d\n",
              floor_s * 1e6, gemm_floor_s * 1e6, equivalent, bytes, working_set, rate / 1e9, eager.median * 1e6,
              eager.median / floor_s, kn::get_num_threads());
  // Counts, so integers in the JSON.
  r["epoch"] = {{"rows", rows},
                {"hidden", hidden},
                {"ops", op_rows},
                {"flops", int64_t(total.flops)},
                {"gemm_flops", int64_t(gemm_flops)},
                {"exps", int64_t(total.exps)},
                {"logs", int64_t(total.logs)},
                {"flops_equivalent", int64_t(equivalent)},
                {"bytes_moved", int64_t(bytes)},
                {"working_set_bytes", int64_t(working_set)}};
  r["floor_us"] = floor_s * 1e6;
  r["gemm_floor_us"] = gemm_floor_s * 1e6;
  r["eager_cpu"] = {{"per_epoch", eager}, {"epochs", cfg.epochs}, {"over_floor", eager.median / floor_s}};
  return r;
}

}  // namespace kn::bench
