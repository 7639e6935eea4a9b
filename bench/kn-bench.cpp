// kn-bench: the lesson's overheads measured one at a time, on this machine.
//
//   kn-bench transfer --plot transfer.svg   # host <-> GPU copies, 4 B .. 1 GiB; loss.item()
//   kn-bench launch                         # empty kernels: async, round trip, CUDA graph; Module call
//   kn-bench compute                        # each op from Iris size up, vs cuBLAS and copy bandwidth
//   kn-bench gemm                           # every kernel of the GEMM series vs cuBLAS, 4096^3 down
//   kn-bench iris                           # the lesson's 20000 epochs, split into the three overheads
//   kn-bench sweep --plot sweep.svg         # rows x hidden: where the GPU starts to win; batch sizes 8..120
//   kn-bench floor                          # one core's FMA rate, an Iris epoch's FLOPs: its floor in us
//   kn-bench all --out all.json --plot-dir docs/results
//
// Each prints Markdown tables and, with --out, writes the numbers as JSON. --quick runs
// the smallest sizes (seconds). --threads N sets kn::set_num_threads (the JSON's
// machine.threads). Without a GPU, each runs its CPU part, says
// "GPU part skipped: <why>", and exits 0. See docs/overheads.md.
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "bench.hpp"
#include "cli.hpp"
#include "report.hpp"

using namespace kn::bench;

namespace {

// --out, --quick, --seconds; returns --seconds, which --quick lowers (see quick_default).
CLI::Option* add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("--out", c.out, "Write the results here (JSON)");
  cmd->add_flag("--quick", c.quick, "Smallest sizes, for tests: seconds instead of minutes");
  c.threads = kn::get_num_threads();
  cmd->add_option("--threads", c.threads,
                  "Threads of the CPU backend's big GEMMs (kn::set_num_threads; Iris-sized work always runs on one)")
      ->check(CLI::Range(1, 1024));
  return cmd
      ->add_option("--seconds", c.seconds,
                   "Time budget of one measurement, after warm-up and at least 5 samples (--quick: 0.03 s, 3 samples)")
      ->check(kn::cli::real_range(0.0, 3600.0));
}

// --quick lowers a default, never a value given on the command line.
template <typename T>
void quick_default(const Common& c, const CLI::Option* opt, T& value, T quick) {
  if (c.quick && opt->count() == 0) value = quick;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kn-bench: measure each overhead of GPU training on its own (see docs/overheads.md)"};
  app.option_defaults()->always_capture_default();
  app.require_subcommand(1);

  TransferOptions transfer;
  auto* t = app.add_subcommand("transfer", "Host<->GPU copy latency and bandwidth, 4 B to 1 GiB, pageable and "
                                           "pinned; the cost of one loss.item()");
  auto* t_seconds = add_common(t, transfer.common);
  t->add_option("--plot", transfer.plot, "Write bandwidth against size here (SVG)");
  auto* t_max = t->add_option("--max-bytes", transfer.max_bytes, "Largest copy (--quick: 4 MiB)")
                    ->check(CLI::Range(int64_t(4), int64_t(1) << 36));

  LaunchOptions launch;
  auto* l = app.add_subcommand("launch", "Empty-kernel launch cost: async, launch + sync, in a CUDA graph; the host "
                                         "cost of one Module call");
  auto* l_seconds = add_common(l, launch.common);
  auto* l_k = l->add_option("--kernels", launch.kernels, "Launches per sample, kernels per graph (--quick: 100)")
                  ->check(CLI::Range(1, 100000));

  ComputeOptions compute;
  auto* c = app.add_subcommand("compute", "GEMM, bias, ReLU, softmax-CE and SGD from Iris sizes up, GPU against "
                                          "ceilings and the Eigen CPU backend");
  auto* c_seconds = add_common(c, compute.common);
  c->add_option("--shape", compute.shapes,
                "Layer shapes BxKxN (batch x in x out); default 120x4x10 1024x256x256 4096x1024x1024 "
                "16384x4096x4096 (--quick: the first two)")
      ->check(CLI::Validator([](std::string& v) { return shape_error(v); }, "BxKxN"));
  c->add_option("--cpu-max-gflop", compute.cpu_max_gflop, "Skip CPU GEMMs of more GFLOP than this")
      ->check(kn::cli::real_range(0.0, 1e9));

  GemmOptions gemm;
  auto* g = app.add_subcommand("gemm", "Every kernel of the GEMM series (docs/gemm.md) against cuBLAS: 4096^3, "
                                       "1024^3 and the Iris MLP's products; device time, wall time, max error");
  auto* g_seconds = add_common(g, gemm.common);
  g->add_option("--shape", gemm.shapes,
                "Products MxNxK[:AB], C[M,N] = op(A) op(B), A and B each N or T (default NN); default "
                "4096x4096x4096 1024x1024x1024 120x10x4:NT 120x3x10:NT 10x4x120:TN 120x4x10 (--quick: "
                "256x256x256 120x10x4:NT)")
      ->check(CLI::Validator([](std::string& v) { return gemm_shape_error(v); }, "MxNxK[:AB]"));
  g->add_option("--variant", gemm.variants,
                "Only these variants: 0_library 01_naive 02_coalesced 03_smem_tiled 04_blocktile_1d "
                "05_blocktile_2d 06_vectorized 07_warptile 08_tiny (default: all)")
      ->check(CLI::IsMember({"0_library", "01_naive", "02_coalesced", "03_smem_tiled", "04_blocktile_1d",
                             "05_blocktile_2d", "06_vectorized", "07_warptile", "08_tiny"}));
  g->add_option("--cpu-max-gflop", gemm.cpu_max_gflop, "Skip CPU GEMMs of more GFLOP than this")
      ->check(kn::cli::real_range(0.0, 1e9));

  IrisOptions iris;
  auto* i = app.add_subcommand("iris", "The lesson's experiment on CPU and GPU, loss read every epoch / every 200 / "
                                       "never, each epoch split into transfer, launch and compute");
  auto* i_seconds = add_common(i, iris.common);
  i->add_option("--mode", iris.mode, "How the GPU epoch runs: eager (one launch per op), graph (one CUDA graph per step), fused (one kernel for all epochs)")
      ->check(CLI::IsMember({"eager", "graph", "fused"}));
  auto* i_epochs =
      i->add_option("--epochs", iris.epochs, "Epochs per run (--quick: 300)")->check(CLI::Range(1, 100000000));
  auto* i_repeats = i->add_option("--repeats", iris.repeats, "Runs of each configuration (--quick: 1)")
                        ->check(CLI::Range(1, 1000));
  i->add_option("--hidden", iris.hidden, "Hidden units")->check(CLI::Range(1, 1 << 20));
  i->add_option("--lr", iris.lr, "SGD learning rate")->check(kn::cli::real_range(0.0, 1e6));

  SweepOptions sweep;
  auto* s = app.add_subcommand("sweep", "Rows (120 .. 1,000,000) x hidden width (10 .. 4096): CPU against GPU time "
                                        "per epoch, where the GPU starts to win; then batch sizes 8 .. 120 on the "
                                        "Iris problem");
  auto* s_seconds = add_common(s, sweep.common);
  s->add_option("--plot", sweep.plot, "Write the chart here (SVG): GPU speed-up, or CPU time without a GPU");
  s->add_option("--rows", sweep.rows, "Batch rows; default 120 1000 10000 100000 1000000 (--quick: 120 1000)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t(1), (int64_t(1) << 31) - 1));
  s->add_option("--hidden", sweep.hidden, "Hidden widths; default 10 64 512 4096 (--quick: 10 64)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t(1), (int64_t(1) << 20) - 1));
  s->add_option("--batch-size", sweep.batch_sizes,
                "Batch sizes of the second table: the Iris problem (120 rows, hidden 10) trained on shuffled "
                "mini-batches, time per epoch and per row; 120 or more is the full batch; default 8 16 32 64 120")
      ->delimiter(',')
      ->check(CLI::Range(int64_t(1), (int64_t(1) << 31) - 1));
  s->add_option("--max-elements", sweep.max_elements, "Skip cells with more than this many rows x hidden")
      ->check(kn::cli::real_range(1.0, 1e12));
  s->add_option("--cpu-max-seconds", sweep.cpu_max_seconds, "Skip CPU cells predicted to take longer per epoch")
      ->check(kn::cli::real_range(0.0, 1e6));

  FloorOptions floor_o;
  auto* f = app.add_subcommand("floor", "One core's fp32 FMA rate, one Iris epoch's FLOPs and bytes, the floor "
                                        "they give in us, and the eager CPU epoch against it");
  auto* f_seconds = add_common(f, floor_o.common);
  f->add_option("--hidden", floor_o.hidden, "Hidden units")->check(CLI::Range(1, 1 << 20));
  auto* f_epochs = f->add_option("--epochs", floor_o.epochs, "Eager CPU epochs per run, 5 runs (--quick: 1000, 1 run)")
                       ->check(CLI::Range(1, 100000000));

  Common all;
  std::string plot_dir;
  auto* a = app.add_subcommand("all", "transfer, launch, compute, iris and sweep (not gemm), in a size that takes a few minutes on an H200");
  auto* a_seconds = add_common(a, all);
  a->add_option("--plot-dir", plot_dir, "Write transfer.svg and sweep.svg into this directory");

  if (const auto code = kn::cli::parse(app, argc, argv)) return *code;

  const std::pair<Common*, CLI::Option*> budgets[] = {{&transfer.common, t_seconds}, {&launch.common, l_seconds},
                                                      {&compute.common, c_seconds}, {&gemm.common, g_seconds}, {&iris.common, i_seconds},
                                                      {&sweep.common, s_seconds},   {&floor_o.common, f_seconds},
                                                      {&all, a_seconds}};
  for (auto [common, seconds] : budgets) quick_default(*common, seconds, common->seconds, 0.03);
  quick_default(transfer.common, t_max, transfer.max_bytes, int64_t(4) << 20);
  quick_default(launch.common, l_k, launch.kernels, 100);
  quick_default(iris.common, i_epochs, iris.epochs, 300);
  quick_default(iris.common, i_repeats, iris.repeats, 1);
  quick_default(floor_o.common, f_epochs, floor_o.epochs, 1000);
  // The chosen subcommand's --threads, before any work.
  const std::pair<CLI::App*, const Common*> commands[] = {{t, &transfer.common}, {l, &launch.common},
                                                          {c, &compute.common},  {g, &gemm.common},
                                                          {i, &iris.common},     {s, &sweep.common},
                                                          {f, &floor_o.common},  {a, &all}};
  for (auto [cmd, common] : commands)
    if (cmd->parsed()) kn::set_num_threads(common->threads);

  // Every output is checked before the first measurement: a path that cannot be written
  // fails now, in a second, not after minutes of measuring (kn::io::check_output_path).
  auto check_outputs = [](const Common& c, const std::string& plot) {
    if (!c.out.empty()) kn::io::check_output_path(c.out, "--out");
    if (!plot.empty()) kn::io::check_output_path(plot, "--plot");
  };
  try {
    json result;
    std::string out;
    if (*t) check_outputs(transfer.common, transfer.plot), result = run_transfer(transfer), out = transfer.common.out;
    if (*l) check_outputs(launch.common, ""), result = run_launch(launch), out = launch.common.out;
    if (*c) check_outputs(compute.common, ""), result = run_compute(compute), out = compute.common.out;
    if (*g) check_outputs(gemm.common, ""), result = run_gemm(gemm), out = gemm.common.out;
    if (*i) check_outputs(iris.common, ""), result = run_iris(iris), out = iris.common.out;
    if (*s) check_outputs(sweep.common, sweep.plot), result = run_sweep(sweep), out = sweep.common.out;
    if (*f) check_outputs(floor_o.common, ""), result = run_floor(floor_o), out = floor_o.common.out;
    if (*a) {
      // Each part with its own defaults, made quick by --quick, plus --seconds.
      transfer = TransferOptions{};
      launch = LaunchOptions{};
      compute = ComputeOptions{};
      iris = IrisOptions{};
      sweep = SweepOptions{};
      for (Common* part : {&transfer.common, &launch.common, &compute.common, &iris.common, &sweep.common}) {
        *part = all;
        part->out.clear();  // one JSON file for everything, below
      }
      if (!plot_dir.empty()) transfer.plot = plot_dir + "/transfer.svg", sweep.plot = plot_dir + "/sweep.svg";
      if (all.quick) {
        transfer.max_bytes = int64_t(4) << 20;
        launch.kernels = 100;
        iris.epochs = 300;
        iris.repeats = 1;
      }
      if (!plot_dir.empty()) {
        KN_CHECK(!std::filesystem::exists(plot_dir) || std::filesystem::is_directory(plot_dir), "--plot-dir ",
                 plot_dir, ": exists and is not a directory");
        std::filesystem::create_directories(plot_dir);
      }
      check_outputs(all, "");
      check_outputs(transfer.common, transfer.plot);
      check_outputs(sweep.common, sweep.plot);
      result = json{{"bench", "all"}, {"quick", all.quick}};
      result["transfer"] = run_transfer(transfer);
      result["launch"] = run_launch(launch);
      result["compute"] = run_compute(compute);
      result["iris"] = run_iris(iris);
      result["sweep"] = run_sweep(sweep);
      out = all.out;
    }
    write_json(out, result);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kn-bench: error: %s\n", e.what());
    return 1;
  }
}
