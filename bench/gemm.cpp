// kn-bench gemm: the GEMM series of docs/gemm.md, one kernel at a time, against cuBLAS.
//
// For each shape M x N x K (C[M,N] = op(A) op(B), FP32, alpha 1, beta 0), every variant of
// kn::cuda::gemm_variant (0_library: kn::cuda::gemm's own choice, then 01_naive ..
// 08_tiny) and cuBLAS SGEMM in plain FP32 run on the same operands:
//   - device time per call: CUDA events over calls queued back to back (time_device),
//     so the number is the kernel's, without the host's launch cost;
//   - wall time per call: calls issued back to back from the host and waited for, the
//     launch included (what a small MLP's products cost in an eager step), for the
//     shapes whose call takes under a millisecond;
//   - max |C - C_cuBLAS| of the variant's result, so a fast wrong kernel cannot pass.
// The operands stay the same from call to call (at 1024^3, 12 MiB: in L2, as in a
// training loop), for every variant and for cuBLAS alike.
//
// The CPU part times kn::cpu::gemm (Eigen) on the shapes under --cpu-max-gflop.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <kernelnet/cuda/gemm_variants.hpp>
#include <kernelnet/ops/fill.hpp>
#include <kernelnet/ops/gemm.hpp>
#include <kernelnet/random.hpp>
#include <kernelnet/tensor.hpp>

#include "bench.hpp"
#include "gpu.hpp"
#include "report.hpp"

namespace kn::bench {

namespace {

struct GemmShape {
  int64_t M = 0, N = 0, K = 0;
  bool ta = false, tb = false;
  std::string str() const {
    return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + ":" + (ta ? "T" : "N") +
           (tb ? "T" : "N");
  }
  // "op(A)·op(B)" as docs/gemm.md writes the product
  std::string product() const { return std::string(ta ? "Aᵀ" : "A") + "·" + (tb ? "Bᵀ" : "B"); }
  Transpose opA() const { return ta ? Transpose::Yes : Transpose::No; }
  Transpose opB() const { return tb ? Transpose::Yes : Transpose::No; }
  double flops() const { return 2.0 * double(M) * double(N) * double(K); }
};

GemmShape parse_gemm_shape(const std::string& s) {
  const std::string error = gemm_shape_error(s);
  KN_CHECK(error.empty(), "--shape ", error);
  GemmShape g;
  char x;
  std::istringstream in(s);
  in >> g.M >> x >> g.N >> x >> g.K;
  if (in.peek() == ':') {
    char c, a, b;
    in >> c >> a >> b;
    g.ta = a == 'T', g.tb = b == 'T';
  }
  return g;
}

}  // namespace

std::string gemm_shape_error(const std::string& s) {
  int64_t M = 0, N = 0, K = 0;
  char x1 = 0, x2 = 0;
  std::istringstream in(s);
  const std::string expected = "'" + s + "': expected MxNxK or MxNxK:AB with A, B each N or T, e.g. 4096x4096x4096 or 10x4x120:TN";
  if (!(in >> M >> x1 >> N >> x2 >> K) || x1 != 'x' || x2 != 'x') return expected;
  if (in.peek() == ':') {
    char c = 0, a = 0, b = 0;
    if (!(in >> c >> a >> b) || (a != 'N' && a != 'T') || (b != 'N' && b != 'T')) return expected;
  }
  if (in.peek() != EOF) return expected;
  return matrix_sizes_error(s, M, N, K);
}

json run_gemm(const GemmOptions& o) {
  std::vector<std::string> shape_args = o.shapes;
  if (shape_args.empty())
    shape_args = o.common.quick ? std::vector<std::string>{"256x256x256", "120x10x4:NT"}
                                : std::vector<std::string>{"4096x4096x4096", "1024x1024x1024", "120x10x4:NT",
                                                           "120x3x10:NT", "10x4x120:TN", "120x4x10"};
  std::vector<GemmShape> shapes;
  for (const auto& s : shape_args) shapes.push_back(parse_gemm_shape(s));
  std::printf("## kn-bench gemm: every kernel of the GEMM series against cuBLAS (FP32, alpha 1, beta 0)\n");

  json r = header("gemm", o.common);
  const Budget b = budget(o.common);
  const std::string why = gpu_skip_reason();
  const bool gpu = why.empty();

  // ---- CPU: kn::cpu::gemm (Eigen), the backend the GPU kernels are checked against.
  {
    Table t({"shape M×N×K", "product", "CPU (min / median / p90 us)", "CPU rate"});
    json rows = json::array();
    for (const GemmShape& g : shapes) {
      json row{{"shape", g.str()}, {"flops", g.flops()}};
      if (g.flops() > o.cpu_max_gflop * 1e9) {
        t.add({g.str(), g.product(), "skipped (> --cpu-max-gflop)", "-"});
        row["skipped"] = "larger than --cpu-max-gflop";
      } else {
        const Tensor A = kn::rand({g.M * g.K}, -1.0, 1.0), B = kn::rand({g.K * g.N}, -1.0, 1.0);
        Tensor C = Tensor::empty({g.M * g.N});
        const Spread cpu = time_host(
            [&] {
              kn::cpu::gemm(C.data<float>(), A.data<float>(), B.data<float>(), int(g.M), int(g.N), int(g.K), g.opA(),
                            g.opB(), 1.0f, 0.0f);
              clobber_memory();
            },
            b);
        t.add({g.str(), g.product(), spread_us(cpu), rate(g.flops() / cpu.median, "GFLOP/s")});
        row["time"] = cpu;
        row["gflop_per_s"] = g.flops() / cpu.median / 1e9;
      }
      rows.push_back(row);
    }
    t.print("CPU: kn::cpu::gemm (Eigen)");
    r["cpu"] = json{{"shapes", rows}};
  }

  if (!gpu) {
    r["gpu"] = gpu_skipped(why);
    return r;
  }
#if KN_WITH_CUDA
  std::vector<int> variants;
  for (int v = 0; v < kn::cuda::gemm_variant_count(); ++v) {
    const std::string name = kn::cuda::gemm_variant_name(v);
    if (o.variants.empty() || std::find(o.variants.begin(), o.variants.end(), name) != o.variants.end())
      variants.push_back(v);
  }
  KN_CHECK(!variants.empty(), "--variant: none of the names given is a variant (kn-bench gemm --help lists them)");

  gpu::Sgemm blas;
  json gshapes = json::array();
  for (const GemmShape& g : shapes) {
    const Device dev = Device::cuda(0);
    const Tensor A = kn::rand({g.M * g.K}, -1.0, 1.0).to(dev), B = kn::rand({g.K * g.N}, -1.0, 1.0).to(dev);
    Tensor C = Tensor::empty({g.M * g.N}, Dtype::Float32, dev);
    const float *a = A.data<float>(), *bp = B.data<float>();
    float* c = C.data<float>();

    // One call sizes the budget: a call of more than 50 ms (01_naive at 4096^3) gets one
    // warm-up and three samples, so the whole series stays within seconds.
    struct Timing {
      Spread device, wall;  // wall: only for calls under a millisecond
    };
    auto timed = [&](const std::function<void()>& call) {
      gpu::Events ev;
      gpu::sync();
      ev.start();
      call();
      ev.stop();
      Budget bb = b;
      if (ev.seconds() > 50e-3) bb.warmup = 1, bb.min_samples = 3, bb.seconds = 0;
      Timing tm;
      tm.device = time_device([&](int64_t) { call(); }, bb);
      if (tm.device.median < 1e-3) {  // launch included: issue back to back, then wait
        const int calls = int(std::clamp(2e-3 / std::max(tm.device.median, 1e-6), 1.0, 1000.0));
        tm.wall = measure(
            [&] {
              gpu::sync();
              const auto t0 = Clock::now();
              for (int i = 0; i < calls; ++i) call();
              gpu::sync();
              return seconds_since(t0) / calls;
            },
            bb, calls);
      }
      return tm;
    };
    auto to_j = [&](const Timing& tm) {
      json j{{"time", tm.device}, {"gflop_per_s", g.flops() / tm.device.median / 1e9}};
      if (tm.wall.samples) j["wall"] = tm.wall;
      return j;
    };
    auto wall_cell = [](const Timing& tm) { return tm.wall.samples ? us(tm.wall.median) : std::string("-"); };

    auto cublas_call = [&] { blas.gemm(c, a, bp, int(g.M), int(g.N), int(g.K), g.ta, g.tb); };
    const Timing ref = timed(cublas_call);
    cublas_call();
    const Tensor ref_c = C.to(Device::cpu());

    Table t({"variant", "kernel", "device (min / median / p90 us)", "GFLOP/s", "% of cuBLAS",
             "wall per call (median us)", "max |C − cuBLAS|"});
    t.add({"cuBLAS", "cublasSgemm", spread_us(ref.device), fixed(g.flops() / ref.device.median / 1e9, 1),
           "100.0 %", wall_cell(ref), "-"});
    json vrows = json::array();
    for (int v : variants) {
      const std::string name = kn::cuda::gemm_variant_name(v);
      const std::string kernel = v == 0 ? kn::cuda::gemm_kernel_for(int(g.M), int(g.N), int(g.K), 0) : name;
      auto call = [&] {
        kn::cuda::gemm_variant(v, c, a, bp, int(g.M), int(g.N), int(g.K), g.opA(), g.opB(), 1.0f, 0.0f, 0);
      };
      const Timing tm = timed(call);
      // The result, from a call on a C poisoned with NaN (beta 0 must not read it).
      kn::cuda::fill(c, std::nanf(""), g.M * g.N, 0);
      call();
      const Tensor got = C.to(Device::cpu());
      const float *got_p = got.data<float>(), *ref_p = ref_c.data<float>();
      double diff = 0;
      for (int64_t i = 0; i < g.M * g.N; ++i) {
        const double d = std::fabs(double(got_p[i]) - double(ref_p[i]));
        diff = std::isnan(d) ? INFINITY : std::max(diff, d);
      }
      const double fraction = ref.device.median / tm.device.median;
      json j = to_j(tm);
      j["variant"] = name;
      j["kernel"] = kernel;
      j["fraction_of_cublas"] = fraction;
      j["max_abs_diff_vs_cublas"] = std::isinf(diff) ? json(nullptr) : json(diff);
      t.add({name, kernel, spread_us(tm.device), fixed(g.flops() / tm.device.median / 1e9, 1),
             fixed(100.0 * fraction, 1) + " %", wall_cell(tm), std::isinf(diff) ? "NaN" : fixed(diff, 7)});
      vrows.push_back(j);
    }
    t.print("GPU: " + g.str() + " (C = " + g.product() + ")");
    gshapes.push_back(json{{"shape", g.str()}, {"flops", g.flops()}, {"cublas", to_j(ref)}, {"variants", vrows}});
  }
  r["gpu"] = json{{"available", true}, {"shapes", gshapes}};
#endif
  return r;
}

}  // namespace kn::bench
