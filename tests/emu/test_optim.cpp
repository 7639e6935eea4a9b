// The optimiser kernels on the CPU harness (optim.cu's sgd_momentum_kernel and
// adam_kernel, and clip.cu's two kernels; sgd.cu's is in test_reductions.cpp), each against the CPU
// backend (kn::cpu) over lists of tensors of odd sizes (an empty one among them, and more
// tensors than one launch takes, so the batches split), on a 1-SM device (each thread
// loops) and a 132-SM one. A fresh momentum buffer, fresh Adam moments and the norm's
// output are poisoned with NaN: the kernels must write them before reading.
#include <cstdint>
#include <vector>

#include <kernelnet/ops/clip.hpp>
#include <kernelnet/ops/optim.hpp>

#include "emu_test.hpp"

using kn::test::DeviceArray;
using kn::test::random_floats;

namespace {

// A list of tensors both as host vectors (the CPU's) and as device arrays (the kernels').
struct Tensors {
  std::vector<std::vector<float>> host;
  std::vector<DeviceArray<float>> dev;
  std::vector<int64_t> sizes;
  Tensors(const std::vector<int64_t>& sz, uint64_t seed, float lo = -1.0f, float hi = 1.0f) : sizes(sz) {
    for (size_t i = 0; i < sz.size(); ++i) {
      host.push_back(random_floats(std::size_t(sz[i]), seed + i, lo, hi));
      dev.emplace_back(host.back());
    }
  }
  std::vector<float*> host_ptrs() {
    std::vector<float*> p;
    for (auto& h : host) p.push_back(h.data());
    return p;
  }
  std::vector<float*> dev_ptrs() {
    std::vector<float*> p;
    for (auto& d : dev) p.push_back(d.get());
    return p;
  }
  void poison() {
    for (auto& d : dev) d.poison();
  }
  void check(double atol, double rtol) {
    for (size_t i = 0; i < dev.size(); ++i) {
      INFO("tensor " << i << " of " << sizes[i] << " elements");
      KN_CHECK_CLOSE(dev[i].download(), host[i], atol, rtol);
    }
  }
};
std::vector<const float*> const_ptrs(const std::vector<float*>& v) { return {v.begin(), v.end()}; }

const std::vector<int64_t> kFew = {1, 31, 0, 257, 1000, 4099};
std::vector<int64_t> many(int n) {  // more tensors than one launch holds
  std::vector<int64_t> s;
  for (int i = 0; i < n; ++i) s.push_back(1 + (i * 37) % 300);
  return s;
}

}  // namespace

TEST_CASE("sgd_momentum_step matches the CPU: first step, later steps, Nesterov, weight decay", "[emu][optim]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (const auto& sizes : {kFew, many(70)}) {
      for (int variant = 0; variant < 3; ++variant) {
        kn::ops::SgdHyper h;
        h.lr = 0.05f;
        h.momentum = variant == 2 ? 0.0f : 0.9f;
        h.dampening = variant == 0 ? 0.25f : 0.0f;
        h.one_minus_dampening = 1.0f - h.dampening;
        h.weight_decay = variant == 0 ? 0.0f : 1e-2f;
        h.nesterov = variant == 1;
        INFO(sms << " SMs, " << sizes.size() << " tensors, variant " << variant);
        Tensors p(sizes, 10), g(sizes, 20), buf(sizes, 30);
        const int count = int(sizes.size());
        for (int step = 0; step < 2; ++step) {
          std::vector<uint8_t> fresh(sizes.size(), step == 0 ? 1 : 0);
          if (step == 0) buf.poison();  // a fresh buffer is written before it is read
          kn::cuda::sgd_momentum_step(p.dev_ptrs().data(), const_ptrs(g.dev_ptrs()).data(), buf.dev_ptrs().data(),
                                      fresh.data(), sizes.data(), count, h, 0);
          kn::cpu::sgd_momentum_step(p.host_ptrs().data(), const_ptrs(g.host_ptrs()).data(), buf.host_ptrs().data(),
                                     fresh.data(), sizes.data(), count, h);
        }
        p.check(1e-6, 1e-6);
        if (h.momentum != 0.0f) buf.check(1e-6, 1e-6);
      }
    }
  }
}

TEST_CASE("adam_step matches the CPU: first step, later steps, Adam, L2, amsgrad, AdamW's decoupled decay", "[emu][optim]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (const auto& sizes : {kFew, many(50)}) {
      for (int variant = 0; variant < 3; ++variant) {
        kn::ops::AdamHyper h;
        h.amsgrad = variant == 1;
        if (variant == 1) h.weight_decay = 1e-2f;
        if (variant == 2) h.decay = 1.0f - 0.01f * 0.1f;
        INFO(sms << " SMs, " << sizes.size() << " tensors, variant " << variant);
        Tensors p(sizes, 40), g(sizes, 50), m(sizes, 60, -0.1f, 0.1f), v(sizes, 70, 0.0f, 0.01f),
            vmax(sizes, 80, 0.0f, 0.01f);  // the host's values only matter where a step is not fresh
        const int count = int(sizes.size());
        std::vector<float> step_size(sizes.size()), bc2(sizes.size());
        for (size_t i = 0; i < sizes.size(); ++i) step_size[i] = 0.01f * float(i % 5 + 1), bc2[i] = 0.1f + 0.01f * float(i % 7);
        // Step 1 of a fresh state (the moments poisoned: they must not be read), then a
        // step from the moments it left, and one from moments given (half the tensors fresh).
        for (int step = 0; step < 3; ++step) {
          std::vector<uint8_t> fresh(sizes.size());
          for (size_t i = 0; i < sizes.size(); ++i) fresh[i] = step == 0 || (step == 2 && i % 2 == 0);
          if (step == 0) m.poison(), v.poison(), vmax.poison();
          kn::cuda::adam_step(p.dev_ptrs().data(), const_ptrs(g.dev_ptrs()).data(), m.dev_ptrs().data(),
                              v.dev_ptrs().data(), vmax.dev_ptrs().data(), fresh.data(), step_size.data(), bc2.data(),
                              sizes.data(), count, h, 0);
          kn::cpu::adam_step(p.host_ptrs().data(), const_ptrs(g.host_ptrs()).data(), m.host_ptrs().data(),
                             v.host_ptrs().data(), vmax.host_ptrs().data(), fresh.data(), step_size.data(), bc2.data(),
                             sizes.data(), count, h);
        }
        p.check(1e-6, 1e-5);
        m.check(1e-7, 1e-6);
        v.check(1e-9, 1e-6);
        if (h.amsgrad) vmax.check(1e-9, 1e-6);
      }
    }
  }
}

TEST_CASE("clip_grad_norm matches the CPU: the total norm, and gradients scaled or left", "[emu][optim]") {
  for (int sms : kn::test::kSmCounts) {
    kn::test::WithSms device(sms);
    for (const auto& sizes : {kFew, many(70), std::vector<int64_t>{0, 0}}) {
      for (float max_norm : {1.0f, 1e9f}) {
        INFO(sms << " SMs, " << sizes.size() << " tensors, max_norm " << max_norm);
        Tensors g(sizes, 90);
        DeviceArray<float> total(1);
        total.poison();
        float want = -1.0f;
        kn::cuda::clip_grad_norm(g.dev_ptrs().data(), sizes.data(), int(sizes.size()), max_norm, total.get(), 0);
        kn::cpu::clip_grad_norm(g.host_ptrs().data(), sizes.data(), int(sizes.size()), max_norm, &want);
        KN_CHECK_CLOSE(total.download(), std::vector<float>{want}, 1e-6, 1e-6);
        g.check(1e-7, 1e-6);
      }
    }
  }
}
