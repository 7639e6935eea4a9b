// kn-bench sweep: the lesson's MLP (4 -> hidden -> 3) with more rows and wider layers,
// CPU against GPU, time per training epoch: where does the GPU start to win?
//
// Each cell trains on random rows (features in [0.05, 1), labels 0..2) already on the
// device, with the loop of kn::iris::train and the loss never read back, so the cell
// measures the epoch itself: forward, loss, backward, SGD step. GPU samples end with a
// synchronise, so queued work is counted.
//
// Then the batch-size axis: the Iris-sized problem (120 rows, hidden 10) trained on
// shuffled mini-batches of 8, 16, 32, 64 rows and the full 120 (--batch-size), as
// kn-iris --batch-size trains: time per epoch and per row on each device. Its JSON is
// "batch_sizes" (docs/minibatch.md).
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>

#include "bench.hpp"
#include "iris_train.hpp"
#include "report.hpp"
#include "svg.hpp"

namespace kn::bench {

namespace {

std::string human_time(double s) {
  if (s < 1e-3) return fixed(s * 1e6, s < 1e-5 ? 1 : 0) + " us";
  if (s < 1) return fixed(s * 1e3, s < 1e-2 ? 2 : 1) + " ms";
  return fixed(s, 2) + " s";
}

// Seconds per epoch on `device`: kn::iris::train's loop body (forward, loss, zero_grad,
// backward, step) with the loss never read back. batch_size 0 (or >= the rows): one step
// on the full batch; otherwise kn-iris --batch-size's loop, one step per shuffled batch
// from a kn::data::DataLoader (its gathers and per-epoch permutation counted).
Spread time_epochs(int64_t hidden, Device device, const Tensor& X_cpu, const Tensor& y_cpu, const Budget& b,
                   int64_t batch_size = 0) {
  kn::manual_seed(0);
  kn::iris::MLP model(4, hidden, 3);
  model.to(device);
  const Tensor X = X_cpu.to(device), y = y_cpu.to(device);
  CrossEntropyLoss criterion;
  optim::SGD optimizer(model.parameters(), 0.01f);
  const bool mini = batch_size > 0 && batch_size < X.size(0);
  data::DataLoader loader(data::TensorDataset(X, y),
                          data::DataLoaderOptions().batch_size(mini ? batch_size : X.size(0)).shuffle(mini));
  auto step = [&](const Tensor& Xb, const Tensor& yb) {
    Tensor loss = criterion(model(Xb), yb);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  };
  auto epoch = [&] {
    if (!mini) return step(X, y);
    for (auto& batch : loader) step(batch.data, batch.target);
  };
  auto sample = [&](int64_t calls) {
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < calls; ++i) epoch();
    if (device.is_cuda()) kn::cuda::synchronize(device.index);
    return seconds_since(t0) / double(calls);
  };
  // The first epoch warms up (allocations, pools) and sizes the samples: ~2 ms each.
  const double first = sample(1);
  const int64_t calls = std::clamp<int64_t>(int64_t(2e-3 / std::max(first, 1e-7)), 1, 1000);
  return measure([&] { return sample(calls); }, b, calls);
}

// The batch-size axis: the Iris-sized problem (120 rows, the lesson's 4-10-3 MLP), each
// batch size's time per epoch and per training row ("sample") on the CPU and the GPU.
// Smaller batches take more steps per epoch for the same arithmetic, so the time per
// epoch shows each step's fixed cost: small on the CPU, a dozen launches on the GPU.
json batch_axis(const std::vector<int64_t>& sizes, bool gpu, const Budget& b) {
  const int64_t rows = 120, hidden = 10;
  std::printf("\n## Batch size: %lld rows (Iris), hidden %lld, one SGD step per batch, a new order every epoch\n",
              (long long)rows, (long long)hidden);
  kn::manual_seed(uint64_t(rows));
  const Tensor X = kn::rand({rows, 4}, 0.05, 1.0);
  Tensor y = Tensor::empty({rows}, Dtype::Int64);
  for (int64_t i = 0; i < rows; ++i) y.data<int64_t>()[i] = i % 3;
  std::vector<std::string> head{"batch", "steps / epoch", "CPU / epoch", "CPU / sample"};
  if (gpu) head.insert(head.end(), {"GPU / epoch", "GPU / sample", "GPU vs CPU"});
  Table table(head);
  json cells = json::array();
  for (int64_t bs : sizes) {
    const bool full = bs >= rows;
    const int64_t steps = full ? 1 : (rows + bs - 1) / bs;
    json cell{{"batch_size", bs}, {"full_batch", full}, {"steps_per_epoch", steps}};
    const Spread cpu = time_epochs(hidden, Device::cpu(), X, y, b, bs);
    cell["cpu"] = json{{"per_epoch", cpu}, {"per_sample_us", cpu.median * 1e6 / double(rows)}};
    std::vector<std::string> line{std::to_string(bs) + (full ? " (full)" : ""), std::to_string(steps),
                                  human_time(cpu.median), us(cpu.median / double(rows)) + " us"};
    if (gpu) {
      const Spread dev = time_epochs(hidden, Device::cuda(0), X, y, b, bs);
      const double speedup = cpu.median / dev.median;
      cell["gpu"] = json{{"per_epoch", dev}, {"per_sample_us", dev.median * 1e6 / double(rows)}};
      cell["gpu_speedup"] = speedup;
      const std::string winner =
          speedup > 1 ? "**GPU " + fixed(speedup, 1) + "×**" : "CPU " + fixed(1 / speedup, 1) + "×";
      line.insert(line.end(), {human_time(dev.median), us(dev.median / double(rows)) + " us", winner});
    }
    table.add(line);
    cells.push_back(cell);
    std::fflush(stdout);
  }
  table.print(gpu ? "Time per epoch and per training row, CPU and GPU (bold: the GPU wins)"
                  : "Time per epoch and per training row on the CPU");
  return json{{"rows", rows}, {"hidden", hidden}, {"cells", cells}};
}

}  // namespace

json run_sweep(const SweepOptions& o) {
  std::vector<int64_t> rows = o.rows, hidden = o.hidden;
  if (rows.empty())
    rows = o.common.quick ? std::vector<int64_t>{120, 1000} : std::vector<int64_t>{120, 1000, 10000, 100000, 1000000};
  if (hidden.empty()) hidden = o.common.quick ? std::vector<int64_t>{10, 64} : std::vector<int64_t>{10, 64, 512, 4096};
  std::vector<int64_t> batches = o.batch_sizes.empty() ? std::vector<int64_t>{8, 16, 32, 64, 120} : o.batch_sizes;
  for (int64_t v : batches) KN_CHECK(v >= 1 && v < (int64_t(1) << 31), "--batch-size ", v, ": must be in [1, 2^31)");
  std::sort(batches.begin(), batches.end());
  for (int64_t v : rows) KN_CHECK(v >= 1 && v < (int64_t(1) << 31), "--rows ", v, ": must be in [1, 2^31)");
  for (int64_t v : hidden) KN_CHECK(v >= 1 && v < (int64_t(1) << 20), "--hidden ", v, ": must be in [1, 2^20)");
  std::sort(rows.begin(), rows.end());
  std::sort(hidden.begin(), hidden.end());
  std::printf("## kn-bench sweep: the 4-hidden-3 MLP, rows x hidden width, time per training epoch, threads=%d\n",
              kn::get_num_threads());

  json r = header("sweep", o.common);
  Budget b = budget(o.common);
  b.warmup = 0;  // time_epochs warms up itself
  b.min_samples = 3;
  const std::string why = gpu_skip_reason();
  const bool gpu = why.empty();

  // The biggest CPU cell measured so far: its time per element predicts the next ones.
  double cpu_s_per_element = 0, cpu_biggest = 0;
  std::vector<std::string> head{"rows \\ hidden"};
  for (int64_t h : hidden) head.push_back(std::to_string(h));
  Table grid(head), per_element(head);
  json cells = json::array();
  std::map<int64_t, kn::svg::Series> cpu_series, speedup_series;
  std::map<int64_t, std::optional<int64_t>> wins_from;  // hidden -> first rows where the GPU wins
  for (int64_t n : rows) {
    std::vector<std::string> line{std::to_string(n)}, line_pe{std::to_string(n)};
    for (int64_t h : hidden) {
      const double elements = double(n) * double(h);
      json cell{{"rows", n}, {"hidden", h}};
      if (elements > o.max_elements) {
        line.push_back("skipped (> --max-elements)");
        line_pe.push_back("");
        cell["skipped"] = "rows x hidden is over --max-elements";
        cells.push_back(cell);
        continue;
      }
      // Random inputs, never all zeros; labels cycle through the 3 classes in random order.
      kn::manual_seed(uint64_t(n));
      const Tensor X = kn::rand({n, 4}, 0.05, 1.0);
      Tensor y = Tensor::empty({n}, Dtype::Int64);
      std::mt19937 gen{uint32_t(n)};
      for (int64_t i = 0; i < n; ++i) y.data<int64_t>()[i] = int64_t(gen() % 3);

      std::string text;
      Spread cpu, dev;
      const double predicted = cpu_s_per_element * elements;
      if (predicted > o.cpu_max_seconds) {
        text = "CPU skipped (~" + human_time(predicted) + ")";
        cell["cpu"] = json{{"skipped", "predicted " + fixed(predicted, 1) + " s per epoch, over --cpu-max-seconds"}};
      } else {
        cpu = time_epochs(h, Device::cpu(), X, y, b);
        if (elements >= cpu_biggest) cpu_biggest = elements, cpu_s_per_element = cpu.median / elements;
        text = "CPU " + human_time(cpu.median);
        cell["cpu"] = json{{"per_epoch", cpu}, {"ns_per_element", cpu.median * 1e9 / elements}};
        cpu_series[h].x.push_back(double(n)), cpu_series[h].y.push_back(cpu.median * 1e3);
      }
      if (gpu) {
        dev = time_epochs(h, Device::cuda(0), X, y, b);
        text += " · GPU " + human_time(dev.median);
        cell["gpu"] = json{{"per_epoch", dev}};
        if (cpu.samples) {
          const double speedup = cpu.median / dev.median;
          text += speedup > 1 ? " · **GPU " + fixed(speedup, 1) + "×**" : " · CPU " + fixed(1 / speedup, 1) + "×";
          cell["gpu_speedup"] = speedup;
          speedup_series[h].x.push_back(double(n)), speedup_series[h].y.push_back(speedup);
          if (speedup > 1 && !wins_from[h]) wins_from[h] = n;
          if (speedup <= 1) wins_from[h].reset();  // it must keep winning from there on
        }
      }
      line.push_back(text);
      line_pe.push_back(cpu.samples ? fixed(cpu.median * 1e9 / elements, 2) : "");
      cells.push_back(cell);
      std::fflush(stdout);
    }
    grid.add(line);
    per_element.add(line_pe);
  }
  grid.print(gpu ? "Time per epoch, CPU and GPU (bold: the GPU wins, by that factor)" : "Time per epoch on the CPU");
  per_element.print("CPU time per epoch / (rows x hidden), ns: flat where time grows linearly");
  r["cells"] = cells;
  r["batch_sizes"] = batch_axis(batches, gpu, b);

  kn::svg::Chart chart;
  chart.log_x = chart.log_y = true;
  chart.x_label = "rows per batch";
  if (gpu) {
    chart.title = "GPU speed-up over the CPU per epoch (above 1: the GPU wins)";
    chart.y_label = "CPU time / GPU time";
    kn::svg::Series even{"break-even", {double(rows.front()), double(rows.back())}, {1, 1}, true};  // grey, dashed
    chart.series.push_back(even);
    for (auto& [h, s] : speedup_series) s.label = "hidden " + std::to_string(h), chart.series.push_back(s);
    json wins = json::object();
    std::printf("\n");
    for (int64_t h : hidden) {
      const auto& w = wins_from[h];
      wins[std::to_string(h)] = w ? json(*w) : json(nullptr);
      std::printf("hidden %lld: %s\n", (long long)h,
                  w ? ("the GPU wins from " + std::to_string(*w) + " rows on").c_str() : "the GPU never wins here");
    }
    r["gpu_wins_from_rows"] = wins;
    r["gpu"] = json{{"available", true}};
  } else {
    chart.title = "CPU time per epoch";
    chart.y_label = "ms per epoch";
    for (auto& [h, s] : cpu_series) s.label = "hidden " + std::to_string(h), chart.series.push_back(s);
    r["gpu"] = gpu_skipped(why);
  }
  write_svg(o.plot, kn::svg::render(chart));
  return r;
}

}  // namespace kn::bench
