// Optimizer checkpoints on the CPU: kn::save(opt, path) / kn::load(opt, path). Resuming
// from a saved model and optimizer continues the run bit for bit (tests/optim_agreement.hpp's
// check_resume; tests/gpu/test_optim.cpp does it on CUDA); the file's layout
// is docs/optim.md's; and a bad file is refused with the tensor named, the optimizer
// left as it was.
#include <catch2/catch.hpp>

#include <string>

#include "optim_agreement.hpp"
#include "test_util.hpp"

using namespace kn;
using kn::test::optim_agreement::check_resume;

TEST_CASE("CPU: resuming from a checkpoint continues bit for bit: SGD momentum, dampening, weight decay",
          "[optim][checkpoint]") {
  check_resume("sgd_momentum_dampening_wd", Device::cpu(), 40, 17, test::temp_dir("ckpt"));
}
TEST_CASE("CPU: resuming from a checkpoint continues bit for bit: SGD Nesterov", "[optim][checkpoint]") {
  check_resume("sgd_nesterov_wd", Device::cpu(), 40, 1, test::temp_dir("ckpt"));
}
TEST_CASE("CPU: resuming from a checkpoint continues bit for bit: Adam amsgrad", "[optim][checkpoint]") {
  check_resume("adam_amsgrad", Device::cpu(), 40, 23, test::temp_dir("ckpt"));
}
TEST_CASE("CPU: resuming from a checkpoint continues bit for bit: AdamW", "[optim][checkpoint]") {
  check_resume("adamw", Device::cpu(), 40, 9, test::temp_dir("ckpt"));
}
TEST_CASE("CPU: resuming from a checkpoint continues bit for bit: Adam with StepLR", "[optim][checkpoint]") {
  check_resume("steplr_adam", Device::cpu(), 40, 20, test::temp_dir("ckpt"));
}
TEST_CASE("CPU: resuming from a checkpoint continues bit for bit: clipped SGD, plain SGD state", "[optim][checkpoint]") {
  check_resume("sgd_clip", Device::cpu(), 30, 12, test::temp_dir("ckpt"));
}

namespace {
Tensor param(const Shape& s, float v) {
  Tensor t = Tensor::full(s, v);
  t.requires_grad_(true);
  return t;
}
void step_once(optim::Optimizer& opt, const std::vector<Tensor>& ps) {
  opt.zero_grad();
  Tensor loss = Tensor::zeros(Shape{});
  for (auto& p : ps) loss = loss + (p * p).sum();
  loss.backward();
  opt.step();
}
}  // namespace

TEST_CASE("an optimizer checkpoint holds state.<i>.<name> tensors and the param group as metadata",
          "[optim][checkpoint]") {
  const std::string dir = test::temp_dir("ckpt-layout");
  std::vector<Tensor> ps = {param({2, 3}, 1.0f), param({3}, 2.0f)};
  optim::Adam adam(ps, optim::AdamOptions(0.01).amsgrad(true).weight_decay(0.5));
  step_once(adam, ps);
  step_once(adam, ps);
  save(adam, dir + "/adam.safetensors");
  const SafetensorsFile f = read_safetensors(dir + "/adam.safetensors");
  std::vector<std::string> names;
  for (auto& [n, t] : f.tensors) names.push_back(n);
  CHECK(names == std::vector<std::string>{"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
                                          "state.0.max_exp_avg_sq", "state.1.step", "state.1.exp_avg",
                                          "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"});
  CHECK(f.tensors[0].second.shape() == Shape{});
  CHECK(f.tensors[0].second.item() == 2.0f);
  CHECK(f.tensors[1].second.shape() == Shape{2, 3});
  CHECK(f.metadata.at("kernelnet.optimizer") == "Adam");
  CHECK(f.metadata.at("format") == "pt");
  const auto groups = nlohmann::json::parse(f.metadata.at("param_groups"));
  CHECK(groups.size() == 1);
  CHECK(groups[0].at("lr") == 0.01);
  CHECK(groups[0].at("betas") == nlohmann::json::array({0.9, 0.999}));
  CHECK(groups[0].at("eps") == 1e-8);
  CHECK(groups[0].at("weight_decay") == 0.5);
  CHECK(groups[0].at("amsgrad") == true);
  CHECK(groups[0].at("params") == nlohmann::json::array({0, 1}));

  // The lesson's plain SGD keeps no state: the file holds only its param group.
  optim::SGD sgd(ps, 0.1f);
  step_once(sgd, ps);
  save(sgd, dir + "/sgd.safetensors");
  const SafetensorsFile g = read_safetensors(dir + "/sgd.safetensors");
  CHECK(g.tensors.empty());
  CHECK(nlohmann::json::parse(g.metadata.at("param_groups"))[0].at("momentum") == 0.0);
}

TEST_CASE("a bad optimizer checkpoint names what is wrong and leaves the optimizer as it was",
          "[optim][checkpoint][errors]") {
  const std::string dir = test::temp_dir("ckpt-bad");
  std::vector<Tensor> ps = {param({2, 3}, 1.0f), param({3}, 2.0f)};
  optim::Adam src(ps, optim::AdamOptions(0.01));
  step_once(src, ps);
  const NamedTensors good = src.state_tensors();
  const std::map<std::string, std::string> meta = {
      {"kernelnet.optimizer", "Adam"}, {"param_groups", nlohmann::json::array({src.param_group()}).dump()}};

  // The optimizer that must not change: its own state and rate.
  std::vector<Tensor> qs = {param({2, 3}, 5.0f), param({3}, 6.0f)};
  optim::Adam dst(qs, optim::AdamOptions(0.3));
  step_once(dst, qs);
  const auto before = dst.state_tensors();
  auto unchanged = [&] {
    CHECK(dst.lr() == 0.3);
    const auto now = dst.state_tensors();
    REQUIRE(now.size() == before.size());
    for (size_t i = 0; i < now.size(); ++i) CHECK(now[i].second.to_vector<float>() == before[i].second.to_vector<float>());
  };
  auto try_load = [&](const NamedTensors& ts, const std::map<std::string, std::string>& md) {
    save_safetensors(dir + "/x.safetensors", ts, md);
    load(dst, dir + "/x.safetensors");
  };
  auto without = [&](const std::string& name) {
    NamedTensors out;
    for (auto& e : good)
      if (e.first != name) out.push_back(e);
    return out;
  };

  CHECK_THROWS_WITH(try_load(without("state.1.exp_avg_sq"), meta),
                    Catch::Contains("x.safetensors: missing tensor 'state.1.exp_avg_sq' (expected shape [3])"));
  unchanged();
  NamedTensors extra = good;
  extra.push_back({"state.2.exp_avg", Tensor::zeros({3})});
  CHECK_THROWS_WITH(try_load(extra, meta), Catch::Contains("unexpected tensor 'state.2.exp_avg' ([3])"));
  unchanged();
  NamedTensors odd = good;
  odd.push_back({"state.0.momentum_buffer", Tensor::zeros({2, 3})});
  CHECK_THROWS_WITH(try_load(odd, meta), Catch::Contains("unexpected tensor 'state.0.momentum_buffer'"));
  unchanged();
  NamedTensors shaped = without("state.0.exp_avg");
  shaped.push_back({"state.0.exp_avg", Tensor::zeros({3, 2})});
  CHECK_THROWS_WITH(try_load(shaped, meta),
                    Catch::Contains("tensor 'state.0.exp_avg' has shape [3, 2], parameter 0 needs [2, 3]"));
  unchanged();
  NamedTensors stepped = without("state.0.step");
  stepped.push_back({"state.0.step", Tensor::full(Shape{}, 1.5f)});
  CHECK_THROWS_WITH(try_load(stepped, meta), Catch::Contains("tensor 'state.0.step' holds 1.5, not a whole number"));
  unchanged();
  CHECK_THROWS_WITH(try_load(good, {{"kernelnet.optimizer", "SGD"}, {"param_groups", meta.at("param_groups")}}),
                    Catch::Contains("holds the state of SGD, this optimizer is Adam"));
  unchanged();
  CHECK_THROWS_WITH(try_load(good, {}), Catch::Contains("holds no optimizer state"));
  unchanged();
  auto group = src.param_group();
  group["params"] = {0, 1, 2};
  CHECK_THROWS_WITH(try_load(good, {{"kernelnet.optimizer", "Adam"},
                                    {"param_groups", nlohmann::json::array({group}).dump()}}),
                    Catch::Contains("param_groups[0]: the file is for 3 parameters, this Adam has 2"));
  unchanged();
  group = src.param_group();
  group["betas"] = {0.9, 1.5};
  CHECK_THROWS_WITH(try_load(good, {{"kernelnet.optimizer", "Adam"},
                                    {"param_groups", nlohmann::json::array({group}).dump()}}),
                    Catch::Contains("param_groups[0]: Adam: betas[1] must be in [0, 1), got 1.5"));
  unchanged();
  group = src.param_group();
  group.erase("eps");
  CHECK_THROWS_WITH(try_load(good, {{"kernelnet.optimizer", "Adam"},
                                    {"param_groups", nlohmann::json::array({group}).dump()}}),
                    Catch::Contains("param_groups[0]: \"eps\" is missing or not a number"));
  unchanged();
  CHECK_THROWS_WITH(try_load(good, {{"kernelnet.optimizer", "Adam"}, {"param_groups", "[{"}}),
                    Catch::Contains("param_groups is not valid JSON"));
  unchanged();
  // A model's weights are not an optimizer's state.
  Linear fc(2, 3);
  save(fc, dir + "/model.safetensors");
  CHECK_THROWS_WITH(load(dst, dir + "/model.safetensors"), Catch::Contains("holds no optimizer state"));
  unchanged();
  // And the good file loads: the rate and the state are src's.
  try_load(good, meta);
  CHECK(dst.lr() == 0.01);
  const auto now = dst.state_tensors();
  REQUIRE(now.size() == good.size());
  for (size_t i = 0; i < now.size(); ++i) CHECK(now[i].second.to_vector<float>() == good[i].second.to_vector<float>());
}

TEST_CASE("read_safetensors returns the metadata and refuses metadata that is not strings", "[optim][checkpoint][errors]") {
  const std::string dir = test::temp_dir("ckpt-meta");
  auto write_header = [&](const std::string& header) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
    io::write_text_atomic(dir + "/m.safetensors", bytes + header);
    return dir + "/m.safetensors";
  };
  const std::string good = write_header(R"({"__metadata__":{"format":"pt","note":"hi"}})");
  const SafetensorsFile f = read_safetensors(good);
  CHECK(f.tensors.empty());
  CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"note", "hi"}});
  const std::string bad = write_header(R"({"__metadata__":{"format":"pt","count":3}})");
  CHECK_THROWS_WITH(read_safetensors(bad), Catch::Contains("m.safetensors: __metadata__ entry 'count' must be a string, got 3"));
  CHECK(load_safetensors(bad).empty());  // a model's load does not look at the metadata
  const std::string not_object = write_header(R"({"__metadata__":[1]})");
  CHECK_THROWS_WITH(read_safetensors(not_object), Catch::Contains("__metadata__ must be an object of strings"));
}
