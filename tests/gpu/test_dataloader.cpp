// kn::data::DataLoader on CUDA: batches live on the dataset's device and hold the same
// rows, in the same order, as the same loader over the same data on the CPU.
#include <catch2/catch.hpp>

#include <vector>

#include <kernelnet/kernelnet.hpp>

#include "../dataloader_rows.hpp"

using namespace kn;

TEST_CASE("DataLoader on CUDA: batches on the device, the same rows as on the CPU", "[gpu][data]") {
  const Device gpu = Device::cuda(0);
  for (bool shuffle : {false, true}) {
    auto opts = data::DataLoaderOptions().batch_size(6).shuffle(shuffle).seed(8);
    data::DataLoader on_cpu(test::numbered(20), opts), on_gpu(test::numbered(20, gpu), opts);
    for (int e = 0; e < 2; ++e) {
      INFO("shuffle " << shuffle << ", epoch " << e);
      std::vector<std::vector<int64_t>> g;
      for (auto& b : on_gpu) {
        CHECK(b.data.device() == gpu);
        CHECK(b.target.device() == gpu);
        g.push_back(test::rows_of(b));
      }
      CHECK(g.size() == 4);
      CHECK(g == test::epoch(on_cpu));
    }
  }
}
