// The optimisers on the CPU, step by step against the documented update rules written
// out here in double, one element at a time: SGD (momentum, dampening, Nesterov, weight
// decay), Adam (bias correction, amsgrad, L2), AdamW (decoupled decay); StepLR;
// clip_grad_norm_; and the checks on their arguments. Training-length agreement with
// PyTorch is tests/test_optim_agreement.cpp; checkpoints are tests/test_optim_checkpoint.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <kernelnet/kernelnet.hpp>

#include "test_util.hpp"

using namespace kn;

namespace {

// A leaf of `n` values and a sequence of gradients for it.
Tensor leaf(const std::vector<float>& v) {
  Tensor t = Tensor::from_vector(v, {int64_t(v.size())});
  t.requires_grad_(true);
  return t;
}
void set_grad(Tensor& p, const std::vector<float>& g) {
  // A gradient as backward would leave it: sum(p * g) has gradient g.
  (p * Tensor::from_vector(g, p.shape())).sum().backward();
}
std::vector<float> grads_at(int step, size_t n) {
  std::vector<float> g(n);
  for (size_t j = 0; j < n; ++j) g[j] = float(std::sin(0.7 * double(j + 1) + 1.3 * step) * (j % 3 == 0 ? 1e-3 : 0.5));
  return g;
}
const std::vector<float> kStart = {0.5f, -1.25f, 2.0f, 0.0f, -0.03f, 1e-4f, 3.5f};

}  // namespace

TEST_CASE("SGD with momentum, dampening, Nesterov and weight decay follows torch.optim.SGD's rule", "[optim]") {
  struct Case {
    double lr, momentum, dampening, wd;
    bool nesterov;
  };
  for (Case c : {Case{0.1, 0.9, 0.0, 0.0, false}, Case{0.05, 0.9, 0.5, 1e-2, false}, Case{0.1, 0.8, 0.0, 1e-3, true},
                 Case{0.2, 0.0, 0.0, 0.1, false}}) {
    INFO("lr " << c.lr << " momentum " << c.momentum << " dampening " << c.dampening << " wd " << c.wd
               << " nesterov " << c.nesterov);
    Tensor p = leaf(kStart);
    optim::SGD opt({p}, optim::SGDOptions(c.lr).momentum(c.momentum).dampening(c.dampening).weight_decay(c.wd).nesterov(
                            c.nesterov));
    std::vector<double> ref(kStart.begin(), kStart.end()), buf(kStart.size());
    for (int step = 0; step < 6; ++step) {
      opt.zero_grad();
      const auto g = grads_at(step, kStart.size());
      set_grad(p, g);
      opt.step();
      for (size_t j = 0; j < ref.size(); ++j) {
        double d = g[j] + c.wd * ref[j];
        if (c.momentum != 0) {
          buf[j] = step == 0 ? d : buf[j] * c.momentum + (1 - c.dampening) * d;  // the first step clones d
          d = c.nesterov ? d + c.momentum * buf[j] : buf[j];
        }
        ref[j] -= c.lr * d;
      }
      const auto got = p.to_vector<float>();
      for (size_t j = 0; j < ref.size(); ++j) CHECK(got[j] == Approx(ref[j]).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE("plain SGD is the lesson's update, p - lr * grad, rounded as PyTorch's add_", "[optim]") {
  Tensor p = leaf(kStart);
  optim::SGD opt({p}, 0.01f);
  CHECK(opt.lr() == Approx(0.01));
  const auto g = grads_at(0, kStart.size());
  set_grad(p, g);
  opt.step();
  const auto got = p.to_vector<float>();
  for (size_t j = 0; j < g.size(); ++j) CHECK(got[j] == kStart[j] + -0.01f * g[j]);
}

TEST_CASE("Adam and AdamW follow torch.optim's rule: bias correction, amsgrad, L2 or decoupled decay", "[optim]") {
  struct Case {
    bool adamw;
    double lr, b1, b2, eps, wd;
    bool amsgrad;
  };
  for (Case c : {Case{false, 1e-2, 0.9, 0.999, 1e-8, 0.0, false}, Case{false, 1e-2, 0.8, 0.99, 1e-6, 1e-2, true},
                 Case{true, 1e-2, 0.9, 0.999, 1e-8, 1e-1, false}, Case{true, 3e-2, 0.5, 0.9, 1e-3, 1e-2, true}}) {
    INFO((c.adamw ? "AdamW" : "Adam") << " lr " << c.lr << " betas " << c.b1 << "," << c.b2 << " eps " << c.eps
                                      << " wd " << c.wd << " amsgrad " << c.amsgrad);
    Tensor p = leaf(kStart);
    std::unique_ptr<optim::Optimizer> opt;
    if (c.adamw)
      opt = std::make_unique<optim::AdamW>(std::vector<Tensor>{p}, optim::AdamWOptions(c.lr).betas({c.b1, c.b2}).eps(
                                                                       c.eps).weight_decay(c.wd).amsgrad(c.amsgrad));
    else
      opt = std::make_unique<optim::Adam>(std::vector<Tensor>{p}, optim::AdamOptions(c.lr).betas({c.b1, c.b2}).eps(
                                                                      c.eps).weight_decay(c.wd).amsgrad(c.amsgrad));
    const size_t n = kStart.size();
    std::vector<double> ref(kStart.begin(), kStart.end()), m(n, 0.0), v(n, 0.0), vmax(n, 0.0);
    for (int step = 1; step <= 8; ++step) {
      opt->zero_grad();
      const auto g = grads_at(step, n);
      set_grad(p, g);
      opt->step();
      for (size_t j = 0; j < n; ++j) {
        double gj = g[j];
        if (c.adamw) ref[j] *= 1 - c.lr * c.wd;
        else gj += c.wd * ref[j];
        m[j] = c.b1 * m[j] + (1 - c.b1) * gj;
        v[j] = c.b2 * v[j] + (1 - c.b2) * gj * gj;
        vmax[j] = std::max(vmax[j], v[j]);
        const double s = c.amsgrad ? vmax[j] : v[j];
        const double denom = std::sqrt(s) / std::sqrt(1 - std::pow(c.b2, step)) + c.eps;
        ref[j] -= c.lr / (1 - std::pow(c.b1, step)) * m[j] / denom;
      }
      const auto got = p.to_vector<float>();
      for (size_t j = 0; j < n; ++j) CHECK(got[j] == Approx(ref[j]).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE("amsgrad keeps the largest second moment: a gradient that shrinks keeps its step small", "[optim]") {
  Tensor a = leaf({1.0f}), b = leaf({1.0f});
  optim::Adam plain({a}, optim::AdamOptions(0.1)), ams({b}, optim::AdamOptions(0.1).amsgrad(true));
  for (int step = 0; step < 5; ++step) {
    const float g = step == 0 ? 10.0f : 0.01f;
    plain.zero_grad();
    ams.zero_grad();
    set_grad(a, {g});
    set_grad(b, {g});
    plain.step();
    ams.step();
  }
  // Without amsgrad v forgets the large first gradient faster than m does.
  CHECK(std::fabs(1.0f - b.item()) < std::fabs(1.0f - a.item()));
}

TEST_CASE("a parameter without a gradient is left alone and its Adam step count does not advance", "[optim]") {
  Tensor a = leaf({1.0f, 2.0f}), b = leaf({3.0f});
  optim::Adam opt({a, b}, optim::AdamOptions(0.1));
  set_grad(a, {1.0f, 1.0f});
  opt.step();  // b has no gradient
  CHECK(b.item() == 3.0f);
  auto state = opt.state_tensors();
  for (auto& [name, t] : state) CHECK(name.rfind("state.0.", 0) == 0);
  CHECK(state.size() == 3);  // step, exp_avg, exp_avg_sq of parameter 0 only
  opt.zero_grad();
  set_grad(a, {1.0f, 1.0f});
  set_grad(b, {1.0f});
  opt.step();
  // b's first step: the bias-corrected step is lr * sign(g) (m/sqrt(v) = 1 at step 1).
  CHECK(b.item() == Approx(3.0f - 0.1f).epsilon(1e-6));
  for (auto& [name, t] : opt.state_tensors()) {
    if (name == "state.0.step") CHECK(t.item() == 2.0f);
    if (name == "state.1.step") CHECK(t.item() == 1.0f);
  }
}

TEST_CASE("optimiser arguments are checked as torch.optim checks them", "[optim][errors]") {
  Tensor p = leaf({1.0f});
  CHECK_THROWS_WITH(optim::SGD({p}, -0.1f), Catch::Contains("SGD: learning rate must be >= 0, got -0.1"));
  CHECK_THROWS_WITH(optim::SGD({p}, optim::SGDOptions(0.1).momentum(-1)), Catch::Contains("SGD: momentum must be >= 0, got -1"));
  CHECK_THROWS_WITH(optim::SGD({p}, optim::SGDOptions(0.1).nesterov(true)), Catch::Contains("SGD: Nesterov momentum needs a momentum > 0 and dampening 0, got momentum 0 and dampening 0"));
  CHECK_THROWS_WITH(optim::SGD({p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)), Catch::Contains("dampening 0.1"));
  CHECK_THROWS_WITH(optim::SGD({p}, optim::SGDOptions(0.1).weight_decay(-1e-3)), Catch::Contains("SGD: weight_decay must be >= 0, got -0.001"));
  CHECK_THROWS_WITH(optim::Adam({p}, optim::AdamOptions(1e-3).betas({0.9, 1.0})), Catch::Contains("Adam: betas[1] must be in [0, 1), got 1"));
  CHECK_THROWS_WITH(optim::AdamW({p}, optim::AdamWOptions(1e-3).eps(-1)), Catch::Contains("AdamW: eps must be >= 0, got -1"));
  CHECK_THROWS_WITH(optim::Adam({p, p}), Catch::Contains("Adam: parameter 1 appears twice in the list"));
  Tensor frozen = Tensor::from_vector(std::vector<float>{1.0f}, {1});
  CHECK_THROWS_WITH(optim::Adam({frozen}), Catch::Contains("does not require grad"));
  optim::Adam adam({p});
  CHECK_THROWS_WITH(adam.set_lr(-1), Catch::Contains("Adam: learning rate must be >= 0, got -1"));
}

TEST_CASE("StepLR multiplies the rate by gamma every step_size steps, counting from its construction", "[optim]") {
  Tensor p = leaf({1.0f});
  optim::Adam adam({p}, optim::AdamOptions(0.8));
  optim::StepLR sched(adam, /*step_size=*/3, /*gamma=*/0.5);
  CHECK(sched.last_epoch() == 0);
  std::vector<double> seen;
  for (int i = 0; i < 7; ++i) {
    seen.push_back(adam.lr());
    sched.step();
  }
  CHECK(seen == std::vector<double>{0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2});
  CHECK(sched.last_epoch() == 7);
  CHECK(sched.get_last_lr() == 0.2);
  // Chainable, as PyTorch's: a rate set by hand is what the next decay scales.
  adam.set_lr(1.0);
  sched.step();
  sched.step();
  CHECK(adam.lr() == 0.5);
  CHECK_THROWS_WITH(optim::StepLR(adam, 0), Catch::Contains("StepLR: step_size must be > 0, got 0"));
}

TEST_CASE("clip_grad_norm_ scales by max_norm / (total + 1e-6) when the total 2-norm is larger", "[optim]") {
  Tensor a = leaf({3.0f, 0.0f}), b = leaf({0.0f, 0.0f, 4.0f}), c = leaf({1.0f});
  set_grad(a, {3.0f, 0.0f});
  set_grad(b, {0.0f, 0.0f, 4.0f});  // c has no gradient: skipped
  const float total = nn::utils::clip_grad_norm_({a, b, c}, /*max_norm=*/1.0);
  CHECK(total == 5.0f);
  const float coef = 1.0f / (5.0f + 1e-6f);
  CHECK(a.grad().to_vector<float>() == std::vector<float>{3.0f * coef, 0.0f});
  CHECK(b.grad().to_vector<float>() == std::vector<float>{0.0f, 0.0f, 4.0f * coef});
  CHECK_FALSE(c.grad().defined());
  // Under max_norm: the factor is clamped to 1 and nothing changes.
  const auto before = a.grad().to_vector<float>();
  const double small = nn::utils::clip_grad_norm_({a, b}, 10.0);
  CHECK(small == Approx(1.0).epsilon(1e-6));
  CHECK(a.grad().to_vector<float>() == before);
  // No gradients at all: 0, as PyTorch's tensor(0.).
  CHECK(float(nn::utils::clip_grad_norm_({c}, 1.0)) == 0.0f);
  CHECK_THROWS_WITH(nn::utils::clip_grad_norm_({a}, 1.0, 1.0), Catch::Contains("clip_grad_norm_: only the 2-norm (norm_type 2) is implemented, got norm_type 1"));
  CHECK_THROWS_WITH(nn::utils::clip_grad_norm_({a}, -1.0), Catch::Contains("clip_grad_norm_: max_norm must be >= 0, got -1"));
}

TEST_CASE("clip_grad_norm_ returns the norm as a tensor on the gradients' device; reading it is the choice", "[optim]") {
  Tensor a = leaf({6.0f, 8.0f});
  set_grad(a, {6.0f, 8.0f});
  auto total = nn::utils::clip_grad_norm_({a}, 100.0);
  CHECK(total.tensor().dim() == 0);
  CHECK(total.tensor().device() == Device::cpu());
  CHECK(total.item() == 10.0f);
}

TEST_CASE("issue 15's API, as written there, compiles and trains", "[optim]") {
  manual_seed(3);
  Sequential model(Linear(4, 8), Tanh(), Dropout(0.2), Linear(8, 3), Sigmoid());
  const std::string dir = test::temp_dir("issue15");
  kn::optim::SGD sgd(model.parameters(), 0.01f);  // the lesson's form stays
  kn::optim::SGD sgdm(model.parameters(),
                      kn::optim::SGDOptions(0.01).momentum(0.9).dampening(0).weight_decay(1e-4).nesterov(true));
  kn::optim::Adam adam(model.parameters(),
                       kn::optim::AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0).amsgrad(false));
  kn::optim::AdamW adamw(model.parameters(), kn::optim::AdamWOptions(1e-3).weight_decay(1e-2));
  kn::optim::Optimizer& opt = adam;
  kn::optim::StepLR sched(adam, /*step_size=*/100, /*gamma=*/0.5);
  kn::MSELoss mse;
  const Tensor x = test::random_tensor({16, 4}, -1.0f, 1.0f, 5), target = test::random_tensor({16, 3}, 0.0f, 1.0f, 6);
  model.train();
  float first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    Tensor loss = mse(model(x), target);  // mean reduction
    (step == 0 ? first : last) = loss.item();
    loss.backward();
    float total_norm = kn::nn::utils::clip_grad_norm_(model.parameters(), /*max_norm=*/1.0);
    CHECK(std::isfinite(total_norm));
    opt.step();
    sched.step();
  }
  CHECK(last < first);
  CHECK(opt.lr() == 0.25e-3);
  opt.set_lr(0.005);
  kn::save(adam, dir + "/opt.safetensors");
  kn::load(adam, dir + "/opt.safetensors");
  CHECK(adam.lr() == 0.005);
  model.eval();  // Dropout is the identity now: two calls agree
  CHECK(model(x).to_vector<float>() == model(x).to_vector<float>());
  (void)sgd, (void)sgdm, (void)adamw;
}
