// The optimisers against PyTorch (tests/fixtures/torch-optim.json, written by
// tests/fixtures/make_optim_fixture.py with Debian's python3-torch): each config trains
// the Iris MLP (or the Tanh/Sigmoid MLP with MSE) for 2000 full-batch steps from the
// fixture's initial weights; kernelnet must give PyTorch's per-step losses within 1e-5
// and its final weights within 1e-4. tests/test_optim_agreement.cpp runs it on the CPU,
// tests/gpu/test_optim_agreement.cpp on CUDA. The same training loop serves the
// checkpoint tests (train_steps).
#pragma once
#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <kernelnet/kernelnet.hpp>

namespace kn::test::optim_agreement {

inline const nlohmann::json& fixture() {
  static const nlohmann::json fx = [] {
    const std::string path = std::string(KN_FIXTURES_DIR) + "/torch-optim.json";
    std::ifstream in(path);
    if (!in) throw Error(str(path, ": cannot open the fixture"));
    return nlohmann::json::parse(in);
  }();
  return fx;
}

// fc1 = Linear(4, 10), then ReLU, or Tanh, fc2 = Linear(10, 3), Sigmoid.
struct Net : Module {
  Linear fc1{4, 10}, fc2{10, 3};
  ReLU relu;
  Tanh tanh;
  Sigmoid sigmoid;
  bool tanh_sigmoid;
  explicit Net(bool with_tanh_sigmoid) : tanh_sigmoid(with_tanh_sigmoid) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  Tensor forward(const Tensor& x) override {
    if (tanh_sigmoid) return sigmoid(fc2(tanh(fc1(x))));
    return fc2(relu(fc1(x)));
  }
};

// The 120 training rows (as the fixture's "data" says) and the targets: int64 labels,
// or their one-hot float rows for MSE.
struct Data {
  Tensor X, labels, one_hot;
};
inline Data iris_train(Device d) {
  data::Dataset ds = data::load_iris();
  data::Split s = data::train_test_split(ds.X, ds.y, 0.2, 42);
  data::MinMaxScaler scaler;
  Data out;
  out.X = scaler.fit_transform(s.X_train).to(d);
  out.labels = s.y_train.to(d);
  const auto y = s.y_train.to_vector<int64_t>();
  Tensor oh = Tensor::zeros({int64_t(y.size()), 3});
  for (size_t r = 0; r < y.size(); ++r) oh.data<float>()[r * 3 + size_t(y[r])] = 1.0f;
  out.one_hot = oh.to(d);
  return out;
}

inline void set_weights(Module& m, const nlohmann::json& w) {
  for (auto& [name, p] : m.named_parameters()) {
    const auto v = w.at(name).get<std::vector<float>>();
    REQUIRE(int64_t(v.size()) == p.numel());
    Tensor cpu = Tensor::from_vector(v, p.shape());
    copy_bytes(p.raw(), p.device(), cpu.raw(), cpu.device(), p.nbytes());
  }
}

inline std::unique_ptr<optim::Optimizer> make_optimizer(const nlohmann::json& c, std::vector<Tensor> params) {
  const auto& o = c.at("options");
  const std::string kind = c.at("optimizer");
  if (kind == "sgd")
    return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions(o.at("lr").get<double>())
                                                               .momentum(o.at("momentum"))
                                                               .dampening(o.at("dampening"))
                                                               .weight_decay(o.at("weight_decay"))
                                                               .nesterov(o.at("nesterov")));
  const std::tuple<double, double> betas{o.at("beta1").get<double>(), o.at("beta2").get<double>()};
  if (kind == "adam")
    return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions(o.at("lr").get<double>())
                                                                .betas(betas)
                                                                .eps(o.at("eps"))
                                                                .weight_decay(o.at("weight_decay"))
                                                                .amsgrad(o.at("amsgrad")));
  REQUIRE(kind == "adamw");
  return std::make_unique<optim::AdamW>(std::move(params), optim::AdamWOptions(o.at("lr").get<double>())
                                                               .betas(betas)
                                                               .eps(o.at("eps"))
                                                               .weight_decay(o.at("weight_decay"))
                                                               .amsgrad(o.at("amsgrad")));
}

// What a run saw, step by step.
struct Trace {
  std::vector<float> losses, grad_norms;
  std::vector<double> lrs;
};

// `steps` steps of the fixture's loop: zero_grad, forward, loss (recorded), backward,
// clip (when max_norm > 0), step, scheduler step (when there is one).
inline void train_steps(Net& net, optim::Optimizer& opt, optim::StepLR* sched, const Data& data, bool mse,
                        double max_norm, int steps, Trace& trace) {
  CrossEntropyLoss ce;
  MSELoss mse_loss;
  for (int s = 0; s < steps; ++s) {
    trace.lrs.push_back(opt.lr());
    opt.zero_grad();
    Tensor out = net(data.X);
    Tensor loss = mse ? mse_loss(out, data.one_hot) : ce(out, data.labels);
    trace.losses.push_back(loss.item());
    loss.backward();
    if (max_norm > 0) trace.grad_norms.push_back(nn::utils::clip_grad_norm_(net.parameters(), max_norm));
    opt.step();
    if (sched) sched->step();
  }
}

// Runs config `name` on device d and checks it against PyTorch's run.
inline void check_config(const std::string& name, Device d) {
  const auto& c = fixture().at("configs").at(name);
  const int steps = fixture().at("steps");
  const bool mse = c.at("loss") == "mse";
  Net net(c.at("model") == "tanh_sigmoid");
  net.to(d);
  set_weights(net, c.at("init"));
  auto opt = make_optimizer(c, net.parameters());
  std::unique_ptr<optim::StepLR> sched;
  if (!c.at("scheduler").is_null())
    sched = std::make_unique<optim::StepLR>(*opt, c["scheduler"].at("step_size").get<int64_t>(),
                                            c["scheduler"].at("gamma").get<double>());
  const double max_norm = c.at("clip_max_norm").is_null() ? 0.0 : c["clip_max_norm"].get<double>();
  const Data data = iris_train(d);
  Trace t;
  train_steps(net, *opt, sched.get(), data, mse, max_norm, steps, t);

  const auto want = c.at("losses").get<std::vector<double>>();
  REQUIRE(t.losses.size() == want.size());
  double worst = 0;
  int at = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!(std::fabs(t.losses[i] - want[i]) <= worst)) worst = std::fabs(t.losses[i] - want[i]), at = int(i);
  INFO(name << " on " << d.str() << ": largest loss difference " << worst << " at step " << at << " (kernelnet "
            << t.losses[size_t(at)] << ", PyTorch " << want[size_t(at)] << ")");
  CHECK(worst <= 1e-5);
  if (c.contains("lrs")) {
    const auto lrs = c["lrs"].get<std::vector<double>>();
    REQUIRE(lrs.size() == t.lrs.size());
    for (size_t i = 0; i < lrs.size(); ++i) REQUIRE(t.lrs[i] == lrs[i]);  // the same doubles, as Python computes them
  }
  if (c.contains("grad_norms")) {
    const auto norms = c["grad_norms"].get<std::vector<double>>();
    REQUIRE(norms.size() == t.grad_norms.size());
    double worst_norm = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < norms.size(); ++i)
      if (std::fabs(t.grad_norms[i] - norms[i]) > worst_norm) worst_norm = std::fabs(t.grad_norms[i] - norms[i]), worst_at = i;
    INFO("largest total-norm difference " << worst_norm << " at step " << worst_at << " (kernelnet "
                                          << t.grad_norms[worst_at] << ", PyTorch " << norms[worst_at] << ")");
    // Looser than the losses: the total norm jumps wherever a hidden ReLU unit switches
    // on or off for one row, and with kernelnet's rounding one does so a step apart from
    // PyTorch's (sgd_clip, step 153: 1.6e-4), with no visible effect on the loss.
    CHECK(worst_norm <= 1e-3);
  }
  for (auto& [pname, p] : net.named_parameters()) {
    const auto got = p.to_vector<float>();
    const auto fin = c.at("final").at(pname).get<std::vector<double>>();
    REQUIRE(got.size() == fin.size());
    double worst_w = 0;
    for (size_t i = 0; i < got.size(); ++i) worst_w = std::max(worst_w, std::fabs(got[i] - fin[i]));
    INFO(name << " on " << d.str() << ": " << pname << " largest final-weight difference " << worst_w);
    CHECK(worst_w <= 1e-4);
  }
}

// Checkpoints: config `name` run for `total` steps straight, and again stopped after
// `stop` steps, the model and the optimizer saved under `dir`, loaded into a fresh model
// (other initial weights) and a fresh optimizer (another learning rate: the file's must
// win), the scheduler's last_epoch restored, and run to `total`. The losses after the
// restart and the final weights must be the uninterrupted run's, bit for bit.
inline void check_resume(const std::string& name, Device d, int total, int stop, const std::string& dir) {
  const auto& c = fixture().at("configs").at(name);
  const bool mse = c.at("loss") == "mse";
  const double max_norm = c.at("clip_max_norm").is_null() ? 0.0 : c["clip_max_norm"].get<double>();
  const Data data = iris_train(d);
  // A model on d, from the fixture's initial weights or (init false) from other ones, with
  // the config's optimizer and scheduler (step_size 7, so that it acts within the run).
  struct Run {
    std::unique_ptr<Net> net;
    std::unique_ptr<optim::Optimizer> opt;
    std::unique_ptr<optim::StepLR> sched;
  };
  auto start = [&](bool init) {
    Run r;
    r.net = std::make_unique<Net>(c.at("model") == "tanh_sigmoid");
    r.net->to(d);
    if (init) set_weights(*r.net, c.at("init"));
    r.opt = make_optimizer(c, r.net->parameters());
    if (!c.at("scheduler").is_null())
      r.sched = std::make_unique<optim::StepLR>(*r.opt, 7, c["scheduler"].at("gamma").get<double>());
    return r;
  };

  Run straight = start(true);
  Trace full;
  train_steps(*straight.net, *straight.opt, straight.sched.get(), data, mse, max_norm, total, full);

  Run first = start(true);
  Trace head;
  train_steps(*first.net, *first.opt, first.sched.get(), data, mse, max_norm, stop, head);
  save(*first.net, dir + "/model.safetensors");
  save(*first.opt, dir + "/opt.safetensors");

  manual_seed(99);
  Run resumed = start(false);  // other weights until loaded
  resumed.opt->set_lr(resumed.opt->lr() * 10);  // the checkpoint's rate must replace this one
  load(*resumed.net, dir + "/model.safetensors");
  load(*resumed.opt, dir + "/opt.safetensors");
  CHECK(resumed.opt->lr() == first.opt->lr());
  if (resumed.sched) resumed.sched->set_last_epoch(first.sched->last_epoch());
  Trace tail;
  train_steps(*resumed.net, *resumed.opt, resumed.sched.get(), data, mse, max_norm, total - stop, tail);

  INFO(name << " on " << d.str() << ", stopped after " << stop << " of " << total << " steps");
  REQUIRE(head.losses.size() + tail.losses.size() == full.losses.size());
  for (int s = 0; s < stop; ++s) REQUIRE(head.losses[size_t(s)] == full.losses[size_t(s)]);
  for (int s = stop; s < total; ++s) {
    INFO("step " << s);
    REQUIRE(tail.losses[size_t(s - stop)] == full.losses[size_t(s)]);  // bit for bit
  }
  const auto a = straight.net->named_parameters(), b = resumed.net->named_parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].second.to_vector<float>() == b[i].second.to_vector<float>());
  }
}

}  // namespace kn::test::optim_agreement
