// kn::optim::StepLR: torch.optim.lr_scheduler.StepLR. Every step_size calls of step(),
// the optimizer's learning rate is multiplied by gamma:
//
//   kn::optim::StepLR sched(adam, /*step_size=*/100, /*gamma=*/0.5);
//   for (epoch ...) { ...; adam.step(); sched.step(); }
//
// As in PyTorch, constructing it counts as its step 0 (last_epoch() is 0, the rate is
// unchanged) and the k-th step() sets last_epoch() to k, multiplying the rate by gamma
// when k is a multiple of step_size (PyTorch's "chainable" form: the optimizer's current
// rate is scaled, so a rate set by hand in between is kept and scaled).
//
// Its whole state is last_epoch(). To resume from a checkpoint: load the optimizer (its
// rate is in the file), build the scheduler, and set_last_epoch() to the saved value;
// the rate is left as loaded.
#pragma once
#include <cstdint>

#include <kernelnet/optim/optimizer.hpp>

namespace kn::optim {

class StepLR {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1) : opt_(&optimizer), step_size_(step_size), gamma_(gamma) {
    KN_CHECK(step_size > 0, "StepLR: step_size must be > 0, got ", step_size);
    KN_CHECK(gamma >= 0.0, "StepLR: gamma must be >= 0, got ", gamma);
  }

  void step() {
    ++last_epoch_;
    if (last_epoch_ % step_size_ == 0) opt_->set_lr(opt_->lr() * gamma_);
  }

  int64_t last_epoch() const { return last_epoch_; }
  void set_last_epoch(int64_t epoch) {
    KN_CHECK(epoch >= 0, "StepLR: last_epoch must be >= 0, got ", epoch);
    last_epoch_ = epoch;
  }
  // The rate step() last left (PyTorch's get_last_lr()[0]).
  double get_last_lr() const { return opt_->lr(); }
  int64_t step_size() const { return step_size_; }
  double gamma() const { return gamma_; }

 private:
  Optimizer* opt_;
  int64_t step_size_;
  double gamma_;
  int64_t last_epoch_ = 0;
};

}  // namespace kn::optim
