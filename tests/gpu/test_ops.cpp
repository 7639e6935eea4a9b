// Every CUDA op (but gemm, tested in its own file) against its CPU twin on fresh random
// inputs of odd shapes. Outputs are poisoned with NaN first, so an element the kernel
// forgot to write fails; beta == 0 runs on a poisoned output, so reading it would too.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include <kernelnet/ops.hpp>
#include <kernelnet/cuda/runtime.hpp>

#include "gpu_test_util.hpp"

using kn::test::DeviceArray;
using kn::test::random_floats;
using kn::test::random_ints;

namespace {

using OpShape = std::pair<int, int>;  // rows, cols
const std::vector<OpShape> kOpShapes = {{1, 1},     {17, 33}, {127, 129}, {1000, 10}, {120, 10},
                                    {120, 3},   {5, 1},   {1, 4099},  {3001, 7}};
const std::vector<int64_t> kSizes = {1, 2, 17, 33 * 17, 127 * 129, 1000003};
const std::vector<float> kBetas = {0.0f, 1.0f, 0.5f};

// Floats that are multiples of 1/8 in [-1, 1]: their sums are exact in any order (as
// long as they stay below 2^21), so a reduction over a million rows can be checked
// exactly, whatever order the GPU adds in. Not inlined: inlined with a constant n of 3,
// GCC 12 warns (-Warray-bounds) about the AVX-512 loop body it keeps for larger n.
[[gnu::noinline]] std::vector<float> dyadic_floats(std::size_t n, std::uint64_t seed) {
  std::vector<int64_t> k = random_ints(n, seed, -8, 8);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(k[i]) / 8.0f;
  return v;
}

int64_t launches() { return kn::cuda::stats(0).launches; }

}  // namespace

TEST_CASE("fill writes every element", "[gpu]") {
  for (int64_t n : kSizes) {
    DeviceArray<float> x(n);
    x.poison();
    kn::cuda::fill(x.get(), -2.5f, n, 0);
    std::vector<float> ref(n);
    kn::cpu::fill(ref.data(), -2.5f, n);
    INFO("n = " << n);
    KN_CHECK_CLOSE(x.download(), ref, 0.0, 0.0);
  }
}

TEST_CASE("accumulate matches the CPU for beta 0, 1 and 0.5", "[gpu]") {
  for (float beta : kBetas)
    for (int64_t n : kSizes) {
      const auto x = random_floats(n, 1 + n);
      auto ref = random_floats(n, 2 + n);
      DeviceArray<float> dx(x), dy(n);
      if (beta == 0.0f) dy.poison();
      else dy.upload(ref);
      kn::cuda::accumulate(dy.get(), dx.get(), n, beta, 0);
      kn::cpu::accumulate(ref.data(), x.data(), n, beta);
      INFO("n = " << n << ", beta = " << beta);
      KN_CHECK_CLOSE(dy.download(), ref, 1e-6, 1e-6);
    }
}

TEST_CASE("relu_forward and relu_backward match the CPU", "[gpu]") {
  for (int64_t n : kSizes) {
    INFO("n = " << n);
    const auto x = random_floats(n, 10 + n);
    DeviceArray<float> dev_x(x), dev_y(n);
    dev_y.poison();
    kn::cuda::relu_forward(dev_y.get(), dev_x.get(), n, 0);
    std::vector<float> y(n);
    kn::cpu::relu_forward(y.data(), x.data(), n);
    KN_CHECK_CLOSE(dev_y.download(), y, 0.0, 0.0);

    const auto dy = random_floats(n, 11 + n);
    DeviceArray<float> dev_dy(dy), dev_dx(n);
    for (float beta : kBetas) {
      INFO("beta = " << beta);
      auto dx = random_floats(n, 12 + n);
      if (beta == 0.0f) dev_dx.poison();
      else dev_dx.upload(dx);
      kn::cuda::relu_backward(dev_dx.get(), dev_dy.get(), dev_y.get(), n, beta, 0);
      kn::cpu::relu_backward(dx.data(), dy.data(), y.data(), n, beta);
      KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 1e-6);
    }
  }
}

TEST_CASE("bias_add matches the CPU", "[gpu]") {
  for (auto [rows, cols] : kOpShapes) {
    INFO(rows << "x" << cols);
    auto y = random_floats(size_t(rows) * cols, rows * 7 + cols);
    const auto b = random_floats(cols, rows + cols * 7);
    DeviceArray<float> dev_y(y), dev_b(b);
    kn::cuda::bias_add(dev_y.get(), dev_b.get(), rows, cols, 0);
    kn::cpu::bias_add(y.data(), b.data(), rows, cols);
    KN_CHECK_CLOSE(dev_y.download(), y, 0.0, 0.0);
  }
}

TEST_CASE("bias_grad matches the CPU for beta 0, 1 and 0.5", "[gpu]") {
  auto shapes = kOpShapes;
  shapes.push_back({70000, 5});  // several row chunks, then the finishing pass
  shapes.push_back({2000, 1500});
  for (auto [rows, cols] : shapes)
    for (float beta : kBetas) {
      INFO(rows << "x" << cols << ", beta = " << beta);
      const auto dy = random_floats(size_t(rows) * cols, rows + cols);
      auto db = random_floats(cols, cols);
      DeviceArray<float> dev_dy(dy), dev_db(cols);
      if (beta == 0.0f) dev_db.poison();
      else dev_db.upload(db);
      kn::cuda::bias_grad(dev_db.get(), dev_dy.get(), rows, cols, beta, 0);
      kn::cpu::bias_grad(db.data(), dy.data(), rows, cols, beta);
      // Float sums of `rows` terms in different orders: the CPU's sequential sum
      // drifts by about eps * sqrt(rows) * |partial sum|.
      KN_CHECK_CLOSE(dev_db.download(), db, 2e-6 * rows, 1e-5);
    }
}

TEST_CASE("bias_grad over a million rows is exact on exactly summable inputs", "[gpu]") {
  const int rows = 1000000, cols = 3;
  const auto dy = dyadic_floats(size_t(rows) * cols, 99);
  for (float beta : {0.0f, 1.0f}) {
    auto db = dyadic_floats(cols, 5);
    DeviceArray<float> dev_dy(dy), dev_db(cols);
    if (beta == 0.0f) dev_db.poison();
    else dev_db.upload(db);
    kn::cuda::bias_grad(dev_db.get(), dev_dy.get(), rows, cols, beta, 0);
    kn::cpu::bias_grad(db.data(), dy.data(), rows, cols, beta);
    INFO("beta = " << beta);
    KN_CHECK_CLOSE(dev_db.download(), db, 0.0, 0.0);
  }
}

TEST_CASE("bias_grad with no rows gives beta * db", "[gpu]") {
  std::vector<float> db = {1.0f, -2.0f, 3.0f};
  DeviceArray<float> dev_db(db), no_rows(0);
  kn::cuda::bias_grad(dev_db.get(), no_rows.get(), 0, 3, 0.5f, 0);
  KN_CHECK_CLOSE(dev_db.download(), (std::vector<float>{0.5f, -1.0f, 1.5f}), 0.0, 0.0);
  dev_db.poison();
  kn::cuda::bias_grad(dev_db.get(), no_rows.get(), 0, 3, 0.0f, 0);
  KN_CHECK_CLOSE(dev_db.download(), (std::vector<float>{0.0f, 0.0f, 0.0f}), 0.0, 0.0);
}

TEST_CASE("softmax_ce_forward matches the CPU", "[gpu]") {
  const std::vector<OpShape> shapes = {{1, 1},   {17, 33},  {127, 129}, {1000, 10},     {120, 10},
                                     {120, 3}, {1, 4099}, {64, 3000}, {1000000, 3}};
  for (auto [rows, classes] : shapes) {
    INFO(rows << "x" << classes);
    const size_t n = size_t(rows) * classes;
    const auto logits = random_floats(n, rows + 3 * classes, -6.0f, 6.0f);
    const auto labels = random_ints(rows, rows * 3 + classes, 0, classes - 1);
    DeviceArray<float> dev_logits(logits), dev_dlogits(n), dev_loss(1);
    DeviceArray<int64_t> dev_labels(labels);
    dev_dlogits.poison();
    dev_loss.poison();
    kn::cuda::softmax_ce_forward(dev_loss.get(), dev_dlogits.get(), dev_logits.get(),
                                 dev_labels.get(), rows, classes, 0);
    std::vector<float> loss(1), dlogits(n);
    kn::cpu::softmax_ce_forward(loss.data(), dlogits.data(), logits.data(), labels.data(), rows,
                                classes);
    KN_CHECK_CLOSE(dev_loss.download(), loss, 1e-6, 1e-5);
    // Entries are p / rows; the label's is (p - 1) / rows, whose cancellation leaves an
    // error of a few ulps of 1 / rows.
    KN_CHECK_CLOSE(dev_dlogits.download(), dlogits, 1e-6 / rows, 5e-5);
  }
}

TEST_CASE("softmax_ce_forward is deterministic", "[gpu]") {
  const int rows = 1000000, classes = 3;
  const auto logits = random_floats(size_t(rows) * classes, 4, -6.0f, 6.0f);
  const auto labels = random_ints(rows, 5, 0, classes - 1);
  DeviceArray<float> dev_logits(logits), dev_dlogits(logits.size()), dev_loss(1);
  DeviceArray<int64_t> dev_labels(labels);
  std::vector<float> first_loss, first_dlogits;
  for (int run = 0; run < 3; ++run) {
    kn::cuda::softmax_ce_forward(dev_loss.get(), dev_dlogits.get(), dev_logits.get(),
                                 dev_labels.get(), rows, classes, 0);
    auto loss = dev_loss.download();
    auto dlogits = dev_dlogits.download();
    if (run == 0) {
      first_loss = std::move(loss);
      first_dlogits = std::move(dlogits);
    } else {
      CHECK(loss == first_loss);  // bit for bit
      CHECK(dlogits == first_dlogits);
    }
  }
}

TEST_CASE("softmax_ce_forward: a label out of range makes the loss NaN", "[gpu]") {
  const int rows = 120, classes = 3;
  const auto logits = random_floats(size_t(rows) * classes, 8);
  for (int64_t bad : {int64_t(-1), int64_t(classes), int64_t(1) << 40}) {
    INFO("bad label " << bad);
    auto labels = random_ints(rows, 9, 0, classes - 1);
    labels[77] = bad;
    DeviceArray<float> dev_logits(logits), dev_dlogits(logits.size()), dev_loss(1);
    DeviceArray<int64_t> dev_labels(labels);
    kn::cuda::softmax_ce_forward(dev_loss.get(), dev_dlogits.get(), dev_logits.get(),
                                 dev_labels.get(), rows, classes, 0);
    std::vector<float> loss(1), dlogits(logits.size());
    kn::cpu::softmax_ce_forward(loss.data(), dlogits.data(), logits.data(), labels.data(), rows,
                                classes);
    CHECK(std::isnan(loss[0]));
    CHECK(std::isnan(dev_loss.download()[0]));
  }
}

TEST_CASE("softmax_ce_forward with no rows writes a NaN loss, like the CPU", "[gpu]") {
  DeviceArray<float> dev_loss(std::vector<float>{1.0f}), none(0);
  DeviceArray<int64_t> no_labels(0);
  kn::cuda::softmax_ce_forward(dev_loss.get(), none.get(), none.get(), no_labels.get(), 0, 3, 0);
  float loss = 0.0f;
  kn::cpu::softmax_ce_forward(&loss, nullptr, nullptr, nullptr, 0, 3);
  CHECK(std::isnan(loss));
  CHECK(std::isnan(dev_loss.download()[0]));
}

TEST_CASE("softmax_ce_backward matches the CPU, reading dloss on the device", "[gpu]") {
  const std::vector<float> dloss = {0.37f};
  DeviceArray<float> dev_dloss(dloss);
  for (int64_t n : kSizes)
    for (float beta : kBetas) {
      INFO("n = " << n << ", beta = " << beta);
      const auto dlogits = random_floats(n, 20 + n);
      auto dx = random_floats(n, 21 + n);
      DeviceArray<float> dev_dlogits(dlogits), dev_dx(n);
      if (beta == 0.0f) dev_dx.poison();
      else dev_dx.upload(dx);
      kn::cuda::softmax_ce_backward(dev_dx.get(), dev_dlogits.get(), dev_dloss.get(), n, beta, 0);
      kn::cpu::softmax_ce_backward(dx.data(), dlogits.data(), dloss.data(), n, beta);
      KN_CHECK_CLOSE(dev_dx.download(), dx, 1e-6, 1e-6);
    }
}

namespace {
// Runs sgd_step on tensors of the given sizes, on the GPU and the CPU, and compares.
void check_sgd(const std::vector<int64_t>& sizes, float lr) {
  std::vector<std::vector<float>> params, grads;
  std::vector<DeviceArray<float>> dev_params, dev_grads;
  std::vector<float*> param_ptrs, dev_param_ptrs;
  std::vector<const float*> grad_ptrs, dev_grad_ptrs;
  for (size_t i = 0; i < sizes.size(); ++i) {
    params.push_back(random_floats(sizes[i], 100 + i));
    grads.push_back(random_floats(sizes[i], 200 + i));
    dev_params.emplace_back(params.back());
    dev_grads.emplace_back(grads.back());
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    param_ptrs.push_back(params[i].data());
    grad_ptrs.push_back(grads[i].data());
    dev_param_ptrs.push_back(dev_params[i].get());
    dev_grad_ptrs.push_back(dev_grads[i].get());
  }
  const int count = int(sizes.size());
  const int64_t before = launches();
  kn::cuda::sgd_step(dev_param_ptrs.data(), dev_grad_ptrs.data(), sizes.data(), count, lr, 0);
  const int64_t nonempty = std::count_if(sizes.begin(), sizes.end(), [](int64_t s) { return s > 0; });
  CHECK(launches() - before == (nonempty + 63) / 64);  // 64 tensors per launch
  kn::cpu::sgd_step(param_ptrs.data(), grad_ptrs.data(), sizes.data(), count, lr);
  for (size_t i = 0; i < sizes.size(); ++i) {
    INFO("tensor " << i << " of " << sizes.size() << ", size " << sizes[i]);
    KN_CHECK_CLOSE(dev_params[i].download(), params[i], 1e-6, 1e-6);
  }
}
}  // namespace

TEST_CASE("sgd_step updates tensors of different sizes in one launch", "[gpu]") {
  check_sgd({40, 10, 30, 3}, 0.1f);                          // the iris MLP
  check_sgd({1, 0, 17 * 33, 1000003, 2, 129 * 127}, 0.01f);  // with an empty tensor
}

TEST_CASE("sgd_step chunks more tensors than one launch carries", "[gpu]") {
  const auto sizes = random_ints(150, 77, 1, 3000);
  check_sgd(sizes, 0.05f);
  check_sgd({}, 0.05f);
}

TEST_CASE("argmax_rows matches the CPU, first index on ties", "[gpu]") {
  auto shapes = kOpShapes;
  shapes.push_back({300, 5000});
  shapes.push_back({100000, 3});
  for (auto [rows, cols] : shapes)
    for (bool ties : {false, true}) {
      INFO(rows << "x" << cols << (ties ? " with ties" : ""));
      const size_t n = size_t(rows) * cols;
      std::vector<float> x = random_floats(n, rows + cols + ties);
      if (ties)  // few distinct values: most rows have their maximum more than once
        for (auto& v : x) v = std::floor(v * 2.0f);
      DeviceArray<float> dev_x(x);
      DeviceArray<int64_t> dev_idx(rows);
      dev_idx.poison();
      kn::cuda::argmax_rows(dev_idx.get(), dev_x.get(), rows, cols, 0);
      std::vector<int64_t> idx(rows);
      kn::cpu::argmax_rows(idx.data(), x.data(), rows, cols);
      CHECK(dev_idx.download() == idx);
    }
}

TEST_CASE("count_equal matches the CPU", "[gpu]") {
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(17), int64_t(120), int64_t(1000003)}) {
    INFO("n = " << n);
    const auto a = random_ints(n, 30 + n, 0, 2), b = random_ints(n, 31 + n, 0, 2);
    DeviceArray<int64_t> dev_a(a), dev_b(b), dev_count(1);
    dev_count.poison();
    kn::cuda::count_equal(dev_count.get(), dev_a.get(), dev_b.get(), n, 0);
    int64_t count = -1;
    kn::cpu::count_equal(&count, a.data(), b.data(), n);
    CHECK(dev_count.download()[0] == count);
  }
}

TEST_CASE("ops on empty tensors launch nothing", "[gpu]") {
  DeviceArray<float> none(0);
  DeviceArray<int64_t> no_idx(0);
  float* p = none.get();
  const int64_t before = launches();
  kn::cuda::fill(p, 1.0f, 0, 0);
  kn::cuda::accumulate(p, p, 0, 0.0f, 0);
  kn::cuda::relu_forward(p, p, 0, 0);
  kn::cuda::relu_backward(p, p, p, 0, 1.0f, 0);
  kn::cuda::bias_add(p, p, 0, 5, 0);
  kn::cuda::bias_add(p, p, 5, 0, 0);
  kn::cuda::bias_grad(p, p, 7, 0, 0.0f, 0);
  kn::cuda::softmax_ce_backward(p, p, p, 0, 0.0f, 0);
  kn::cuda::argmax_rows(no_idx.get(), p, 0, 3, 0);
  kn::cuda::sgd_step(nullptr, nullptr, nullptr, 0, 0.1f, 0);
  kn::cuda::synchronize(0);
  CHECK(launches() == before);
}

// Past 2^31 elements an int index wraps: these need 64-bit indexing throughout. 8.6 GB
// per buffer, so they are tagged [large] and left out of the compute-sanitizer runs.
TEST_CASE("elementwise ops index past 2^31 elements", "[gpu][large]") {
  const int cols = 7;
  const int rows = int((int64_t(1) << 31) / cols + 1000);
  const int64_t n = int64_t(rows) * cols;
  REQUIRE(n > (int64_t(1) << 31));
  DeviceArray<float> x(n);
  std::vector<float> b(cols);
  std::iota(b.begin(), b.end(), 0.0f);
  DeviceArray<float> dev_b(b);
  kn::cuda::fill(x.get(), -1.5f, n, 0);
  kn::cuda::bias_add(x.get(), dev_b.get(), rows, cols, 0);  // x[i] = -1.5 + i % 7
  kn::cuda::relu_forward(x.get(), x.get(), n, 0);            // in place: elementwise ops allow it
  for (int64_t first : {int64_t(0), (int64_t(1) << 31) - 500, n - 1000}) {
    INFO("elements from " << first);
    const auto got = x.download(first, 1000);
    std::vector<float> want(1000);
    for (int64_t i = 0; i < 1000; ++i) want[i] = std::max(-1.5f + float((first + i) % cols), 0.0f);
    KN_CHECK_CLOSE(got, want, 0.0, 0.0);
  }
}
