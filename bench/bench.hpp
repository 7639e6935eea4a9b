// kn-bench's subcommands and the measurements they share.
//
// Each subcommand is a function that prints its tables and returns its JSON; kn-bench.cpp
// only parses the command line and writes files. A subcommand always runs its CPU part;
// its GPU part runs when kernelnet was built with CUDA and a device is present, and
// otherwise it says "GPU part skipped: <why>" and carries on (exit status 0).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <kernelnet/device.hpp>
#include <kernelnet/ops/gemm.hpp>

#include "timing.hpp"

namespace kn::bench {

using nlohmann::json;

// ---- Options ----------------------------------------------------------------------

struct Common {
  std::string out;       // --out FILE: the JSON
  bool quick = false;    // --quick: the smallest sizes, for tests (seconds, not minutes)
  double seconds = 0.2;  // --seconds: time budget of one measurement
  int threads = 0;       // --threads: kn::set_num_threads (0: the library's default, every hardware thread)
};

// The budget of one measurement under these options.
inline Budget budget(const Common& c) {
  Budget b;
  b.seconds = c.seconds;
  if (c.quick) b.warmup = 1, b.min_samples = 3;
  return b;
}

struct TransferOptions {
  Common common;
  std::string plot;
  int64_t max_bytes = int64_t(1) << 30;  // --quick: 4 MiB
};

struct LaunchOptions {
  Common common;
  int kernels = 1000;  // launches per sample, and kernels in the graph (--quick: 100)
};

struct ComputeOptions {
  Common common;
  std::vector<std::string> shapes;  // "BxKxN": batch B, in K, out N; default: Iris up to 16384x4096x4096
  double cpu_max_gflop = 20;        // skip a CPU GEMM bigger than this (the CPU would take seconds)
};

// Empty when `s` is a valid --shape BxKxN, else what is wrong with it.
std::string shape_error(const std::string& s);
// Empty when the three sizes of shape `s` are positive and every product of two of them
// (each operand of a product of these sizes) is under 2^31 elements.
std::string matrix_sizes_error(const std::string& s, int64_t a, int64_t b, int64_t c);

struct GemmOptions {
  Common common;
  std::vector<std::string> shapes;    // "MxNxK" or "MxNxK:AB" (A, B: N or T); default 4096^3, 1024^3, the MLP's
  std::vector<std::string> variants;  // names from kn::cuda::gemm_variant_name; default all
  double cpu_max_gflop = 20;          // skip a CPU GEMM bigger than this
};

// Empty when `s` is a valid gemm --shape MxNxK[:AB], else what is wrong with it.
std::string gemm_shape_error(const std::string& s);

struct IrisOptions {
  Common common;
  std::string mode = "eager";  // only eager exists; graph and fused come with the fast-training work
  int epochs = 20000;          // --quick: 300
  int repeats = 3;             // runs of each configuration (--quick: 1)
  int hidden = 10;
  float lr = 0.01f;
};

struct SweepOptions {
  Common common;
  std::string plot;
  std::vector<int64_t> rows;    // default 120 .. 1,000,000
  std::vector<int64_t> hidden;  // default 10 .. 4096
  std::vector<int64_t> batch_sizes;  // the batch-size axis at Iris size (120 rows); default 8 16 32 64 120
  double max_elements = 5.3e8;  // skip cells whose [rows, hidden] activation is bigger (memory)
  double cpu_max_seconds = 5;   // skip CPU cells predicted to take longer per epoch
};

// kn-bench floor: one core's FMA rate, one Iris epoch's FLOPs and bytes, the floor they
// give, and the eager CPU epoch against it.
struct FloorOptions {
  Common common;
  int hidden = 10;
  int epochs = 20000;  // eager epochs per run, 5 runs (--quick: 1000, 1 run)
};

json run_transfer(const TransferOptions& o);
json run_launch(const LaunchOptions& o);
json run_compute(const ComputeOptions& o);
json run_gemm(const GemmOptions& o);
json run_iris(const IrisOptions& o);
json run_sweep(const SweepOptions& o);
json run_floor(const FloorOptions& o);

// ---- One op at one size (compute, and iris's compute estimate) -------------------

// One kernelnet op as kn::ops (the library's dispatch) runs it, named and sized the way
// kn::trace reports it, so a traced epoch can be checked against a list of these.
struct OpSpec {
  std::string name;              // "gemm", "bias_add", "relu_forward", ...
  int64_t a, b, c;               // gemm: M, N, K; bias_*, softmax_ce_forward: rows, cols; sgd_step: count;
                                 // the others: n. -1: not a size of this op
  Transpose transA = Transpose::No, transB = Transpose::No;  // gemm only
  std::vector<int64_t> tensors;  // sgd_step: the size of each parameter tensor

  OpSpec(std::string name, int64_t a, int64_t b = -1, int64_t c = -1) : name(std::move(name)), a(a), b(b), c(c) {}

  std::string sizes() const;  // as kn::trace writes them: "120x10x4", "1200", "4"
  std::string label() const;  // "gemm 120x10x4 (A·B^T)"
  double flops() const;       // arithmetic, for GFLOP/s (gemm only; 0 for the others)
  double bytes() const;       // memory traffic if every operand is read or written once
};

// The ops one epoch of the lesson's MLP runs (forward, loss, backward, SGD step), in the
// order kernelnet runs them: `rows` training rows, in -> hidden -> classes.
std::vector<OpSpec> iris_epoch_ops(int64_t rows, int64_t in, int64_t hidden, int64_t classes);

// Buffers for one op on one device, `slots` copies of every operand filled with random
// non-zero values; call(i) runs the op on copy i % slots. Rotating copies keeps an op
// from finding its inputs in a cache they would not be in.
class OpRun {
 public:
  OpRun(const OpSpec& op, Device device, int slots);
  ~OpRun();
  OpRun(const OpRun&) = delete;
  OpRun& operator=(const OpRun&) = delete;
  void call(int64_t i);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Copies needed so that `reps` back-to-back calls never find their operands in a cache of
// `cache_bytes` (twice its size in flight), at most `reps`.
int slots_for(double op_bytes, double cache_bytes, int reps);

// ---- GPU measurements shared between subcommands (defined only with CUDA) --------
#if KN_WITH_CUDA
// Device time per call of fn (CUDA events), with calls queued behind a spinning kernel so
// they run back to back without waiting for the host. host_issue (if given) receives the
// host's time to issue one call: what the call costs the CPU.
Spread time_device(const std::function<void(int64_t call)>& fn, const Budget& b, Spread* host_issue = nullptr,
                   int max_calls = 256);

// transfer.cpp: the lesson's loss.item() on an idle stream (sync + 4-byte copy), and a
// synchronisation alone.
Spread item_cost(const Budget& b);
Spread sync_cost(const Budget& b);
// One copy of `bytes` (raw cudaMemcpyAsync + wait): host wall time, and device time (events).
struct CopyCost {
  Spread wall, device;
};
CopyCost copy_cost(int64_t bytes, bool to_device, bool pinned, const Budget& b);

// launch.cpp: host cost of one asynchronous launch through kernelnet's launch path.
Spread kn_launch_cost(const Budget& b, int per_sample);
#endif

}  // namespace kn::bench
