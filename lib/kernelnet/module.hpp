// kn::Module: what nn.Module is in PyTorch.
//
// model(x) is Module::operator(): it runs the forward pre-hooks, then forward(x),
// then the forward hooks, as nn.Module.__call__ does. model.forward(x) runs
// forward alone, with no hooks. Parameters and submodules are registered by name;
// those names make state_dict() keys ("fc1.weight") as in PyTorch.
#pragma once
#include <cxxabi.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <kernelnet/autograd.hpp>
#include <kernelnet/tensor.hpp>
#include <kernelnet/trace/scope.hpp>

namespace kn {

class Module;

// Returned by register_*_hook; remove() takes the hook out. Outliving the module is safe.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<void> alive, std::function<void()> remover)
      : alive_(std::move(alive)), remover_(std::move(remover)) {}
  void remove() {
    if (remover_ && !alive_.expired()) remover_();
    remover_ = nullptr;
  }

 private:
  std::weak_ptr<void> alive_;
  std::function<void()> remover_;
};

class Module {
 public:
  using PreHook = std::function<std::optional<Tensor>(Module&, const Tensor&)>;
  using Hook = std::function<std::optional<Tensor>(Module&, const Tensor&, const Tensor&)>;

  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  // Moving is allowed while no submodule is registered by reference (its address
  // would change); built-in layers and Sequential move freely.
  Module(Module&& o) : Module() { take(std::move(o)); }
  Module& operator=(Module&& o) {
    take(std::move(o));
    return *this;
  }

  virtual Tensor forward(const Tensor& x) = 0;

  // The call operator: pre-hooks, forward, hooks. A pre-hook may return a new input,
  // a hook a new output (return std::nullopt, or nothing, to keep them).
  Tensor operator()(const Tensor& x) {
    trace::ModuleScope scope(*this);  // builds no string while tracing is off
    if (hooks_->pre.empty() && hooks_->post.empty()) return forward(x);
    Tensor in = x;
    for (auto& [id, hook] : snapshot(hooks_->pre))
      if (auto r = hook(*this, in)) in = *r;
    Tensor out = forward(in);
    for (auto& [id, hook] : snapshot(hooks_->post))
      if (auto r = hook(*this, in, out)) out = *r;
    return out;
  }

  // hook(module, input) -> void or Tensor (the new input)
  template <typename F>
  HookHandle register_forward_pre_hook(F hook) {
    PreHook h;
    if constexpr (std::is_void_v<std::invoke_result_t<F&, Module&, const Tensor&>>)
      h = [hook](Module& m, const Tensor& x) mutable -> std::optional<Tensor> { hook(m, x); return std::nullopt; };
    else
      h = [hook](Module& m, const Tensor& x) mutable -> std::optional<Tensor> { return hook(m, x); };
    return add_hook(hooks_->pre, std::move(h));
  }
  // hook(module, input, output) -> void or Tensor (the new output)
  template <typename F>
  HookHandle register_forward_hook(F hook) {
    Hook h;
    if constexpr (std::is_void_v<std::invoke_result_t<F&, Module&, const Tensor&, const Tensor&>>)
      h = [hook](Module& m, const Tensor& x, const Tensor& y) mutable -> std::optional<Tensor> {
        hook(m, x, y);
        return std::nullopt;
      };
    else
      h = [hook](Module& m, const Tensor& x, const Tensor& y) mutable -> std::optional<Tensor> { return hook(m, x, y); };
    return add_hook(hooks_->post, std::move(h));
  }

  // --- Registration. Names must be unique within a module and free of '.'.
  template <typename M>
  M& register_module(const std::string& name, M& module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module takes a kn::Module");
    check_name(name);
    module.name_ = name;
    children_.push_back({name, &module, nullptr});
    return module;
  }
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module takes a kn::Module");
    KN_CHECK(module, "register_module(\"", name, "\"): null module");
    check_name(name);
    module->name_ = name;
    children_.push_back({name, module.get(), module});
    return module;
  }
  Tensor& register_parameter(const std::string& name, Tensor& param, bool requires_grad = true) {
    check_name(name);
    KN_CHECK(param.defined(), "register_parameter(\"", name, "\"): undefined tensor");
    if (requires_grad) param.requires_grad_(true);
    params_.push_back({name, param});
    return param;
  }

  // --- What it holds, in registration order, recursively: "fc1.weight", ...
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect_parameters("", recurse, out);
    return out;
  }
  std::vector<Tensor> parameters(bool recurse = true) const {
    std::vector<Tensor> out;
    for (auto& [n, p] : named_parameters(recurse)) out.push_back(p);
    return out;
  }
  std::vector<std::pair<std::string, Module*>> named_children() const {
    std::vector<std::pair<std::string, Module*>> out;
    for (auto& c : children_) out.push_back({c.name, c.module});
    return out;
  }
  // This module ("") and every submodule, depth first, with dotted paths.
  std::vector<std::pair<std::string, Module*>> named_modules() {
    std::vector<std::pair<std::string, Module*>> out{{"", this}};
    for (auto& c : children_)
      for (auto& [path, m] : c.module->named_modules()) out.push_back({path.empty() ? c.name : c.name + "." + path, m});
    return out;
  }
  // The parameters by name, as PyTorch's state_dict() names them.
  std::vector<std::pair<std::string, Tensor>> state_dict() const { return named_parameters(); }

  // Moves every parameter to the device in place, so optimisers and other handles
  // that share them follow (as PyTorch's Module.to does).
  Module& to(Device device) {
    check_device_usable(device);
    for (auto& [n, p] : named_parameters()) {
      if (p.device() == device) continue;
      Tensor moved = p.to(device);
      p.impl().storage = moved.impl().storage;
      p.impl().grad.reset();
      p.impl().spare_grad.reset();
    }
    return *this;
  }

  // Resets every parameter's gradient (to none, as PyTorch 2's zero_grad does).
  void zero_grad() {
    for (auto& p : parameters()) clear_grad(p);
  }

  void train(bool on = true) {
    training_ = on;
    for (auto& c : children_) c.module->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // The name this module was registered under ("" for a top-level module).
  const std::string& name() const { return name_; }
  // What it is, for messages and traces: "Linear(4→10)", "ReLU", "MLP".
  virtual std::string describe() const {
    int status = 0;
    const char* mangled = typeid(*this).name();
    char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string s = status == 0 && d ? d : mangled;
    std::free(d);
    const auto colon = s.rfind("::");
    return colon == std::string::npos ? s : s.substr(colon + 2);
  }
  // "fc1 (Linear 4→10)" or "MLP"
  std::string trace_label() const {
    std::string d = describe();
    return name_.empty() ? d : name_ + " (" + d + ")";
  }
  // "Linear(4→10) fc1" or "Linear(4→10)": how errors name a layer.
  std::string error_label() const { return name_.empty() ? describe() : describe() + " " + name_; }

 private:
  struct Child {
    std::string name;
    Module* module;
    std::shared_ptr<Module> owner;  // set when the module was registered by shared_ptr
  };
  struct Hooks {
    std::vector<std::pair<int, PreHook>> pre;
    std::vector<std::pair<int, Hook>> post;
    int next_id = 0;
  };

  template <typename H>
  static std::vector<std::pair<int, H>> snapshot(const std::vector<std::pair<int, H>>& v) {
    return v;  // a hook may remove itself (or others) while the list runs
  }
  template <typename H>
  HookHandle add_hook(std::vector<std::pair<int, H>>& list, H hook) {
    const int id = hooks_->next_id++;
    list.push_back({id, std::move(hook)});
    std::weak_ptr<Hooks> weak = hooks_;
    auto* where = &list;
    return HookHandle(weak, [weak, where, id] {
      if (auto h = weak.lock())
        for (auto it = where->begin(); it != where->end(); ++it)
          if (it->first == id) {
            where->erase(it);
            break;
          }
    });
  }
  void check_name(const std::string& name) const {
    KN_CHECK(!name.empty() && name.find('.') == std::string::npos, "register: the name \"", name,
             "\" must be non-empty and contain no '.'");
    for (auto& c : children_) KN_CHECK(c.name != name, "register: \"", name, "\" is already a submodule of ", describe());
    for (auto& p : params_) KN_CHECK(p.first != name, "register: \"", name, "\" is already a parameter of ", describe());
  }
  void collect_parameters(const std::string& prefix, bool recurse,
                          std::vector<std::pair<std::string, Tensor>>& out) const {
    for (auto& [n, p] : params_) out.push_back({prefix + n, p});
    if (recurse)
      for (auto& c : children_) c.module->collect_parameters(prefix + c.name + ".", true, out);
  }
  void take(Module&& o) {
    for (auto& c : o.children_)
      KN_CHECK(c.owner, "cannot move ", o.describe(), ": its submodule \"", c.name,
               "\" is registered by reference; hold the module by std::shared_ptr instead");
    params_ = std::move(o.params_);
    children_ = std::move(o.children_);
    hooks_ = std::move(o.hooks_);
    o.hooks_ = std::make_shared<Hooks>();
    name_ = std::move(o.name_);
    training_ = o.training_;
  }

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<Child> children_;
  std::shared_ptr<Hooks> hooks_ = std::make_shared<Hooks>();
  std::string name_;
  bool training_ = true;
};

}  // namespace kn
