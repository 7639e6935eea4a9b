// The lesson's Iris training, shared by kn-iris and kn-bench: load, split, scale,
// train a 4-H-3 MLP with full-batch SGD (or shuffled mini-batches: Config::batch_size,
// kn-iris --batch-size, docs/minibatch.md), evaluate.
//
// Three ways to run the training loop on a GPU (Config::mode, kn-iris --mode); the CPU
// has eager and fused. All three compute the same losses (docs/fast-training.md):
//   eager  the lesson's loop: every op of every epoch is a launch, issued by the host.
//   graph  epoch 1 runs eagerly (it creates the gradient buffers), then one epoch -
//          forward, loss, zero_grad, backward, step, and the loss written to a device
//          array - is captured into a CUDA graph and replayed: one launch per epoch. The
//          losses come back every Config::readback_every epochs, one copy each, so
//          recording every epoch's loss costs no synchronisation per epoch. CUDA only.
//   fused  one kernel runs all the epochs (kernels/fused_mlp.cu) when the model fits in
//          one SM's shared memory (kn::cuda::fused_mlp_supported says); otherwise graph
//          mode, with a message on stderr saying why. On the CPU, one call runs all the
//          epochs with the rows in SIMD lanes (support/fused_mlp_cpu.hpp) when its
//          working set is small enough (kn::cpu::fused_mlp_cpu_supported says); otherwise
//          eager mode, with the same kind of message.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <kernelnet/cuda/graph.hpp>
#include <kernelnet/kernelnet.hpp>

#include "fused_mlp.hpp"
#include "fused_mlp_cpu.hpp"

namespace kn::iris {

struct MLP : Module {
  Linear fc1;
  ReLU relu;
  Linear fc2;
  MLP(int64_t in, int64_t hidden, int64_t classes) : fc1(in, hidden), fc2(hidden, classes) {
    register_module("fc1", fc1);
    register_module("relu", relu);
    register_module("fc2", fc2);
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(fc1(x))); }
  std::string describe() const override { return "MLP"; }
};

enum class Mode { Eager, Graph, Fused };

inline const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Eager: return "eager";
    case Mode::Graph: return "graph";
    case Mode::Fused: return "fused";
  }
  return "?";
}
inline Mode parse_mode(const std::string& name) {
  for (Mode m : {Mode::Eager, Mode::Graph, Mode::Fused})
    if (name == mode_name(m)) return m;
  throw Error(str("unknown training mode '", name, "': eager, graph or fused"));
}

struct Config {
  std::string data;  // "" = the bundled data/iris.csv
  Device device = Device::cpu();
  int epochs = 20000;
  float lr = 0.01f;
  int hidden = 10;
  double test_size = 0.2;
  uint32_t seed = 42;       // the split
  uint32_t init_seed = 0;   // the initial weights
  std::string init_weights; // a safetensors file to start from instead
  int record_every = 1;     // read the loss back every N epochs (0: never)
  int trace_epochs = 0;     // trace the first N epochs (as KN_TRACE=1 does), with a summary after each
  Mode mode = Mode::Eager;  // eager, graph (a CUDA device only) or fused (CUDA or the CPU)
  int readback_every = 1000;  // graph mode: copy the device's losses back every N epochs (0: at the end)
  // 0: full batch, one SGD step per epoch (the lesson). N > 0: each epoch the training rows
  // in a new random order (kn::data::DataLoader seeded with `seed`), one step per batch of
  // N rows (the last one smaller); the epoch's loss is the row-weighted mean of its batches'.
  int batch_size = 0;
  // The optimiser: "sgd" (the lesson's, plain unless momentum or weight_decay is set),
  // "adam" or "adamw" (lr is theirs too; momentum is SGD's only). Not plain SGD: eager
  // mode only.
  std::string optimizer = "sgd";
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool plain_sgd() const { return optimizer == "sgd" && momentum == 0.0 && weight_decay == 0.0; }
  // A recorded loss this many times the first one prints one warning (stderr) and
  // training goes on; a NaN or infinite loss stops it. 0: no warning.
  double warn_growth = 1000;
  // kn::set_num_threads(threads) before training (kn-iris --threads); 0 leaves it as it
  // is. Iris-sized work runs on one thread whatever it says (docs/cpu-scaling.md).
  int threads = 0;
};

struct Result {
  std::vector<std::pair<int, float>> losses;  // (1-based epoch, loss) for each recorded epoch
  double time_s = 0;                           // the training loop alone
  float final_loss = NAN;
  float test_acc = NAN;
  Stats stats;                                 // device counters over the training loop
  Mode mode = Mode::Eager;                     // the mode that ran (fused can fall back: graph on CUDA, eager on the CPU)
  std::string fallback;                        // why fused fell back ("" when it did not)
  double setup_s = 0;  // graph mode: the part of time_s before the first replay (epoch 1, capture, instantiation)
};

// Called for each recorded epoch (1-based) with its loss.
using OnRecord = std::function<void(int epoch, float loss)>;

namespace detail {

using Clock = std::chrono::steady_clock;

// What every mode does with an epoch's loss once the host has it.
struct Recorder {
  const Config& cfg;
  Result& r;
  const OnRecord& on_record;
  bool due(int epoch) const { return cfg.record_every > 0 && epoch % cfg.record_every == 0; }
  void check_finite(int epoch, float loss) const {
    KN_CHECK(std::isfinite(loss), "training diverged: the loss is ", loss, " at epoch ", epoch,
             "; try a smaller learning rate than --lr ", cfg.lr);
  }
  // The loss far above where it started: training is diverging, slowly enough to stay
  // finite for a while. Said once; whether to stop is the user's call.
  void check_growth(int epoch, float loss) {
    if (warned || cfg.warn_growth <= 0 || r.losses.empty()) return;
    const float first = r.losses.front().second;
    if (!(first > 0) || !(loss > cfg.warn_growth * first)) return;
    warned = true;
    std::fprintf(stderr,
                 "kn-iris: warning: the loss grew to %g at epoch %d, %.0fx its first recorded value %g (epoch %d); "
                 "training goes on, but the learning rate (--lr %g) is probably too large: try a smaller one\n",
                 double(loss), epoch, double(loss / first), double(first), r.losses.front().first, double(cfg.lr));
  }
  void operator()(int epoch, float loss) {
    if (!due(epoch)) return;
    check_finite(epoch, loss);
    check_growth(epoch, loss);
    r.losses.push_back({epoch, loss});
    if (on_record) on_record(epoch, loss);
  }
  bool warned = false;
};

// A one-element tensor holding log[slot], copied on the device (no synchronisation).
inline Tensor element(const Tensor& log, int64_t slot) {
  Tensor out = Tensor::empty(Shape{}, Dtype::Float32, log.device());
  cuda::copy_on_device(out.raw(), log.data<float>() + slot, sizeof(float), log.device().index);
  return out;
}

// The optimiser Config names (checked by train()).
inline std::unique_ptr<optim::Optimizer> make_optimizer(const Config& cfg, std::vector<Tensor> params) {
  if (cfg.optimizer == "adam")
    return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));
  if (cfg.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(std::move(params), optim::AdamWOptions(cfg.lr).weight_decay(cfg.weight_decay));
  return std::make_unique<optim::SGD>(std::move(params),
                                      optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weight_decay));
}

// The lesson's loop. Returns the last epoch's loss, still on the device.
inline Tensor train_eager(const Config& cfg, MLP& model, const Tensor& X, const Tensor& y, Recorder& record) {
  CrossEntropyLoss criterion;
  auto owned = make_optimizer(cfg, model.parameters());
  optim::Optimizer& optimizer = *owned;
  Tensor loss;
  for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
    trace::Step traced(epoch <= cfg.trace_epochs, "epoch", epoch);
    Tensor outputs = model(X);
    loss = criterion(outputs, y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (record.due(epoch)) record(epoch, loss.item());  // the lesson's loss.item(): a synchronising read on a GPU
  }
  return loss;
}

// Mini-batch SGD through kn::data::DataLoader: one step per batch. The epoch's loss,
// sum(batch loss * batch rows) / rows, is summed on the device (no synchronisation) and
// only in the epochs whose loss is read, and the last. Returns the last epoch's loss.
inline Tensor train_minibatch(const Config& cfg, MLP& model, const Tensor& X, const Tensor& y, Recorder& record) {
  CrossEntropyLoss criterion;
  auto owned = make_optimizer(cfg, model.parameters());
  optim::Optimizer& optimizer = *owned;
  data::DataLoader loader(data::TensorDataset(X, y),
                          data::DataLoaderOptions().batch_size(cfg.batch_size).shuffle(true).seed(cfg.seed));
  Tensor epoch_loss;
  for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
    trace::Step traced(epoch <= cfg.trace_epochs, "epoch", epoch);
    const bool wanted = record.due(epoch) || epoch == cfg.epochs;
    Tensor total = wanted ? zeros(Shape{}, TensorOptions().device(cfg.device)) : Tensor();
    for (auto& batch : loader) {
      Tensor loss = criterion(model(batch.data), batch.target);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      if (wanted) total += loss.detach() * float(batch.data.size(0));
    }
    if (!wanted) continue;
    epoch_loss = total / float(X.size(0));
    if (record.due(epoch)) record(epoch, epoch_loss.item());
  }
  return epoch_loss;
}

// One epoch captured into a CUDA graph and replayed. Every tensor the replays use must
// exist before the capture, at the address it will keep: the data, the parameters, the
// loss log, and the parameters' .grad buffers, which epoch 1 (run eagerly) creates and
// the captured zero_grad() + backward() then reuse. Activations and the loss are
// allocated and freed inside the captured epoch, so they become the graph's own memory.
inline Tensor train_graph(const Config& cfg, MLP& model, const Tensor& X, const Tensor& y, Recorder& record,
                          Result& r, Clock::time_point start) {
  const Device d = cfg.device;
  // Epoch e's loss goes to log[(e - 1) % capacity]; the host reads the log whenever it is
  // full, so each readback brings `capacity` epochs with one synchronisation.
  const int64_t capacity = cfg.record_every == 0     ? 1
                           : cfg.readback_every == 0 ? cfg.epochs
                                                     : std::min(cfg.readback_every, cfg.epochs);
  Tensor log = Tensor::empty(Shape{capacity}, Dtype::Float32, d);
  Tensor count = Tensor::from_vector(std::vector<int64_t>{0}).to(d);  // epochs logged, kept on the device
  CrossEntropyLoss criterion;
  optim::SGD optimizer(model.parameters(), cfg.lr);
  auto epoch_step = [&] {  // every tensor it makes dies before it returns
    Tensor loss = criterion(model(X), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    cuda::log_value(log.data<float>(), count.data<int64_t>(), loss.data<float>(), capacity, d.index);
  };

  std::vector<float> host(size_t(capacity), NAN);
  int64_t read = 0;  // epochs whose losses the host has; always a multiple of capacity before the end
  auto read_back = [&](int64_t upto) {
    cuda::copy_to_host(host.data(), log.data<float>(), size_t(upto - read) * sizeof(float), d.index);
    for (int64_t e = read + 1; e <= upto; ++e) record(int(e), host[size_t(e - read - 1)]);
    read = upto;
  };
  const bool reading = cfg.record_every > 0;

  {
    trace::Step traced(cfg.trace_epochs >= 1, "epoch", 1);
    epoch_step();
  }
  if (reading && 1 % capacity == 0) read_back(1);
  if (cfg.epochs == 1) return element(log, 0);
  std::vector<const void*> grads;
  for (auto& p : model.parameters()) grads.push_back(p.grad().raw());
  cuda::Graph graph;
  {
    cuda::Capture capture(d.index);
    epoch_step();
    graph = capture.end();
  }
  const auto params = model.parameters();
  for (size_t i = 0; i < params.size(); ++i)
    KN_CHECK(params[i].grad().defined() && params[i].grad().raw() == grads[i],
             "graph mode: the captured epoch made a new gradient buffer for parameter ", i,
             " instead of reusing epoch 1's; a buffer allocated inside the capture is gone after each replay");
  r.setup_s = std::chrono::duration<double>(Clock::now() - start).count();

  for (int epoch = 2; epoch <= cfg.epochs; ++epoch) {
    graph.replay();
    if (reading && epoch % capacity == 0) read_back(epoch);
  }
  if (reading && read < cfg.epochs) read_back(cfg.epochs);
  return element(log, (cfg.epochs - 1) % capacity);
}

// Every epoch in one kernel launch; the losses come back at the end, in one copy. On the
// CPU, every epoch in one call of the fused CPU loop (support/fused_mlp_cpu.hpp).
inline Tensor train_fused(const Config& cfg, MLP& model, const Tensor& X, const Tensor& y, Recorder& record) {
  const Device d = cfg.device;
  const int rows = int(X.size(0)), in = int(model.fc1.in_features()), hidden = int(model.fc1.out_features()),
            classes = int(model.fc2.out_features());
  KN_CHECK(X.size(1) == in, "fused mode: the data has ", X.size(1), " features, the model ", in);
  Tensor losses = Tensor::empty(Shape{cfg.epochs}, Dtype::Float32, d);
  if (d.is_cpu()) {  // the CPU twin: the parameters' own (contiguous) storage, updated in place
    {
      trace::Step traced(cfg.trace_epochs >= 1, "all epochs, one fused CPU loop");
      cpu::fused_mlp_cpu_train(losses.data<float>(), model.fc1.weight.data<float>(), model.fc1.bias.data<float>(),
                               model.fc2.weight.data<float>(), model.fc2.bias.data<float>(), X.data<float>(),
                               y.data<int64_t>(), rows, in, hidden, classes, cfg.epochs, cfg.lr);
    }
    const float* host = losses.data<float>();
    if (cfg.record_every > 0)
      for (int e = 1; e <= cfg.epochs; ++e) record(e, host[size_t(e - 1)]);
    Tensor last = Tensor::empty(Shape{}, Dtype::Float32, d);
    last.data<float>()[0] = host[cfg.epochs - 1];
    return last;
  }
  {
    trace::Step traced(cfg.trace_epochs >= 1, "all epochs, one fused kernel");
    cuda::fused_mlp_train(losses.data<float>(), model.fc1.weight.data<float>(), model.fc1.bias.data<float>(),
                          model.fc2.weight.data<float>(), model.fc2.bias.data<float>(), X.data<float>(),
                          y.data<int64_t>(), rows, in, hidden, classes, cfg.epochs, cfg.lr, d.index);
  }
  if (cfg.record_every > 0) {
    std::vector<float> host(size_t(cfg.epochs));
    cuda::copy_to_host(host.data(), losses.data<float>(), host.size() * sizeof(float), d.index);
    for (int e = 1; e <= cfg.epochs; ++e) record(e, host[size_t(e - 1)]);
  }
  return element(losses, cfg.epochs - 1);
}

}  // namespace detail

// Trains the model and returns what was recorded. A NaN or infinite loss stops it (in
// graph mode at the readback that brings it, in fused mode at the end).
inline Result train(const Config& cfg, MLP& model, const OnRecord& on_record = {}) {
  KN_CHECK(cfg.epochs >= 1, "epochs must be >= 1, got ", cfg.epochs);
  KN_CHECK(cfg.record_every >= 0, "record-every must be >= 0, got ", cfg.record_every);
  KN_CHECK(cfg.readback_every >= 0, "readback-every must be >= 0, got ", cfg.readback_every);
  KN_CHECK(cfg.batch_size >= 0, "batch-size must be >= 0 (0: the full batch), got ", cfg.batch_size);
  KN_CHECK(cfg.threads >= 0 && cfg.threads <= 1024, "threads must be in [1, 1024] (0: as set), got ", cfg.threads);
  if (cfg.threads > 0) set_num_threads(cfg.threads);
  KN_CHECK(cfg.mode != Mode::Graph || cfg.device.is_cuda(), "--mode graph needs a CUDA device; on ",
           cfg.device.str(), " only --mode eager and --mode fused exist");
  KN_CHECK(cfg.mode == Mode::Eager || cfg.trace_epochs <= 1, "--trace-epochs ", cfg.trace_epochs, " with --mode ",
           mode_name(cfg.mode), ": only epoch 1 can be traced (graph mode runs it eagerly, fused mode runs every "
           "epoch in one kernel, or one loop on the CPU); trace more epochs with --mode eager");
  KN_CHECK(cfg.batch_size == 0 || cfg.mode == Mode::Eager, "--batch-size ", cfg.batch_size, " trains with --mode eager "
           "only; --mode ", mode_name(cfg.mode), " runs the full batch (--batch-size 0)");
  KN_CHECK(cfg.optimizer == "sgd" || cfg.optimizer == "adam" || cfg.optimizer == "adamw", "unknown optimizer '",
           cfg.optimizer, "': sgd, adam or adamw");
  KN_CHECK(cfg.momentum == 0.0 || cfg.optimizer == "sgd", "--momentum is SGD's; ", cfg.optimizer,
           " has betas (0.9, 0.999) instead");
  KN_CHECK(cfg.plain_sgd() || cfg.mode == Mode::Eager, "--mode ", mode_name(cfg.mode), " trains with plain SGD only; --optimizer ",
           cfg.optimizer, cfg.momentum != 0.0 ? " with --momentum" : "", cfg.weight_decay != 0.0 ? " with --weight-decay" : "",
           " needs --mode eager");
  KN_CHECK(cfg.mode != Mode::Graph || !trace::enabled(), "--mode graph cannot run while tracing (KN_TRACE=1): the "
           "trace waits for every kernel, which a CUDA graph capture forbids; trace with --mode eager");
  data::Dataset ds = data::load_iris(cfg.data);
  data::Split s = data::train_test_split(ds.X, ds.y, cfg.test_size, cfg.seed);
  data::MinMaxScaler scaler;
  Tensor X_train = scaler.fit_transform(s.X_train).to(cfg.device);
  Tensor X_test = scaler.transform(s.X_test).to(cfg.device);
  Tensor y_train = s.y_train.to(cfg.device);
  Tensor y_test = s.y_test.to(cfg.device);

  model.to(cfg.device);
  Result r;
  r.mode = cfg.mode;
  if (cfg.mode == Mode::Fused && cfg.device.is_cpu() &&
      !cpu::fused_mlp_cpu_supported(int(X_train.size(0)), int(model.fc1.in_features()),
                                    int(model.fc1.out_features()), int(model.fc2.out_features()), &r.fallback)) {
    std::fprintf(stderr, "kn-iris: --mode fused: %s; falling back to --mode eager\n", r.fallback.c_str());
    r.mode = Mode::Eager;
  }
  if (cfg.mode == Mode::Fused && cfg.device.is_cuda() &&
      !cuda::fused_mlp_supported(int(X_train.size(0)), int(model.fc1.in_features()), int(model.fc1.out_features()),
                                 int(model.fc2.out_features()), cfg.device.index, &r.fallback)) {
    KN_CHECK(!trace::enabled(), "--mode fused falls back to graph mode (", r.fallback,
             "), which cannot run while tracing (KN_TRACE=1); trace with --mode eager");
    std::fprintf(stderr, "kn-iris: --mode fused: %s; falling back to --mode graph\n", r.fallback.c_str());
    r.mode = Mode::Graph;
  }
  if (cfg.record_every > 0) r.losses.reserve(cfg.epochs / cfg.record_every + 1);
  detail::Recorder record{cfg, r, on_record};
  if (cfg.device.is_cuda()) cuda::synchronize(cfg.device.index);
  reset_stats(cfg.device);
  const auto start = detail::Clock::now();
  Tensor loss;  // the last epoch's loss, on the device
  switch (r.mode) {
    case Mode::Eager:
      loss = cfg.batch_size > 0 ? detail::train_minibatch(cfg, model, X_train, y_train, record)
                                : detail::train_eager(cfg, model, X_train, y_train, record);
      break;
    case Mode::Graph: loss = detail::train_graph(cfg, model, X_train, y_train, record, r, start); break;
    case Mode::Fused: loss = detail::train_fused(cfg, model, X_train, y_train, record); break;
  }
  if (cfg.device.is_cuda()) cuda::synchronize(cfg.device.index);  // all queued work counts
  r.time_s = std::chrono::duration<double>(detail::Clock::now() - start).count();
  r.stats = stats(cfg.device);
  r.final_loss = loss.item();
  record.check_finite(cfg.epochs, r.final_loss);
  NoGradGuard no_grad;
  r.test_acc = metrics::accuracy(model(X_test), y_test);
  return r;
}

// One line that sets a run beside the lesson's PyTorch figures: 3 s on the CPU and 22 s on
// a GPU for 20000 epochs (150 and 1100 us an epoch), and where to read why its GPU lost.
inline std::string lesson_comparison(int epochs, double time_s) {
  const double us = time_s * 1e6 / epochs, cpu_us = 3e6 / 20000;
  const bool faster = us > 0 && us <= cpu_us;
  char line[320];
  std::snprintf(line, sizeof line,
                "lesson: PyTorch took 3 s on the CPU (%.0f us/epoch) and 22 s on a GPU for 20000 epochs; this run, "
                "%.3g us/epoch, is %.3gx %s than its CPU loop. Why its GPU lost: docs/overheads.md",
                cpu_us, us, faster ? cpu_us / us : us / cpu_us, faster ? "faster" : "slower");
  return line;
}

}  // namespace kn::iris
