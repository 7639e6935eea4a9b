// kn-iris: the lesson's Iris MLP, trained on the CPU or the GPU.
//
//   kn-iris                          # 20000 epochs, GPU when present, loss read every epoch
//   kn-iris --device cpu --record-every 200 --plot loss.svg
//   kn-iris --trace-epochs 1 --epochs 1  # what each layer runs, op by op (to stderr)
//   kn-iris --mode graph             # one CUDA graph launch per epoch; --mode fused: one kernel in all
//   kn-iris --batch-size 16 --epochs 300 --lr 0.1   # shuffled mini-batches, one SGD step per batch
//   kn-iris --optimizer adam --lr 0.01 --epochs 2000   # or sgd --momentum 0.9, adamw --weight-decay 0.01
//   kn-iris --device cpu --threads 1  # the CPU backend's threads (big GEMMs only; Iris runs on one anyway)
//
// Ends with one machine-readable line, then (without --quiet) one line that sets it
// beside the lesson's PyTorch figures:
//   result device=cpu epochs=20000 time_s=... us_per_epoch=... final_loss=... test_acc=... mode=eager threads=N
// (with --batch-size N > 0, "batch_size=N " comes before mode=; final_loss is then the last
// epoch's row-weighted mean of its batch losses; with anything but plain SGD,
// "optimizer=NAME momentum=M weight_decay=W " comes there too)
//   lesson: PyTorch took 3 s on the CPU (150 us/epoch) and 22 s on a GPU ...
#include <cstdio>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "iris_train.hpp"
#include "svg.hpp"

int main(int argc, char** argv) {
  kn::iris::Config cfg;
  std::string device = "auto", mode = "eager", save_weights, loss_csv, plot;
  int print_every = 100;
  bool quiet = false;

  CLI::App app{"Train the lesson's Iris MLP (4-hidden-3, SGD on the full batch or on mini-batches) with kernelnet"};
  app.option_defaults()->always_capture_default();
  app.add_option("--data", cfg.data, "Iris CSV (default: the bundled data/iris.csv)");
  app.add_option("--device", device, "cpu, cuda, or auto (cuda when a device is present)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  app.add_option("--epochs", cfg.epochs, "Training epochs")->check(CLI::Range(1, 100000000));
  app.add_option("--lr", cfg.lr, "Learning rate (of whichever --optimizer)")->check(kn::cli::real_range(0, 1e6));
  app.add_option("--optimizer", cfg.optimizer,
                 "sgd (the lesson's: torch.optim.SGD), adam or adamw (torch.optim.Adam, AdamW; betas 0.9, 0.999, eps "
                 "1e-8). Anything but plain SGD trains with --mode eager")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  app.add_option("--momentum", cfg.momentum, "SGD momentum (0: none, the lesson's)")->check(kn::cli::real_range(0, 1e6));
  app.add_option("--weight-decay", cfg.weight_decay,
                 "Weight decay: SGD's and Adam's L2 term on the gradient, AdamW's decoupled decay (default 0; "
                 "PyTorch's AdamW default is 1e-2)")
      ->check(kn::cli::real_range(0, 1e6));
  app.add_option("--batch-size", cfg.batch_size,
                 "Rows per SGD step: 0 the full batch (the lesson, one step per epoch); N > 0 shuffled mini-batches "
                 "of N, a new order every epoch (seeded by --seed), one step per batch; --mode eager only")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--hidden", cfg.hidden, "Hidden units")->check(CLI::Range(1, 1 << 20));
  app.add_option("--test-size", cfg.test_size, "Fraction of rows held out for testing")
      ->check(kn::cli::real_range(0, 1, /*open=*/true));
  app.add_option("--seed", cfg.seed, "Seed of the train/test split (scikit-learn's random_state)");
  app.add_option("--init-seed", cfg.init_seed, "Seed of the initial weights (torch.manual_seed)");
  app.add_option("--init-weights", cfg.init_weights, "Start from these weights (safetensors)")
      ->check(CLI::ExistingFile);
  app.add_option("--save-weights", save_weights, "Write the trained weights here (safetensors)");
  app.add_option("--record-every", cfg.record_every,
                 "Read the loss back every N epochs: 1 as the lesson's first script, 200 its fix, 0 never")
      ->check(CLI::Range(0, 100000000));
  app.add_option("--print-every", print_every, "Print a recorded loss every N epochs (0: never)")
      ->check(CLI::Range(0, 100000000));
  app.add_option("--loss-csv", loss_csv, "Write the recorded losses here (epoch,loss)");
  app.add_option("--plot", plot, "Write the loss curve here (SVG)");
  app.add_option("--trace-epochs", cfg.trace_epochs,
                 "Trace the first N epochs to stderr: every op or kernel with the layer that ran it, and a "
                 "summary per epoch (KN_TRACE=1 traces them all)")
      ->check(CLI::Range(0, 100000000));
  app.add_option("--mode", mode,
                 "How each epoch reaches the GPU: eager (a launch per op, the lesson's loop), graph (the epoch "
                 "captured once into a CUDA graph, one launch per epoch), fused (one kernel for all epochs; models "
                 "too big for it fall back to graph). The CPU runs eager and fused (one loop for all epochs, the "
                 "rows in SIMD lanes; models too big for it fall back to eager)")
      ->check(CLI::IsMember({"eager", "graph", "fused"}));
  app.add_option("--readback-every", cfg.readback_every,
                 "--mode graph: copy the losses the device logged back every N epochs, one synchronisation each "
                 "(0: once, at the end)")
      ->check(CLI::Range(0, 100000000));
  cfg.threads = kn::get_num_threads();
  app.add_option("--threads", cfg.threads,
                 "Threads of the CPU backend's big GEMMs (kn::set_num_threads); Iris-sized work runs on one "
                 "whatever this says")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--quiet", quiet, "Print only the result line");
  // Flags that parse alone but not together: usage errors (exit 2) too, before any work.
  app.callback([&] {
    if (cfg.momentum != 0.0 && cfg.optimizer != "sgd")
      throw CLI::ValidationError("--momentum", "is SGD's; --optimizer " + cfg.optimizer +
                                 " has betas (0.9, 0.999) instead");
    if (!cfg.plain_sgd() && mode != "eager")
      throw CLI::ValidationError("--optimizer", cfg.optimizer + (cfg.momentum != 0.0 ? " with --momentum" : "") +
                                 (cfg.weight_decay != 0.0 ? " with --weight-decay" : "") +
                                 " trains with --mode eager only; --mode " + mode + " runs plain SGD");
    if (cfg.batch_size > 0 && mode != "eager")
      throw CLI::ValidationError("--batch-size", std::to_string(cfg.batch_size) + " trains with --mode eager only; "
                                 "--mode " + mode + " runs the full batch (--batch-size 0)");
    for (const char* flag : {"--loss-csv", "--plot"}) {
      if (app[flag]->count() == 0) continue;
      if (cfg.record_every == 0)
        throw CLI::ValidationError(flag, "needs recorded losses, and --record-every 0 records none: give "
                                         "--record-every N with N > 0");
      if (cfg.record_every > cfg.epochs)
        throw CLI::ValidationError(flag, "needs recorded losses, and --record-every " +
                                             std::to_string(cfg.record_every) + " records none in --epochs " +
                                             std::to_string(cfg.epochs));
    }
  });
  if (const auto code = kn::cli::parse(app, argc, argv)) return *code;
  // Each progress line reaches a pipe or a file as it is printed (stdout is otherwise
  // fully buffered there): `kn-iris | tee log` shows progress, an interrupted run keeps
  // its log, and the trace on stderr stays in order with it.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  try {
    if (device == "auto") cfg.device = kn::cuda::is_available() ? kn::Device::cuda(0) : kn::Device::cpu();
    else if (device == "cuda") {
      KN_CHECK(kn::cuda::is_available(), "--device cuda: CUDA is not available: ", kn::cuda::unavailable_reason());
      cfg.device = kn::Device::cuda(0);
    }
    cfg.mode = kn::iris::parse_mode(mode);
    // Every output is checked before the first epoch: a missing folder or a read-only file
    // fails now, not after 20000 epochs with the trained weights lost.
    for (const auto& [path, flag] : {std::pair{save_weights, "--save-weights"}, {loss_csv, "--loss-csv"},
                                     {plot, "--plot"}})
      if (!path.empty()) kn::io::check_output_path(path, flag);
    if (!quiet) std::printf("device: %s\n", cfg.device.str().c_str());

    kn::manual_seed(cfg.init_seed);
    kn::iris::MLP model(4, cfg.hidden, 3);
    if (!cfg.init_weights.empty()) kn::load(model, cfg.init_weights);

    const bool print = !quiet;
    kn::iris::Result r = kn::iris::train(cfg, model, [&](int epoch, float loss) {
      if (print && print_every > 0 && epoch % print_every == 0)
        std::printf("Epoch [%d/%d], Loss: %.4f\n", epoch, cfg.epochs, loss);
    });

    if (!save_weights.empty()) kn::save(model, save_weights);
    if (!loss_csv.empty()) {
      std::string text = "epoch,loss\n";
      char line[64];
      for (auto& [epoch, loss] : r.losses) {
        std::snprintf(line, sizeof line, "%d,%.7g\n", epoch, loss);
        text += line;
      }
      kn::io::write_text_atomic(loss_csv, text);
    }
    if (!plot.empty()) {
      kn::svg::Chart chart;
      chart.title = "Iris MLP training loss (" + cfg.device.str() + ")";
      chart.x_label = "epoch";
      chart.y_label = "cross-entropy loss";
      kn::svg::Series s;
      s.label = "loss";
      for (auto& [epoch, loss] : r.losses) s.x.push_back(epoch), s.y.push_back(loss);
      chart.series.push_back(s);
      kn::io::write_text_atomic(plot, kn::svg::render(chart));
    }
    if (!quiet && cfg.device.is_cuda())
      std::printf("device work: %lld launches, %lld syncs, %lld B to device, %lld B to host\n",
                  (long long)r.stats.launches, (long long)r.stats.syncs, (long long)r.stats.h2d_bytes,
                  (long long)r.stats.d2h_bytes);
    if (!quiet) std::printf("test accuracy: %.4f\n", r.test_acc);
    std::string batch = cfg.batch_size > 0 ? "batch_size=" + std::to_string(cfg.batch_size) + " " : "";
    if (!cfg.plain_sgd()) {
      char opt[160];
      std::snprintf(opt, sizeof opt, "optimizer=%s momentum=%g weight_decay=%g ", cfg.optimizer.c_str(), cfg.momentum,
                    cfg.weight_decay);
      batch += opt;
    }
    std::printf("result device=%s epochs=%d time_s=%.4f us_per_epoch=%.2f final_loss=%.6f test_acc=%.4f %smode=%s "
                "threads=%d\n",
                cfg.device.is_cuda() ? "cuda" : "cpu", cfg.epochs, r.time_s, r.time_s * 1e6 / cfg.epochs,
                r.final_loss, r.test_acc, batch.c_str(), kn::iris::mode_name(r.mode), kn::get_num_threads());
    if (!quiet) std::printf("%s\n", kn::iris::lesson_comparison(cfg.epochs, r.time_s).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kn-iris: error: %s\n", e.what());
    return 1;
  }
}
