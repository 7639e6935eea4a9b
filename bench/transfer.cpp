// kn-bench transfer: what it costs to move bytes between host and GPU, and what one
// loss.item() costs.
//
// A copy has a fixed cost (the driver call, the DMA engine's set-up, the round trip over
// PCIe, the host noticing it is done) and a per-byte cost (the link's bandwidth). Small
// copies are all fixed cost, so the table runs from 4 bytes, one float, to 1 GiB, where
// the fixed cost vanishes. Pageable memory (any std::vector) must first be staged by the
// driver into page-locked memory; pinned memory (cudaMallocHost) is read by the DMA engine
// directly, which is why it is faster.
//
// Each copy is timed two ways: the host's wall clock from the call until the data is
// usable (what a program waits), and CUDA events (the GPU's view of the copy alone).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <kernelnet/tensor.hpp>

#include "bench.hpp"
#include "gpu.hpp"
#include "report.hpp"
#include "svg.hpp"

namespace kn::bench {

namespace {

std::vector<int64_t> copy_sizes(int64_t max_bytes) {  // 4 B, 16 B, ... up to max_bytes
  std::vector<int64_t> s;
  for (int64_t b = 4; b <= max_bytes; b *= 4) s.push_back(b);
  return s;
}

// Host memory that is never all zeros: a page of zeros can be mapped copy-on-write to
// one shared page, which would make a "copy" from it faster than real data.
std::vector<char> host_pattern(int64_t bytes) {
  std::vector<char> v(size_t(bytes > 0 ? bytes : 1));
  for (size_t i = 0; i < v.size(); ++i) v[i] = char(i * 131 + 7);
  return v;
}

json cpu_part(const TransferOptions& o, const std::vector<int64_t>& sizes, kn::svg::Chart& chart) {
  const Budget b = budget(o.common);
  // The CPU reference: the same bytes copied within host memory, no PCIe involved.
  std::vector<char> src = host_pattern(sizes.back()), dst(src.size());
  Table t({"size", "host memcpy (min / median / p90 us)", "bandwidth"});
  json rows = json::array();
  kn::svg::Series s{"host memcpy", {}, {}};
  for (int64_t bytes : sizes) {
    const Spread sp = time_host(
        [&] {
          std::memcpy(dst.data(), src.data(), size_t(bytes));
          clobber_memory();
        },
        b);
    const double bw = double(bytes) / sp.median;
    t.add({bytes_str(double(bytes)), spread_us(sp), rate(bw, "GB/s")});
    rows.push_back({{"bytes", bytes}, {"time", sp}, {"gb_per_s", bw / 1e9}});
    s.x.push_back(double(bytes)), s.y.push_back(bw / 1e9);
  }
  t.print("CPU: host memcpy of the same sizes (the reference: no PCIe)");
  chart.series.push_back(s);

  // The lesson's loss.item() on the CPU backend: a 4-byte read of host memory.
  Tensor scalar = Tensor::full(Shape{}, 0.5f);
  volatile float sink = 0;
  const Spread item = time_host([&] { sink = sink + scalar.item(); }, b);
  Table ti({"what", "min / median / p90 (us)"});
  ti.add({"loss.item() on a CPU tensor", spread_us(item)});
  ti.print("CPU: item()");
  return json{{"memcpy", rows}, {"item", item}};
}

#if KN_WITH_CUDA
// Page-locked host memory, freed with cudaFreeHost.
struct Pinned {
  explicit Pinned(int64_t bytes) : p(gpu::pinned_alloc(size_t(bytes))) {}
  ~Pinned() { gpu::pinned_free(p); }
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  void* p;
};

CopyCost measure_copy(void* host, void* device, int64_t bytes, bool to_device, const Budget& b) {
  const auto kind = to_device ? gpu::Copy::HostToDevice : gpu::Copy::DeviceToHost;
  void* dst = to_device ? device : host;
  const void* src = to_device ? host : device;
  CopyCost c;
  gpu::sync();
  c.wall = measure(
      [&] {
        const auto t0 = Clock::now();
        gpu::copy_async(dst, src, size_t(bytes), kind);
        gpu::sync();
        return seconds_since(t0);
      },
      b);
  gpu::Events ev;
  c.device = measure(
      [&] {
        ev.start();
        gpu::copy_async(dst, src, size_t(bytes), kind);
        ev.stop();
        return ev.seconds();
      },
      b);
  return c;
}

json gpu_part(const TransferOptions& o, const std::vector<int64_t>& sizes, kn::svg::Chart& chart) {
  const Budget b = budget(o.common);
  const int64_t max_bytes = sizes.back();
  std::vector<char> pageable = host_pattern(max_bytes);
  Pinned pinned(max_bytes);
  std::memcpy(pinned.p, pageable.data(), size_t(max_bytes));
  Tensor dev = Tensor::empty({(max_bytes + 3) / 4}, Dtype::Float32, Device::cuda(0));
  gpu::copy_async(dev.raw(), pageable.data(), size_t(max_bytes), gpu::Copy::HostToDevice);  // not all zeros either
  gpu::sync();

  struct Mode {
    const char* name;
    bool to_device, pinned;
  };
  const Mode modes[] = {{"H2D pageable", true, false},
                        {"H2D pinned", true, true},
                        {"D2H pageable", false, false},
                        {"D2H pinned", false, true}};
  Table wall({"size", "H2D pageable", "H2D pinned", "D2H pageable", "D2H pinned"});
  Table device({"size", "H2D pageable", "H2D pinned", "D2H pageable", "D2H pinned"});
  std::vector<kn::svg::Series> series;
  for (const Mode& m : modes) series.push_back({m.name, {}, {}});
  json rows = json::array();
  for (int64_t bytes : sizes) {
    std::vector<std::string> wr{bytes_str(double(bytes))}, dr{bytes_str(double(bytes))};
    for (size_t k = 0; k < 4; ++k) {
      const Mode& m = modes[k];
      const CopyCost c = measure_copy(m.pinned ? pinned.p : pageable.data(), dev.raw(), bytes, m.to_device, b);
      const double bw = double(bytes) / c.wall.median, dev_bw = double(bytes) / c.device.median;
      wr.push_back(us(c.wall.median) + " us · " + rate(bw, "GB/s"));
      dr.push_back(us(c.device.median) + " us · " + rate(dev_bw, "GB/s"));
      series[k].x.push_back(double(bytes)), series[k].y.push_back(bw / 1e9);
      rows.push_back({{"bytes", bytes},
                      {"direction", m.to_device ? "h2d" : "d2h"},
                      {"memory", m.pinned ? "pinned" : "pageable"},
                      {"wall", c.wall},
                      {"device", c.device},
                      {"wall_gb_per_s", bw / 1e9},
                      {"device_gb_per_s", dev_bw / 1e9}});
    }
    wall.add(wr);
    device.add(dr);
  }
  wall.print("GPU: one copy, host wall time from the call until the data is usable (median · bandwidth)");
  device.print("GPU: the same copies seen by the GPU (CUDA events, median · bandwidth)");
  for (auto& s : series) chart.series.push_back(s);

  const Spread item = item_cost(b), sync = sync_cost(b);
  Table ti({"what", "min / median / p90 (us)"});
  ti.add({"loss.item() on a GPU tensor (synchronise + 4-byte copy to host)", spread_us(item)});
  ti.add({"kn::cuda::synchronize() on an idle stream", spread_us(sync)});
  ti.print("GPU: the lesson's loss.item()");
  return json{{"available", true}, {"copies", rows}, {"item", item}, {"sync", sync}};
}
#endif

}  // namespace

#if KN_WITH_CUDA
Spread item_cost(const Budget& b) {
  Tensor scalar = Tensor::full(Shape{}, 0.5f, Device::cuda(0));
  kn::cuda::synchronize(0);
  volatile float sink = 0;
  return time_host([&] { sink = sink + scalar.item(); }, b, 1);
}

Spread sync_cost(const Budget& b) {
  kn::cuda::synchronize(0);
  return time_host([] { kn::cuda::synchronize(0); }, b, 1);
}

CopyCost copy_cost(int64_t bytes, bool to_device, bool pinned, const Budget& b) {
  std::vector<char> pageable;
  std::unique_ptr<Pinned> locked;
  void* host;
  if (pinned) {
    locked = std::make_unique<Pinned>(bytes);
    std::memset(locked->p, 0x5a, size_t(bytes));
    host = locked->p;
  } else {
    pageable = host_pattern(bytes);
    host = pageable.data();
  }
  Tensor dev = Tensor::empty({(bytes + 3) / 4}, Dtype::Float32, Device::cuda(0));
  return measure_copy(host, dev.raw(), bytes, to_device, b);
}
#endif

json run_transfer(const TransferOptions& o) {
  KN_CHECK(o.max_bytes >= 4, "--max-bytes must be at least 4");
  std::printf("## kn-bench transfer: host <-> GPU copies from 4 B to %s, and loss.item()\n",
              bytes_str(double(o.max_bytes)).c_str());
  json r = header("transfer", o.common);
  const std::vector<int64_t> sizes = copy_sizes(o.max_bytes);
  kn::svg::Chart chart;
  chart.title = "Copy bandwidth by size (wall time, median)";
  chart.x_label = "bytes per copy";
  chart.y_label = "GB/s";
  chart.log_x = chart.log_y = true;
  r["cpu"] = cpu_part(o, sizes, chart);
  if (const std::string why = gpu_skip_reason(); !why.empty()) {
    r["gpu"] = gpu_skipped(why);
  } else {
#if KN_WITH_CUDA
    r["gpu"] = gpu_part(o, sizes, chart);
#endif
  }
  write_svg(o.plot, kn::svg::render(chart));
  return r;
}

}  // namespace kn::bench
