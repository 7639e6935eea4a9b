// kn-bench compute: each op of a training step at growing sizes, on the GPU and on the
// Eigen CPU backend, against ceilings measured in the same run.
//
// A shape BxKxN is one Linear layer's worth of work: a batch of B rows, K inputs, N
// outputs. At it we time the ops an MLP step runs (GEMM y = x W^T, bias add, ReLU,
// softmax cross-entropy over N classes, the SGD update of W and b), from Iris (120x4x10)
// to sizes that fill an H200.
//
// GPU numbers are device time (CUDA events, kernels queued back to back: see
// device_timing.cpp); the host's time to issue each call is shown beside them. Every
// call reads a different copy of its inputs until twice the cache has gone by (GPU L2,
// CPU last-level cache), so no number comes from a cache the data would not be in.
// The ceilings: device-to-device copy bandwidth (counting the read and the write) for
// the memory-bound ops, cuBLAS SGEMM for the GEMM.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include <kernelnet/random.hpp>
#include <kernelnet/tensor.hpp>

#include "bench.hpp"
#include "gpu.hpp"
#include "report.hpp"

namespace kn::bench {

std::string matrix_sizes_error(const std::string& s, int64_t a, int64_t b, int64_t c) {
  const int64_t limit = int64_t(1) << 31;
  if (a <= 0 || b <= 0 || c <= 0 || a * b >= limit || b * c >= limit || a * c >= limit)
    return "'" + s + "': sizes must be positive and each matrix under 2^31 elements";
  return "";
}

std::string shape_error(const std::string& s) {
  int64_t B = 0, K = 0, N = 0;
  char x1 = 0, x2 = 0;
  std::istringstream in(s);
  if (!(in >> B >> x1 >> K >> x2 >> N) || x1 != 'x' || x2 != 'x' || in.peek() != EOF)
    return "'" + s + "': expected BxKxN (batch x in x out), e.g. 1024x256x256";
  return matrix_sizes_error(s, B, K, N);
}

namespace {

struct LayerShape {
  int64_t B, K, N;
  std::string str() const { return std::to_string(B) + "x" + std::to_string(K) + "x" + std::to_string(N); }
};

LayerShape parse_shape(const std::string& s) {
  const std::string error = shape_error(s);
  KN_CHECK(error.empty(), "--shape ", error);
  LayerShape l{};
  char x;
  std::istringstream(s) >> l.B >> x >> l.K >> x >> l.N;
  return l;
}

// The ops of one Linear + ReLU + cross-entropy + SGD step at this shape.
std::vector<OpSpec> ops_at(const LayerShape& l) {
  OpSpec gemm("gemm", l.B, l.N, l.K);  // y[B,N] = x[B,K] W[N,K]^T
  gemm.transB = Transpose::Yes;
  OpSpec sgd("sgd_step", 2);  // W and b
  sgd.tensors = {l.N * l.K, l.N};
  return {gemm, {"bias_add", l.B, l.N}, {"relu_forward", l.B * l.N}, {"softmax_ce_forward", l.B, l.N}, sgd};
}

std::string op_rate(const OpSpec& op, double seconds) {
  return op.name == "gemm" ? rate(op.flops() / seconds, "GFLOP/s") : rate(op.bytes() / seconds, "GB/s");
}

#if KN_WITH_CUDA
struct Ceilings {
  double copy_bytes_per_s = 0;  // device-to-device copy, read + write
  double sgemm_flops_per_s = 0;
  json j;
};

// cuBLAS SGEMM on its own rotated random buffers: device time per call.
Spread time_cublas(gpu::Sgemm& blas, const LayerShape& l, const Budget& b, double l2_bytes) {
  const OpSpec g("gemm", l.B, l.N, l.K);
  const int slots = slots_for(g.bytes(), l2_bytes, 256);
  Tensor A = kn::rand({slots * l.B * l.K}, -1.0, 1.0).to(Device::cuda(0));
  Tensor W = kn::rand({slots * l.N * l.K}, -1.0, 1.0).to(Device::cuda(0));
  Tensor C = Tensor::empty({slots * l.B * l.N}, Dtype::Float32, Device::cuda(0));
  return time_device(
      [&](int64_t i) {
        const int64_t s = i % slots;
        blas.run(C.data<float>() + s * l.B * l.N, A.data<float>() + s * l.B * l.K, W.data<float>() + s * l.N * l.K,
                 int(l.B), int(l.N), int(l.K));
      },
      b);
}

Ceilings measure_ceilings(gpu::Sgemm& blas, const ComputeOptions& o, double l2_bytes) {
  const Budget b = budget(o.common);
  Ceilings c;
  const int64_t bytes = o.common.quick ? (int64_t(64) << 20) : (int64_t(1) << 30);
  Tensor src = kn::rand({bytes / 4}, -1.0, 1.0).to(Device::cuda(0));
  Tensor dst = Tensor::empty({bytes / 4}, Dtype::Float32, Device::cuda(0));
  const Spread copy = time_device(
      [&](int64_t) { gpu::copy_async(dst.raw(), src.raw(), size_t(bytes), gpu::Copy::DeviceToDevice); }, b);
  c.copy_bytes_per_s = 2.0 * double(bytes) / copy.median;
  const LayerShape big = o.common.quick ? LayerShape{2048, 2048, 2048} : LayerShape{8192, 8192, 8192};
  const Spread gemm = time_cublas(blas, big, b, l2_bytes);
  c.sgemm_flops_per_s = 2.0 * double(big.B) * big.N * big.K / gemm.median;
  Table t({"ceiling", "how", "median"});
  t.add({"memory bandwidth", "device-to-device copy of " + bytes_str(double(bytes)) + " (read + write)",
         rate(c.copy_bytes_per_s, "GB/s")});
  t.add({"FP32 GEMM", "cuBLAS SGEMM " + big.str(), rate(c.sgemm_flops_per_s, "GFLOP/s")});
  t.print("GPU: ceilings measured in this run");
  c.j = json{{"copy_bytes", bytes},
             {"copy", copy},
             {"copy_gb_per_s", c.copy_bytes_per_s / 1e9},
             {"sgemm_shape", big.str()},
             {"sgemm", gemm},
             {"sgemm_gflop_per_s", c.sgemm_flops_per_s / 1e9}};
  return c;
}
#endif

}  // namespace

json run_compute(const ComputeOptions& o) {
  std::vector<std::string> shape_args = o.shapes;
  if (shape_args.empty()) {
    shape_args = {"120x4x10", "1024x256x256"};
    if (!o.common.quick)
      for (const char* s : {"4096x1024x1024", "16384x4096x4096"}) shape_args.push_back(s);
  }
  std::vector<LayerShape> shapes;
  for (const auto& s : shape_args) shapes.push_back(parse_shape(s));
  std::printf("## kn-bench compute: each op of a training step, Iris (120x4x10) and up\n");

  json r = header("compute", o.common);
  const Budget b = budget(o.common);
  const std::string why = gpu_skip_reason();
  const bool gpu = why.empty();
  const double llc = double(cpu_llc_bytes());

#if KN_WITH_CUDA
  std::unique_ptr<gpu::Sgemm> blas;
  Ceilings ceilings;
  double l2 = 0;
  if (gpu) {
    l2 = gpu_l2_bytes();
    blas = std::make_unique<gpu::Sgemm>();
    ceilings = measure_ceilings(*blas, o, l2);
    r["ceilings"] = ceilings.j;
  }
#endif

  std::vector<std::string> head{"shape BxKxN", "op", "CPU (min / median / p90 us)", "CPU rate"};
  if (gpu)
    for (const char* h : {"GPU device (min / median / p90 us)", "GPU host issue (median us)", "GPU rate",
                          "% of ceiling", "GPU speed-up"})
      head.push_back(h);
  Table t(head);
  json rows = json::array();
  for (const LayerShape& l : shapes) {
    for (const OpSpec& op : ops_at(l)) {
      json row{{"shape", l.str()},     {"op", op.name},        {"sizes", op.sizes()},
               {"flops", op.flops()}, {"bytes", op.bytes()}};
      std::vector<std::string> cells{l.str(), op.label()};
      Spread cpu;
      if (op.flops() > o.cpu_max_gflop * 1e9) {
        cells.insert(cells.end(), {"skipped (> --cpu-max-gflop)", "-"});
        row["cpu"] = json{{"skipped", "larger than --cpu-max-gflop"}};
      } else {
        OpRun run(op, Device::cpu(), slots_for(op.bytes(), llc, 64));
        int64_t next = 0;
        cpu = time_host([&] { run.call(next++); }, b);
        cells.insert(cells.end(), {spread_us(cpu), op_rate(op, cpu.median)});
        row["cpu"] = json{{"time", cpu}};
      }
#if KN_WITH_CUDA
      if (gpu) {
        OpRun run(op, Device::cuda(0), slots_for(op.bytes(), l2, 256));
        Spread issue;
        const Spread dev = time_device([&](int64_t i) { run.call(i); }, b, &issue);
        const bool is_gemm = op.name == "gemm";
        const double achieved = is_gemm ? op.flops() / dev.median : op.bytes() / dev.median;
        const double ceiling = is_gemm ? ceilings.sgemm_flops_per_s : ceilings.copy_bytes_per_s;
        cells.insert(cells.end(), {spread_us(dev), us(issue.median), op_rate(op, dev.median),
                                   fixed(100.0 * achieved / ceiling, 1) + " %",
                                   cpu.samples ? fixed(cpu.median / dev.median, 2) + "×" : "-"});
        row["gpu"] = json{{"time", dev}, {"host_issue", issue}, {"fraction_of_ceiling", achieved / ceiling}};
        if (is_gemm) {  // the reference at the same shape, one row below
          t.add(cells);
          const Spread ref = time_cublas(*blas, l, b, l2);
          const double ref_rate = op.flops() / ref.median;
          cells = {l.str(), "cuBLAS SGEMM (reference)", "-", "-", spread_us(ref), "-", rate(ref_rate, "GFLOP/s"),
                   fixed(100.0 * ref_rate / ceilings.sgemm_flops_per_s, 1) + " %", "-"};
          row["cublas"] = json{{"time", ref}, {"fraction_of_ceiling", ref_rate / ceilings.sgemm_flops_per_s}};
          row["gpu"]["fraction_of_cublas_same_shape"] = ref.median / dev.median;
        }
      }
#endif
      t.add(cells);
      rows.push_back(row);
    }
  }
  t.print(gpu ? "Each op: CPU (Eigen) and GPU (kernelnet's kernels)" : "Each op on the CPU (Eigen)");
  r["ops"] = rows;
  r["gpu"] = gpu ? json{{"available", true}} : gpu_skipped(why);
  return r;
}

}  // namespace kn::bench
