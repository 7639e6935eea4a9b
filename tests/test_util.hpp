// Helpers for the CPU suite.
#pragma once
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>   // open (release_fifo)
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // close

#include <catch2/catch.hpp>

#include <kernelnet/kernelnet.hpp>

namespace kn::test {

inline std::string fixture(const std::string& name) { return std::string(KN_FIXTURES_DIR) + "/" + name; }

// n floats drawn uniformly from [lo, hi), the same ones for the same seed.
inline std::vector<float> uniform_floats(std::size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A whole file as a string (the tests that read the project's own sources and docs).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lesson's model at Iris size (4-10-3), default-constructed, for the module and
// safetensors tests. (kn::iris::MLP in support/iris_train.hpp is the apps' one, sized
// by its constructor.)
struct MLP : Module {
  Linear fc1{4, 10};
  ReLU relu;
  Linear fc2{10, 3};
  MLP() {
    register_module("fc1", fc1);
    register_module("relu", relu);
    register_module("fc2", fc2);
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(fc1(x))); }
};

// A user-defined op, written as a user would (a Node with its own backward):
// loss = sum(y * R) for a fixed R, so dloss/dy = R. Tests use it to turn any
// tensor into a scalar whose gradient reaches every element.
struct WeightedSumBackward : Node {
  Tensor R;
  const char* name() const override { return "WeightedSumBackward"; }
  void backward(const Tensor& dout) override {
    if (GradSlot dy = slot(0)) {
      const float g = dout.data<float>()[0];
      float* d = dy.buffer.data<float>();
      const float* r = R.data<float>();
      // beta == 0: the buffer is fresh and uninitialised; never read it (0 * NaN is NaN).
      for (int64_t i = 0; i < R.numel(); ++i) d[i] = (dy.beta == 0.0f ? 0.0f : dy.beta * d[i]) + g * r[i];
    }
  }
};
inline Tensor weighted_sum(const Tensor& y, const Tensor& R) {
  REQUIRE(y.shape() == R.shape());
  Tensor out = Tensor::empty(Shape{});
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += double(y.data<float>()[i]) * R.data<float>()[i];
  out.data<float>()[0] = float(s);
  if (needs_grad(y)) {
    auto node = std::make_shared<WeightedSumBackward>();
    node->R = R;
    record(out, node, y);
  }
  return out;
}

// Central finite differences of f with respect to every element of each tensor in
// `wrt`, against the gradients backward() leaves in their .grad().
inline void gradcheck(const std::function<Tensor()>& f, std::vector<Tensor> wrt, double eps = 1e-2,
                      double atol = 2e-3, double rtol = 2e-2) {
  for (auto& t : wrt) clear_grad(t);
  Tensor loss = f();
  loss.backward();
  for (size_t k = 0; k < wrt.size(); ++k) {
    Tensor g = wrt[k].grad();
    REQUIRE(g.defined());
    float* p = wrt[k].data<float>();
    for (int64_t i = 0; i < wrt[k].numel(); ++i) {
      NoGradGuard ng;
      const float saved = p[i];
      p[i] = saved + float(eps);
      const double up = f().item();
      p[i] = saved - float(eps);
      const double down = f().item();
      p[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      const double analytic = g.data<float>()[i];
      INFO("tensor " << k << " element " << i << ": analytic " << analytic << ", numeric " << numeric);
      CHECK(std::fabs(analytic - numeric) <= atol + rtol * std::fabs(numeric));
    }
  }
}

// Random values in [lo, hi) from a fixed generator (inputs are never all zeros).
inline Tensor random_tensor(const Shape& shape, float lo = -1.0f, float hi = 1.0f, uint32_t seed = 7) {
  std::mt19937 gen(seed);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = uniform_float(gen, lo, hi);
  return t;
}

// The message of the kn::Error that `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The file at `path` holding exactly `bytes`.
inline void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// Opening a FIFO for reading and writing at once never waits, and lets the other end go.
inline void release_fifo(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK);
  if (fd >= 0) ::close(fd);
}

// PyTorch's losses for the lesson's run (tests/fixtures/torch-iris-seed1/losses.txt).
inline std::vector<float> fixture_losses() {
  std::ifstream in(fixture("torch-iris-seed1/losses.txt"));
  std::vector<float> v;
  for (float x; in >> x;) v.push_back(x);
  return v;
}

#ifdef KN_BINARY_DIR
// A fresh empty folder under the build directory ("<name>-XXXXXX"), removed when the
// test binary ends.
inline std::string temp_dir(const std::string& name) {
  static struct Made {
    std::vector<std::string> dirs;
    ~Made() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  } made;
  std::string templ = std::string(KN_BINARY_DIR) + "/" + name + "-XXXXXX";
  REQUIRE(::mkdtemp(templ.data()) != nullptr);
  made.dirs.push_back(templ);
  return templ;
}
#endif

}  // namespace kn::test
