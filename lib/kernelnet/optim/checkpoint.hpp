// An optimizer's checkpoint: kn::save(opt, path) and kn::load(opt, path), beside
// kn::save(model, path) and kn::load(model, path). A safetensors file: the state tensors
// as "state.<i>.<name>", the hyper-parameters as JSON in the metadata (docs/optim.md).
// Saving the model and the optimizer at epoch k and loading both into a fresh model and
// optimizer continues the run bit for bit, on either backend.
#pragma once
#include <string>

#include <kernelnet/optim/optimizer.hpp>
#include <kernelnet/safetensors.hpp>

namespace kn {

// Written through a temporary file and a rename: never half-written.
inline void save(const optim::Optimizer& optimizer, const std::string& path) {
  save_safetensors(path, optimizer.state_tensors(),
                   {{"kernelnet.optimizer", optimizer.name()},
                    {"param_groups", nlohmann::json::array({optimizer.param_group()}).dump()}});
}

// Everything is checked before anything changes: a missing, extra or mis-shaped tensor,
// another optimizer's file, or a file for another number of parameters is an Error
// naming the path and what is wrong, and leaves the optimizer as it was.
inline void load(optim::Optimizer& optimizer, const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  optimizer.load_state(file.tensors, file.metadata, path);
}

}  // namespace kn
