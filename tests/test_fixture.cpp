// The PyTorch reference run (tests/fixtures/torch-iris-seed1): the CPU backend must
// reproduce all 20000 losses and the final weights from the same initial weights.
#include <fstream>

#include "iris_train.hpp"
#include "test_util.hpp"

using namespace kn;

namespace {
using kn::test::fixture_losses;
Tensor find(const NamedTensors& ts, const std::string& name) {
  for (auto& [n, t] : ts)
    if (n == name) return t;
  FAIL("no tensor " << name);
  return {};
}
}  // namespace

TEST_CASE("manual_seed(1) gives PyTorch's initial weights for torch.manual_seed(1)", "[fixture]") {
  manual_seed(1);
  iris::MLP model(4, 10, 3);
  const auto init = load_safetensors(test::fixture("torch-iris-seed1/init.safetensors"));
  for (auto& [name, p] : model.state_dict()) {
    INFO(name);
    const auto want = find(init, name).to_vector<float>();
    const auto got = p.to_vector<float>();
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-7));
  }
}

TEST_CASE("CPU: 20000 epochs from the fixture's weights reproduce PyTorch's losses and weights", "[fixture]") {
  const auto want = fixture_losses();
  REQUIRE(want.size() == 20000);
  iris::MLP model(4, 10, 3);
  load(model, test::fixture("torch-iris-seed1/init.safetensors"));
  iris::Config cfg;
  cfg.epochs = 20000;
  cfg.record_every = 1;
  auto r = iris::train(cfg, model);
  REQUIRE(r.losses.size() == 20000);
  double worst = 0;
  int worst_epoch = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(double(r.losses[i].second) - want[i]);
    if (d > worst) worst = d, worst_epoch = int(i) + 1;
  }
  INFO("largest loss difference " << worst << " at epoch " << worst_epoch);
  CHECK(worst <= 1e-5);
  CHECK(r.losses.front().first == 1);
  const auto fin = load_safetensors(test::fixture("torch-iris-seed1/final.safetensors"));
  double worst_w = 0;
  for (auto& [name, p] : model.state_dict()) {
    const auto a = p.to_vector<float>(), b = find(fin, name).to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) worst_w = std::max(worst_w, std::fabs(double(a[i]) - b[i]));
  }
  INFO("largest weight difference " << worst_w);
  CHECK(worst_w <= 1e-4);
  CHECK(r.test_acc == Approx(29.0 / 30.0));
}

TEST_CASE("a non-finite loss stops training, naming the epoch and suggesting a smaller learning rate", "[fixture][errors]") {
  iris::MLP model(4, 10, 3);
  load(model, test::fixture("torch-iris-seed1/init.safetensors"));
  // weights so large that the logits overflow: the loss is inf or NaN at once
  for (auto& p : model.parameters())
    for (int64_t i = 0; i < p.numel(); ++i) p.data<float>()[i] *= 1e37f;
  iris::Config cfg;
  cfg.epochs = 10;
  const std::string e = test::error_of([&] { iris::train(cfg, model); });
  CHECK(e.find("training diverged: the loss is ") == 0);
  CHECK(e.find(" at epoch 1; try a smaller learning rate than --lr 0.01") != std::string::npos);
  cfg.record_every = 0;  // never read back during training: caught at the end
  const std::string e0 = test::error_of([&] { iris::train(cfg, model); });
  CHECK(e0.find("at epoch 10") != std::string::npos);
}
