// The optimisers, the learning-rate scheduler, gradient clipping and optimizer
// checkpoints, as torch.optim and torch.nn.utils have them:
//   kn::optim::SGD, SGDOptions          <kernelnet/optim/sgd.hpp>
//   kn::optim::Adam, AdamW, *Options    <kernelnet/optim/adam.hpp>
//   kn::optim::StepLR                   <kernelnet/optim/scheduler.hpp>
//   kn::nn::utils::clip_grad_norm_      <kernelnet/optim/clip.hpp>
//   kn::save(opt, path), kn::load       <kernelnet/optim/checkpoint.hpp>
// Each step is one launch for all parameters on CUDA (<kernelnet/ops/optim.hpp>).
#pragma once
#include <kernelnet/optim/adam.hpp>
#include <kernelnet/optim/checkpoint.hpp>
#include <kernelnet/optim/clip.hpp>
#include <kernelnet/optim/optimizer.hpp>
#include <kernelnet/optim/scheduler.hpp>
#include <kernelnet/optim/sgd.hpp>
