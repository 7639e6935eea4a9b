// kn-bench sweep: the lesson's MLP (4 -> hidden -> 3) with more rows and wider layers,
// CPU against GPU, time per training epoch: where does the GPU start to win?
//
// Each cell trains on random rows (features in [0.05, 1), labels 0..2) already on the
// device, with the loop of kn::iris::train and the loss never read back, so the cell
// measures the epoch itself: forward, loss, backward, SGD step. GPU samples end with a
// synchronise, so queued work is counted.
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
// backward, step) with the loss never read back.
Spread time_epochs(int64_t hidden, Device device, const Tensor& X_cpu, const Tensor& y_cpu, const Budget& b) {
  kn::manual_seed(0);
  kn::iris::MLP model(4, hidden, 3);
  model.to(device);
  const Tensor X = X_cpu.to(device), y = y_cpu.to(device);
  CrossEntropyLoss criterion;
  optim::SGD optimizer(model.parameters(), 0.01f);
  auto epoch = [&] {
    Tensor loss = criterion(model(X), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
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

}  // namespace

json run_sweep(const SweepOptions& o) {
  std::vector<int64_t> rows = o.rows, hidden = o.hidden;
  if (rows.empty())
    rows = o.common.quick ? std::vector<int64_t>{120, 1000} : std::vector<int64_t>{120, 1000, 10000, 100000, 1000000};
  if (hidden.empty()) hidden = o.common.quick ? std::vector<int64_t>{10, 64} : std::vector<int64_t>{10, 64, 512, 4096};
  for (int64_t v : rows) KN_CHECK(v >= 1 && v < (int64_t(1) << 31), "--rows ", v, ": must be in [1, 2^31)");
  for (int64_t v : hidden) KN_CHECK(v >= 1 && v < (int64_t(1) << 20), "--hidden ", v, ": must be in [1, 2^20)");
  std::sort(rows.begin(), rows.end());
  std::sort(hidden.begin(), hidden.end());
  std::printf("## kn-bench sweep: the 4-hidden-3 MLP, rows x hidden width, time per training epoch\n");

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
  Table grid(head);
  json cells = json::array();
  std::map<int64_t, kn::svg::Series> cpu_series, speedup_series;
  std::map<int64_t, std::optional<int64_t>> wins_from;  // hidden -> first rows where the GPU wins
  for (int64_t n : rows) {
    std::vector<std::string> line{std::to_string(n)};
    for (int64_t h : hidden) {
      const double elements = double(n) * double(h);
      json cell{{"rows", n}, {"hidden", h}};
      if (elements > o.max_elements) {
        line.push_back("skipped (> --max-elements)");
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
        cell["cpu"] = json{{"per_epoch", cpu}};
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
      cells.push_back(cell);
      std::fflush(stdout);
    }
    grid.add(line);
  }
  grid.print(gpu ? "Time per epoch, CPU and GPU (bold: the GPU wins, by that factor)" : "Time per epoch on the CPU");
  r["cells"] = cells;

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
