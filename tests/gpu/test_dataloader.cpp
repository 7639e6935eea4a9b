// kn::data::DataLoader on CUDA: batches live on the dataset's device and hold the same
// rows, in the same order, as the same loader over the same data on the CPU.
#include <catch2/catch.hpp>

#include <vector>

#include <kernelnet/kernelnet.hpp>

using namespace kn;

namespace {
// Row i of the data is [i, 100 + i], its target 1000 + i.
data::TensorDataset numbered(int64_t n, Device d) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) x.push_back(float(i)), x.push_back(float(100 + i)), y.push_back(1000 + i);
  return data::TensorDataset(Tensor::from_vector(x, Shape{n, 2}).to(d), Tensor::from_vector(y, Shape{n}).to(d));
}
// The dataset rows of one epoch's batches, each row checked whole and paired.
std::vector<std::vector<int64_t>> epoch(data::DataLoader& loader, Device d) {
  std::vector<std::vector<int64_t>> out;
  for (auto& b : loader) {
    CHECK(b.data.device() == d);
    CHECK(b.target.device() == d);
    const auto x = b.data.to_vector<float>();
    const auto y = b.target.to_vector<int64_t>();
    REQUIRE(x.size() == 2 * y.size());
    std::vector<int64_t> rows;
    for (size_t k = 0; k < y.size(); ++k) {
      const auto r = int64_t(x[2 * k]);
      CHECK(x[2 * k + 1] == float(100 + r));
      CHECK(y[k] == 1000 + r);
      rows.push_back(r);
    }
    out.push_back(rows);
  }
  return out;
}
}  // namespace

TEST_CASE("DataLoader on CUDA: batches on the device, the same rows as on the CPU", "[gpu][data]") {
  const Device gpu = Device::cuda(0);
  for (bool shuffle : {false, true}) {
    auto opts = data::DataLoaderOptions().batch_size(6).shuffle(shuffle).seed(8);
    data::DataLoader on_cpu(numbered(20, Device::cpu()), opts), on_gpu(numbered(20, gpu), opts);
    for (int e = 0; e < 2; ++e) {
      INFO("shuffle " << shuffle << ", epoch " << e);
      const auto g = epoch(on_gpu, gpu);
      CHECK(g.size() == 4);
      CHECK(g == epoch(on_cpu, Device::cpu()));
    }
  }
}
