// kn::optim::Optimizer: what SGD, Adam and AdamW share, as torch.optim.Optimizer is for
// PyTorch's: the parameter list, zero_grad(), the learning rate, and the per-parameter
// state (momentum buffers, moments, step counts) that a checkpoint saves and restores.
//
// The state of parameter i (its index in parameters()) is created at its first step()
// with a gradient, as in PyTorch, on the parameter's device: its tensors are named by
// state_names() ("momentum_buffer"; "exp_avg", "exp_avg_sq", "max_exp_avg_sq") and, for
// Adam and AdamW, it counts the parameter's own steps. A checkpoint holds them as
// "state.<i>.<name>" and "state.<i>.step", with the hyper-parameters as JSON: the layout
// is in docs/optim.md; kn::save(opt, path) and kn::load(opt, path) write and read it
// (<kernelnet/optim/checkpoint.hpp>).
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <kernelnet/autograd.hpp>
#include <kernelnet/tensor.hpp>

namespace kn {
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
}

namespace kn::optim {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;

  // Resets gradients to none (PyTorch 2's default); the next backward writes them afresh.
  void zero_grad() {
    for (auto& p : params_) clear_grad(p);
  }
  // One update of every parameter that has a gradient (a parameter without one is left
  // alone and its state does not advance), in one launch on CUDA.
  virtual void step() = 0;

  double lr() const { return lr_; }
  void set_lr(double lr) {
    KN_CHECK(lr >= 0.0, name_, ": learning rate must be >= 0, got ", lr);
    lr_ = lr;
  }
  const std::vector<Tensor>& parameters() const { return params_; }
  // "SGD", "Adam" or "AdamW": how messages and checkpoints name it.
  const std::string& name() const { return name_; }

  // --- Checkpoints (the file layout is in docs/optim.md).
  // The hyper-parameters, as PyTorch's param_groups[0] holds them (with "params": the
  // parameter indices).
  nlohmann::json param_group() const {
    nlohmann::json g = options_json();
    g["lr"] = lr_;
    std::vector<int> idx(params_.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = int(i);
    g["params"] = idx;
    return g;
  }
  // The state tensors, "state.<i>.step" (a float32 scalar, as PyTorch stores it) first.
  NamedTensors state_tensors() const {
    NamedTensors out;
    const auto names = state_names(options_json());
    for (size_t i = 0; i < state_.size(); ++i) {
      if (!state_[i].created) continue;
      const std::string prefix = "state." + std::to_string(i) + ".";
      if (counts_steps()) out.push_back({prefix + "step", Tensor::full(Shape{}, float(state_[i].step))});
      for (size_t k = 0; k < names.size(); ++k) out.push_back({prefix + names[k], state_[i].tensors[k]});
    }
    return out;
  }
  // Replaces the hyper-parameters and the state with a checkpoint's, after checking all
  // of it: on any error nothing has changed, and the message names `where` and the
  // tensor or field at fault.
  void load_state(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                  const std::string& where);

 protected:
  Optimizer(std::vector<Tensor> params, double lr, std::string name) : params_(std::move(params)), name_(std::move(name)) {
    set_lr(lr);
    std::set<const void*> seen;
    for (size_t i = 0; i < params_.size(); ++i) {
      KN_CHECK(params_[i].defined() && params_[i].dtype() == Dtype::Float32, name_, ": parameter ", i,
               " must be a float32 tensor, got ", params_[i].str());
      KN_CHECK(params_[i].requires_grad(), name_, ": parameter ", i, " ", params_[i].str(), " does not require grad");
      KN_CHECK(seen.insert(&params_[i].impl()).second, name_, ": parameter ", i,
               " appears twice in the list; each parameter may be given once");
    }
    state_.resize(params_.size());
  }

  struct State {
    bool created = false;
    bool fresh = false;            // created this step: its tensors hold nothing yet
    int64_t step = 0;              // steps taken (Adam, AdamW)
    std::vector<Tensor> tensors;   // in state_names() order
  };

  // The hyper-parameters other than lr, as JSON; the state tensors a parameter has under
  // options `group` (throws on an invalid group); whether the state counts steps; and
  // setting the hyper-parameters from a checked group.
  virtual nlohmann::json options_json() const = 0;
  virtual std::vector<std::string> state_names(const nlohmann::json& group) const = 0;
  virtual bool counts_steps() const = 0;
  virtual void set_options(const nlohmann::json& group) = 0;

  // The parameters with a gradient this step, their indices in `indices_`, and their
  // data and gradient pointers, checked to share one device. False when none has one.
  bool gather() {
    indices_.clear();
    ptrs_.clear();
    grads_.clear();
    sizes_.clear();
    for (size_t i = 0; i < params_.size(); ++i) {
      const Tensor& p = params_[i];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      KN_CHECK(ptrs_.empty() || p.device() == device_, name_, ": parameters on ", device_.str(), " and ",
               p.device().str(), "; an optimiser's parameters must share one device");
      KN_CHECK(g.device() == p.device(), name_, ": gradient on ", g.device().str(), ", parameter on ",
               p.device().str());
      device_ = p.device();
      indices_.push_back(i);
      ptrs_.push_back(p.data<float>());
      grads_.push_back(g.data<float>());
      sizes_.push_back(p.numel());
    }
    return !ptrs_.empty();
  }
  // Parameter i's state, created on first use and kept on the parameter's device (moved
  // along if the model was moved with .to()). New tensors are left unwritten, `fresh`:
  // the first step's kernel writes them without reading them (a momentum buffer starts
  // as the gradient, Adam's moments as 0), so no launch is spent zeroing them.
  State& state(size_t i) {
    State& s = state_[i];
    const Tensor& p = params_[i];
    if (!s.created) {
      s.created = true;
      s.fresh = true;
      s.step = 0;
      s.tensors.clear();
      for (size_t k = 0, n = state_names(options_json()).size(); k < n; ++k)
        s.tensors.push_back(Tensor::empty(p.shape(), Dtype::Float32, p.device()));
    }
    for (auto& t : s.tensors)
      if (t.device() != p.device()) t = t.to(p.device());
    return s;
  }

  std::vector<Tensor> params_;
  double lr_ = 0.0;
  std::string name_;
  std::vector<State> state_;
  // Reused every step: no allocation in the training loop once the state exists.
  Device device_;
  std::vector<size_t> indices_;
  std::vector<float*> ptrs_;
  std::vector<const float*> grads_;
  std::vector<int64_t> sizes_;
};

// Reads a number or a flag of a param group, or says which is missing.
inline double group_number(const nlohmann::json& g, const char* key) {
  KN_CHECK(g.contains(key) && g[key].is_number(), "\"", key, "\" is missing or not a number");
  return g[key].get<double>();
}
inline bool group_flag(const nlohmann::json& g, const char* key) {
  KN_CHECK(g.contains(key) && g[key].is_boolean(), "\"", key, "\" is missing or not true/false");
  return g[key].get<bool>();
}

inline void Optimizer::load_state(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                                  const std::string& where) {
  const auto kind = metadata.find("kernelnet.optimizer");
  KN_CHECK(kind != metadata.end(), where, ": holds no optimizer state (its metadata has no \"kernelnet.optimizer\"); ",
           "a model's weights load with kn::load(model, path)");
  KN_CHECK(kind->second == name_, where, ": holds the state of ", kind->second, ", this optimizer is ", name_);
  const auto text = metadata.find("param_groups");
  KN_CHECK(text != metadata.end(), where, ": the metadata has no \"param_groups\"");
  nlohmann::json groups;
  try {
    groups = nlohmann::json::parse(text->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(str(where, ": param_groups is not valid JSON: ", e.what()));
  }
  KN_CHECK(groups.is_array() && groups.size() == 1 && groups[0].is_object(), where,
           ": param_groups must be a list of one group (a kernelnet optimizer has one)");
  const nlohmann::json& g = groups[0];
  const size_t n = params_.size();
  std::vector<std::string> names;
  double lr = 0.0;
  try {
    lr = group_number(g, "lr");
    KN_CHECK(lr >= 0.0, "lr must be >= 0, got ", lr);
    KN_CHECK(g.contains("params") && g["params"].is_array(), "\"params\" is missing or not a list");
    KN_CHECK(g["params"].size() == n, "the file is for ", g["params"].size(), " parameters, this ", name_, " has ", n);
    names = state_names(g);
  } catch (const Error& e) {
    throw Error(str(where, ": param_groups[0]: ", e.what()));
  }
  // Every tensor is "state.<i>.<name>" for a parameter i and a name this optimizer keeps.
  std::vector<std::map<std::string, Tensor>> found(n);
  for (const auto& [key, t] : tensors) {
    size_t i = n, dot = std::string::npos;
    if (key.rfind("state.", 0) == 0 && (dot = key.find('.', 6)) != std::string::npos && dot > 6 && dot - 6 < 10 &&
        key.find_first_not_of("0123456789", 6) == dot)
      i = size_t(std::stoull(key.substr(6, dot - 6)));
    if (i < n && key.substr(6, dot - 6) != std::to_string(i)) i = n;  // "state.01.x" is not parameter 1's
    const std::string field = i < n ? key.substr(dot + 1) : "";
    const bool known = field == "step" ? counts_steps() : std::find(names.begin(), names.end(), field) != names.end();
    KN_CHECK(i < n && known, where, ": unexpected tensor '", key, "' (", t.shape().str(), "): a ", name_, " of ", n,
             " parameters keeps state.<0..", n - 1, ">.", counts_steps() ? "step, " : "", "and ",
             names.empty() ? "no tensors" : str(names.size(), " tensors per parameter"));
    const Shape want = field == "step" ? Shape{} : params_[i].shape();
    KN_CHECK(t.dtype() == Dtype::Float32, where, ": tensor '", key, "' is ", dtype_name(t.dtype()), ", expected F32");
    KN_CHECK(t.shape() == want, where, ": tensor '", key, "' has shape ", t.shape().str(), ", parameter ", i,
             " needs ", want.str());
    found[i][field] = t;
  }
  std::vector<int64_t> steps(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (found[i].empty()) continue;  // no state yet: that parameter has not had a step
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (counts_steps()) {
      KN_CHECK(found[i].count("step"), where, ": missing tensor '", prefix, "step' (a float32 scalar)");
      const float s = found[i]["step"].item<float>();
      KN_CHECK(s >= 1.0f && s <= 16777216.0f && s == float(int64_t(s)), where, ": tensor '", prefix,
               "step' holds ", s, ", not a whole number of steps from 1 to 2^24");
      steps[i] = int64_t(s);
    }
    for (const auto& nm : names)
      KN_CHECK(found[i].count(nm), where, ": missing tensor '", prefix, nm, "' (expected shape ",
               params_[i].shape().str(), ")");
  }
  // All checked: now change.
  set_options(g);
  lr_ = lr;
  for (size_t i = 0; i < n; ++i) {
    State s;
    if (!found[i].empty()) {
      s.created = true;
      s.step = steps[i];
      for (const auto& nm : names) {
        const Device d = params_[i].device();
        const Tensor& t = found[i][nm];
        s.tensors.push_back(t.device() == d ? t.clone() : t.to(d));
      }
    }
    state_[i] = std::move(s);
  }
}

}  // namespace kn::optim
