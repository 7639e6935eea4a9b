// Modules: the call operator and its hooks, registration, parameters, Sequential.
#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;
using kn::test::MLP;
using kn::test::random_tensor;

namespace {
struct Outer : Module {  // a user Module inside a user Module
  MLP inner;
  Linear head{3, 2};
  Outer() {
    register_module("inner", inner);
    register_module("head", head);
  }
  Tensor forward(const Tensor& x) override { return head(inner(x)); }
};
}  // namespace

TEST_CASE("operator() runs pre-hooks, forward, hooks; forward() runs no hooks", "[module][hooks]") {
  manual_seed(0);
  MLP model;
  std::vector<std::string> log;
  auto pre = model.register_forward_pre_hook([&](Module&, const Tensor& x) { log.push_back("pre " + x.shape().str()); });
  auto post = model.register_forward_hook(
      [&](Module&, const Tensor&, const Tensor& y) { log.push_back("post " + y.shape().str()); });
  Tensor x = random_tensor({5, 4});
  model(x);
  REQUIRE(log == std::vector<std::string>{"pre [5, 4]", "post [5, 3]"});
  log.clear();
  model.forward(x);
  CHECK(log.empty());
  post.remove();
  model(x);
  CHECK(log == std::vector<std::string>{"pre [5, 4]"});
  pre.remove();
  log.clear();
  model(x);
  CHECK(log.empty());
  pre.remove();  // removing twice is harmless
}

TEST_CASE("hooks on built-in layers and nested user modules run at every depth", "[module][hooks]") {
  manual_seed(0);
  Outer model;
  std::vector<std::string> log;
  for (auto& [path, m] : model.named_modules())
    m->register_forward_hook([&log, p = path](Module&, const Tensor&, const Tensor&) { log.push_back(p); });
  model(random_tensor({2, 4}));
  // children finish first, then their parents
  CHECK(log == std::vector<std::string>{"inner.fc1", "inner.relu", "inner.fc2", "inner", "head", ""});
  log.clear();
  model.forward(random_tensor({2, 4}));  // the outer forward() skips only the outer hooks
  CHECK(log == std::vector<std::string>{"inner.fc1", "inner.relu", "inner.fc2", "inner", "head"});
}

TEST_CASE("hooks can replace the input and the output", "[module][hooks]") {
  manual_seed(0);
  Linear fc(2, 2);
  Tensor zeros = Tensor::zeros({1, 2});
  fc.register_forward_pre_hook([&](Module&, const Tensor&) { return zeros; });
  Tensor y = fc(random_tensor({1, 2}));
  CHECK(y.at<float>(0, 0) == Approx(fc.bias.at<float>(0)));  // W·0 + b
  auto h = fc.register_forward_hook([](Module&, const Tensor&, const Tensor& out) { return relu(out); });
  Tensor z = fc(random_tensor({1, 2}));
  CHECK(z.at<float>(0, 0) >= 0.0f);
  CHECK(z.at<float>(0, 1) >= 0.0f);
}

TEST_CASE("a hook that removes itself while running", "[module][hooks]") {
  ReLU r;
  int calls = 0;
  HookHandle h;
  h = r.register_forward_hook([&](Module&, const Tensor&, const Tensor&) {
    ++calls;
    h.remove();
  });
  r(random_tensor({1, 1}));
  r(random_tensor({1, 1}));
  CHECK(calls == 1);
}

TEST_CASE("parameters and state_dict names follow register_module names", "[module]") {
  manual_seed(0);
  Outer model;
  std::vector<std::string> names;
  for (auto& [n, p] : model.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"inner.fc1.weight", "inner.fc1.bias", "inner.fc2.weight", "inner.fc2.bias",
                                          "head.weight", "head.bias"});
  CHECK(model.parameters().size() == 6);
  CHECK(model.inner.fc1.weight.shape() == Shape{10, 4});  // [out, in]
  for (auto& p : model.parameters()) CHECK(p.requires_grad());
}

TEST_CASE("Linear initialises uniformly within 1/sqrt(in), from manual_seed", "[module]") {
  manual_seed(5);
  Linear a(16, 8);
  manual_seed(5);
  Linear b(16, 8);
  CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
  for (float w : a.weight.to_vector<float>()) CHECK(std::fabs(w) <= 0.25f);
  for (float w : a.bias.to_vector<float>()) CHECK(std::fabs(w) <= 0.25f);
  Linear c(16, 8);
  CHECK(c.weight.to_vector<float>() != a.weight.to_vector<float>());
}

TEST_CASE("Sequential runs its modules in order and names them 0, 1, 2", "[module]") {
  manual_seed(0);
  Sequential seq(Linear(4, 10), ReLU(), Linear(10, 3));
  std::vector<std::string> names;
  for (auto& [n, p] : seq.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  Tensor x = random_tensor({7, 4});
  auto& l0 = dynamic_cast<Linear&>(seq[0]);
  auto& l2 = dynamic_cast<Linear&>(seq[2]);
  Tensor expected = l2(relu(l0(x)));
  CHECK(seq(x).to_vector<float>() == expected.to_vector<float>());
}

TEST_CASE("Sequential shares a module given by shared_ptr and takes one given by std::move", "[module]") {
  manual_seed(0);
  auto fc = std::make_shared<Linear>(4, 3);
  Sequential shared(fc, ReLU());
  Tensor x = random_tensor({5, 4});
  // The same layer, not a copy: the same weight storage, and a change seen by both.
  CHECK(dynamic_cast<Linear&>(shared[0]).weight.raw() == fc->weight.raw());
  CHECK(shared(x).to_vector<float>() == relu((*fc)(x)).to_vector<float>());
  fc->weight.data<float>()[0] += 1.0f;
  CHECK(dynamic_cast<Linear&>(shared[0]).weight.to_vector<float>() == fc->weight.to_vector<float>());
  CHECK(shared(x).to_vector<float>() == relu((*fc)(x)).to_vector<float>());

  Linear named(4, 2);
  const auto before = named.weight.to_vector<float>();
  Sequential moved(std::move(named));
  CHECK(dynamic_cast<Linear&>(moved[0]).weight.to_vector<float>() == before);
  ReLU& pushed = moved.push_back(ReLU());
  CHECK(&pushed == &moved[1]);
  CHECK(moved.size() == 2);
}

TEST_CASE("a Linear layer names itself, the shapes and the features in errors", "[module][errors]") {
  manual_seed(0);
  MLP model;
  const std::string e = error_of([&] { model(random_tensor({120, 3})); });
  CHECK(e == "Linear(4→10) fc1: input has 3 features, expected 4 (input shape [120, 3])");
  CHECK(error_of([&] { model(random_tensor({4})); }).find("must be 2-D") != std::string::npos);
}

TEST_CASE("a module with submodules held by reference refuses to move", "[module][errors]") {
  MLP model;
  CHECK(error_of([&] { MLP other(std::move(model)); }).find("registered by reference") != std::string::npos);
}

TEST_CASE("register rejects empty, dotted and duplicate names", "[module][errors]") {
  struct M : Module {
    Linear a{1, 1}, b{1, 1};
    Tensor forward(const Tensor& x) override { return x; }
  } m;
  CHECK_NOTHROW(m.register_module("a", m.a));
  CHECK(error_of([&] { m.register_module("a", m.b); }).find("already") != std::string::npos);
  CHECK_FALSE(error_of([&] { m.register_module("x.y", m.b); }).empty());
  CHECK_FALSE(error_of([&] { m.register_module("", m.b); }).empty());
}
