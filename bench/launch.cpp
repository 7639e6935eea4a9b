// kn-bench launch: what it costs to start a kernel, with nothing for it to do, and what
// one Module call costs the host before any kernel starts.
//
// An empty kernel measures the launch alone, four ways:
//  - back-to-back asynchronous launches: the host's cost per launch (the GPU may still be
//    behind; the host does not wait), raw <<<>>> and through kernelnet's launch path;
//  - the same kernels queued and run back to back on the GPU: the device's own cost;
//  - launch + synchronise: the round trip a program pays when it waits on each kernel;
//  - replayed from a CUDA graph: many kernels for one launch, the per-kernel cost left.
#include <cstdio>
#include <memory>
#include <optional>

#include "bench.hpp"
#include "gpu.hpp"
#include "iris_train.hpp"
#include "report.hpp"

namespace kn::bench {

namespace {

// Host cost of one Module call on the CPU backend, peeled layer by layer: the maths alone,
// then what each layer of the library adds on top (checks and allocation, autograd
// recording, the call operator's hook machinery). Iris sizes: fc1 on the 120 training rows.
json cpu_part(const LaunchOptions& o) {
  const Budget b = budget(o.common);
  kn::manual_seed(0);
  kn::iris::MLP model(4, 10, 3);
  Linear& fc1 = model.fc1;
  const Tensor x = kn::rand({120, 4}, 0.1, 1.0);  // [batch, in]
  Tensor y = Tensor::empty({120, 10});
  const float* X = x.data<float>();
  const float* W = fc1.weight.data<float>();
  const float* B = fc1.bias.data<float>();

  struct Row {
    const char* key;
    const char* what;
    Spread t;
  };
  std::vector<Row> rows;
  auto add = [&](const char* key, const char* what, auto&& fn) { rows.push_back({key, what, time_host(fn, b)}); };

  // Wake the core up first (clock frequency, caches): the first row would pay for it.
  for (const auto t0 = Clock::now(); seconds_since(t0) < 0.02;) Tensor out = model(x);

  add("maths", "kn::cpu::gemm + kn::cpu::bias_add into a preallocated y (the maths alone)", [&] {
    kn::cpu::gemm(y.data<float>(), X, W, 120, 10, 4, Transpose::No, Transpose::Yes, 1.0f, 0.0f);  // [120,4] x [10,4]^T
    kn::cpu::bias_add(y.data<float>(), B, 120, 10);
  });
  add("functional_no_grad", "kn::linear(x, W, b) under NoGradGuard (+ checks, output tensor, dispatch)", [&] {
    NoGradGuard g;
    Tensor out = kn::linear(x, fc1.weight, fc1.bias);
  });
  add("forward", "fc1.forward(x) (+ autograd: records a LinearBackward node)", [&] { Tensor out = fc1.forward(x); });
  add("call", "fc1(x): Module::operator() (+ hook lists checked, trace scope)", [&] { Tensor out = fc1(x); });
  {
    HookHandle h = fc1.register_forward_hook([](Module&, const Tensor&, const Tensor&) {});
    add("call_with_hook", "fc1(x) with one empty forward hook registered", [&] { Tensor out = fc1(x); });
    h.remove();
  }
  add("model_call", "model(x): the lesson's MLP forward (3 module calls, 5 ops)", [&] { Tensor out = model(x); });

  Table t({"what (host time per call, Iris sizes)", "min / median / p90 (us)"});
  json j = json::object();
  for (const Row& r : rows) {
    t.add({r.what, spread_us(r.t)});
    j[r.key] = {{"what", r.what}, {"time", r.t}};
  }
  t.print("CPU backend: what one Module call costs the host");
  const double call_op = rows[3].t.median - rows[2].t.median;
  const double hook = rows[4].t.median - rows[3].t.median;
  std::printf("\nModule::operator() over forward(): %s us; one empty hook: %s us more.\n", us(call_op).c_str(),
              us(hook).c_str());
  j["operator_call_overhead_us"] = call_op * 1e6;
  j["hook_overhead_us"] = hook * 1e6;
  return j;
}

#if KN_WITH_CUDA
// Host time per launch of n back-to-back launches; waits between samples, untimed, so the
// queue never fills up (a full queue would make launches wait for the GPU).
Spread async_launch_cost(void (*launch)(int), const Budget& b, int per_sample) {
  gpu::sync();
  return measure(
      [&] {
        const auto t0 = Clock::now();
        launch(per_sample);
        const double s = seconds_since(t0) / per_sample;
        gpu::sync();
        return s;
      },
      b, per_sample);
}

json gpu_part(const LaunchOptions& o) {
  const Budget b = budget(o.common);
  const int n = o.kernels;
  struct Row {
    std::string key, what;
    Spread t;
  };
  std::vector<Row> rows;
  auto add = [&](std::string key, std::string what, Spread t) { rows.push_back({key, what, t}); };

  add("async_raw", "async launch, raw <<<>>> (host cost per launch)", async_launch_cost(gpu::launch_empty_raw, b, n));
  add("async_kn", "async launch through kernelnet's launch path (host cost per launch)", kn_launch_cost(b, n));
  add("device_back_to_back", "queued kernels run back to back (GPU time per kernel, events)",
      time_device([](int64_t) { gpu::launch_empty_raw(1); }, b, nullptr, n));
  auto round_trip = [] {
    gpu::launch_empty_raw(1);
    gpu::sync();
  };
  add("launch_sync", "launch + synchronise round trip (host wall time)", time_host(round_trip, b, 1));

  gpu::EmptyGraph graph(n);
  gpu::Events ev;
  auto graph_wall = [&] {  // one replay of n kernels, waited for: per kernel
    const auto t0 = Clock::now();
    graph.launch();
    gpu::sync();
    return seconds_since(t0) / n;
  };
  auto graph_device = [&] {
    ev.start();
    graph.launch();
    ev.stop();
    return ev.seconds() / n;
  };
  auto graph_launch = [&] {  // the host's cost of the launch call alone
    const auto t0 = Clock::now();
    graph.launch();
    const double s = seconds_since(t0);
    gpu::sync();
    return s;
  };
  const std::string of_n = "replayed CUDA graph of " + std::to_string(n) + " kernels";
  add("graph_wall", of_n + ": launch + synchronise, per kernel (host wall time)", measure(graph_wall, b, n));
  add("graph_device", of_n + ": GPU time per kernel (events)", measure(graph_device, b, n));
  add("graph_launch_host", "cudaGraphLaunch of that graph (host cost per graph)", measure(graph_launch, b));

  // The Module call the CPU part times, on the GPU: what queueing it costs the host.
  kn::manual_seed(0);
  Linear fc1(4, 10);
  fc1.to(Device::cuda(0));
  const Tensor x = kn::rand({120, 4}, 0.1, 1.0).to(Device::cuda(0));
  auto module_call = [&] {
    const auto t0 = Clock::now();
    for (int i = 0; i < 100; ++i) Tensor out = fc1(x);
    const double s = seconds_since(t0) / 100;
    gpu::sync();
    return s;
  };
  add("module_call_cuda", "fc1(x) on cuda:0, Iris sizes (host time to queue its 2 kernels)",
      measure(module_call, b, 100));

  Table t({"what (an empty kernel unless said)", "min / median / p90 (us)"});
  json j{{"available", true}, {"kernels_per_sample", n}};
  for (const Row& r : rows) {
    t.add({r.what, spread_us(r.t)});
    j[r.key] = {{"what", r.what}, {"time", r.t}};
  }
  t.print("GPU: launch costs");
  return j;
}
#endif

}  // namespace

#if KN_WITH_CUDA
Spread kn_launch_cost(const Budget& b, int per_sample) {
  return async_launch_cost(gpu::launch_empty_kn, b, per_sample);
}
#endif

json run_launch(const LaunchOptions& o) {
  KN_CHECK(o.kernels >= 1, "--kernels must be at least 1");
  std::printf("## kn-bench launch: the cost of starting a kernel, and of one Module call\n");
  json r = header("launch", o.common);
  r["cpu"] = cpu_part(o);
  if (const std::string why = gpu_skip_reason(); !why.empty()) {
    r["gpu"] = gpu_skipped(why);
  } else {
#if KN_WITH_CUDA
    r["gpu"] = gpu_part(o);
#endif
  }
  return r;
}

}  // namespace kn::bench
